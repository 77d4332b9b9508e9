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
