package zip215test_test

import (
	"crypto/ed25519"
	"testing"

	"github.com/idmesh/idmesh/did/zip215"
	"github.com/idmesh/idmesh/did/zip215/zip215test"
)

func TestOnlyZIP215Accepts(t *testing.T) {
	for seed := range byte(8) {
		k := zip215test.NewKey(seed)
		msg := []byte{seed, 'm'}
		sig := k.Sign(msg)
		if !zip215.Verify(k.Public(), msg, sig) {
			t.Errorf("seed %d: zip215 rejects", seed)
		}
		if ed25519.Verify(k.Public(), msg, sig) {
			t.Errorf("seed %d: crypto/ed25519 accepts", seed)
		}
	}
}
