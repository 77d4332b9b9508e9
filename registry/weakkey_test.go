package registry_test

import (
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/registry"
)

// TestValidatorSetRefusesWeakKeys (security review R2): a validator set
// that names a small-order key, which anyone can sign for (R = identity,
// S = 0 verifies every message under the identity key, in ZIP-215 and in
// crypto/ed25519 alike), or a non-canonical encoding of a key, is refused
// wherever a set is made (genesis, governance, jailing all call
// NewValidatorSet).
func TestValidatorSetRefusesWeakKeys(t *testing.T) {
	good := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	identity := make(ed25519.PublicKey, 32)
	identity[0] = 1 // the identity point (0, 1)
	sig := make([]byte, 64)
	copy(sig, identity) // R = identity, S = 0
	if !ed25519.Verify(identity, []byte("any vote"), sig) {
		t.Fatal("the premise: the identity key's forged signature does not verify")
	}
	nonCanonical := make(ed25519.PublicKey, 32)
	nonCanonical[0] = 0xee // y = p + 1 ≡ 1: the identity again, not canonical
	for i := 1; i < 31; i++ {
		nonCanonical[i] = 0xff
	}
	nonCanonical[31] = 0x7f
	for name, pub := range map[string]ed25519.PublicKey{"identity": identity, "non-canonical identity": nonCanonical} {
		_, err := registry.NewValidatorSet([]registry.Validator{{PubKey: good, Power: 10}, {PubKey: pub, Power: 1}})
		if !errors.Is(err, consensus.ErrInvalidValidatorSet) {
			t.Errorf("%s: %v, want ErrInvalidValidatorSet", name, err)
		}
	}
	if _, err := registry.NewValidatorSet([]registry.Validator{{PubKey: good, Power: 10}}); err != nil {
		t.Fatalf("a good set: %v", err)
	}
}
