package registry_test

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/idmesh/idmesh/registry"
)

// TestTxHashIsHashOfEncoding checks that Hash, which hashes the
// encoding's parts without building it, names the transaction as the
// SHA-256 of its encoding, across the payload lengths where the length
// prefix grows.
func TestTxHashIsHashOfEncoding(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.OneOf(rapid.IntRange(0, 300), rapid.IntRange(16_000, 17_000)).Draw(t, "len")
		tx := registry.Tx{
			Type:    registry.TxType(rapid.Uint8().Draw(t, "type")),
			Payload: rapid.SliceOfN(rapid.Byte(), n, n).Draw(t, "payload"),
		}
		if got, want := tx.Hash(), registry.Sum(tx.Encode()); got != want {
			t.Fatalf("Hash %s, want SHA-256 of the encoding %s", got, want)
		}
	})
}

// TestTxHashMemoFollowsPayload: a Tx that remembers its hash (DecodeTx,
// WithHash) hashes again once given another payload or type, whether the
// new payload is another slice, a part of the old one, or the old one
// grown; copies keep the hash. It runs with the test binaries' own check
// off, so that it sees what Hash returns in the node.
func TestTxHashMemoFollowsPayload(t *testing.T) {
	defer registry.SetVerifyTxMemo(false)()
	decoded := func() registry.Tx {
		tx, err := registry.DecodeTx(registry.Tx{Type: registry.TxDIDOperation, Payload: []byte(`{"a":1}`)}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	built := func() registry.Tx {
		return registry.Tx{Type: registry.TxDIDOperation, Payload: []byte(`{"a":1}`)}.WithHash()
	}
	for _, src := range []struct {
		name string
		tx   func() registry.Tx
	}{{"DecodeTx", decoded}, {"WithHash", built}} {
		for _, tc := range []struct {
			name   string
			change func(*registry.Tx)
		}{
			{"unchanged", func(*registry.Tx) {}},
			{"copy", func(tx *registry.Tx) { c := *tx; *tx = c }},
			{"another payload", func(tx *registry.Tx) { tx.Payload = []byte(`{"a":2}`) }},
			{"a copy of the payload", func(tx *registry.Tx) { tx.Payload = append([]byte(nil), tx.Payload...) }},
			{"prefix", func(tx *registry.Tx) { tx.Payload = tx.Payload[:3] }},
			{"suffix", func(tx *registry.Tx) { tx.Payload = tx.Payload[1:] }},
			{"grown", func(tx *registry.Tx) { tx.Payload = append(tx.Payload, '}') }},
			{"grown in place", func(tx *registry.Tx) {
				p := make([]byte, len(tx.Payload), len(tx.Payload)+1)
				copy(p, tx.Payload)
				tx.Payload = p
				*tx = tx.WithHash()
				tx.Payload = append(tx.Payload, ' ')
			}},
			{"another type", func(tx *registry.Tx) { tx.Type = registry.TxSchema }},
			{"emptied", func(tx *registry.Tx) { tx.Payload = nil }},
			{"rehashed", func(tx *registry.Tx) { tx.Payload = []byte(`{"b":2}`); *tx = tx.WithHash() }},
		} {
			t.Run(src.name+"/"+tc.name, func(t *testing.T) {
				tx := src.tx()
				tc.change(&tx)
				if got, want := tx.Hash(), registry.Sum(tx.Encode()); got != want {
					t.Fatalf("Hash %s, want SHA-256 of the encoding %s", got, want)
				}
			})
		}
	}
}

// TestTxHashMemoCatchesWrites: in test binaries, a remembered hash whose
// payload was written into is a panic, not a stale name.
func TestTxHashMemoCatchesWrites(t *testing.T) {
	tx := registry.Tx{Type: registry.TxDIDOperation, Payload: []byte(`{"a":1}`)}.WithHash()
	tx.Payload[5] = '2'
	defer func() {
		if recover() == nil {
			t.Fatal("a payload written after hashing kept its old hash without a panic")
		}
	}()
	_ = tx.Hash()
}
