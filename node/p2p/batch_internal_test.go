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
