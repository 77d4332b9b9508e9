package registry_test

import (
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/idmesh/idmesh/did/zip215/zip215test"
	"github.com/idmesh/idmesh/registry"
)

// TestConsensusSignatureRuleIsZIP215: the chain's rule (VerifySignature,
// which VerifyCommit, governance and evidence use) accepts a signature
// that only the cofactored ZIP-215 equation accepts, and still rejects a
// forged one; a commit signed that way verifies.
func TestConsensusSignatureRuleIsZIP215(t *testing.T) {
	keys := []*zip215test.Key{zip215test.NewKey(1), zip215test.NewKey(2), zip215test.NewKey(3)}
	vals := make([]registry.Validator, len(keys))
	for i, k := range keys {
		vals[i] = registry.Validator{PubKey: ed25519.PublicKey(k.Public()), Power: 10}
	}
	vs, err := registry.NewValidatorSet(vals)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("m")
	sig := keys[0].Sign(msg)
	if ed25519.Verify(keys[0].Public(), msg, sig) {
		t.Fatal("crypto/ed25519 accepts the cofactored-only signature")
	}
	if !registry.VerifySignature(keys[0].Public(), msg, sig) {
		t.Fatal("VerifySignature rejects a ZIP-215 signature")
	}
	forged := append([]byte(nil), sig...)
	forged[40] ^= 1
	if registry.VerifySignature(keys[0].Public(), msg, forged) {
		t.Fatal("VerifySignature accepts a changed signature")
	}

	var id registry.Hash
	id[0] = 9
	c := &registry.Commit{Height: 5, Round: 1, BlockID: id}
	signBytes := registry.VoteSignBytes("zip", 5, 1, id)
	for _, k := range keys {
		c.Signatures = append(c.Signatures, registry.CommitSig{Validator: registry.Validator{PubKey: k.Public()}.Address(), Signature: k.Sign(signBytes)})
	}
	if err := registry.VerifyCommit("zip", vs, 5, id, c); err != nil {
		t.Fatalf("commit with ZIP-215 signatures: %v", err)
	}
	c.Signatures[1].Signature = forged
	if err := registry.VerifyCommit("zip", vs, 5, id, c); !errors.Is(err, registry.ErrInvalidBlock) {
		t.Fatalf("commit with a bad signature: %v", err)
	}
}
