package p2p

import (
	"bytes"
	"testing"

	"github.com/idmesh/idmesh/registry"
)

func FuzzDecodeBatch(f *testing.F) {
	b := newTxBatcher()
	for _, p := range []string{"set a 1", "set b 2"} {
		t := registry.Tx{Type: registry.TxDIDOperation, Payload: []byte(p)}
		b.markSeen(t.Hash())
		b.pending = append(b.pending, t.Encode())
	}
	f.Add(b.take())
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		txs, err := decodeBatch(data)
		if err != nil {
			return
		}
		// Re-encode: a decoded batch has exactly one encoding.
		re := newTxBatcher()
		for _, tx := range txs {
			re.pending = append(re.pending, tx.Encode())
		}
		if got := re.take(); !bytes.Equal(got, data) {
			t.Fatal("a decoded batch re-encodes differently")
		}
	})
}

// TestTakeWithinBatchBounds: transactions that pile up beyond one batch
// (large ones arriving while a full batch waits) are taken in batches
// that decodeBatch accepts, in order, none lost.
func TestTakeWithinBatchBounds(t *testing.T) {
	b := newTxBatcher()
	const n = 150 // about 9 MB of 61 KB transactions: more than two batches
	var want []registry.Hash
	for i := range n {
		tx := registry.Tx{Type: registry.TxDIDOperation, Payload: bytes.Repeat([]byte{byte(i)}, 61_000)}
		b.markSeen(tx.Hash())
		b.pending = append(b.pending, tx.Encode())
		b.size += len(tx.Encode())
		want = append(want, tx.Hash())
	}
	var got []registry.Hash
	batches := 0
	for data := b.take(); data != nil; data = b.take() {
		txs, err := decodeBatch(data)
		if err != nil {
			t.Fatalf("batch %d: %v", batches, err)
		}
		for _, tx := range txs {
			got = append(got, tx.Hash())
		}
		batches++
	}
	if len(got) != n || batches < 3 || b.size != 0 {
		t.Fatalf("%d transactions in %d batches, %d bytes left", len(got), batches, b.size)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("transaction %d out of order", i)
		}
	}
}
