package snapshot_test

import (
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/snapshot"
)

// signBy returns a commit of h by keys.
func signBy(chainID string, h *registry.Header, keys ...ed25519.PrivateKey) *registry.Commit {
	id := h.ID()
	c := &registry.Commit{Height: h.Height, BlockID: id}
	for _, k := range keys {
		c.Signatures = append(c.Signatures, registry.CommitSig{Validator: registry.AddressOf(k.Public().(ed25519.PublicKey)), Signature: ed25519.Sign(k, registry.VoteSignBytes(chainID, h.Height, 0, id))})
	}
	return c
}

func mustSet(t *testing.T, keys ...ed25519.PrivateKey) *registry.ValidatorSet {
	t.Helper()
	vs, err := registry.NewValidatorSet(validators(keys...))
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// TestVerifyHeaders: the header chain from genesis establishes the tip's
// header and state root, through a validator-set change, and every way to
// forge it is refused: a forged or short commit, a set change the
// previous header did not announce (an attacker's set, or the old set
// signing after it was replaced), a changed set left out, an altered or
// missing header, a wrong next set, another chain.
func TestVerifyHeaders(t *testing.T) {
	n := grown(t)
	st := n.chain.State()
	if n.headers[4].Validators == nil {
		t.Fatal("the set change is not in the headers")
	}
	tr, err := snapshot.VerifyHeaders(n.g, n.headers, st.Validators)
	if err != nil {
		t.Fatal(err)
	}
	last := n.headers[len(n.headers)-1]
	if tr.Header.ID() != last.Header.ID() || tr.Header.StateRoot != st.StateRoot || tr.Validators.Hash() != st.LastValidators.Hash() || tr.NextValidators.Hash() != st.Validators.Hash() {
		t.Fatalf("trusted %+v", tr)
	}
	k := validatorKey
	old := mustSet(t, k(0), k(1), k(2))
	cases := []struct {
		name string
		lie  func(hs []snapshot.SignedHeader) ([]snapshot.SignedHeader, *registry.ValidatorSet)
		want error
	}{
		{"forged commit signature", func(hs []snapshot.SignedHeader) ([]snapshot.SignedHeader, *registry.ValidatorSet) {
			c := *hs[1].Commit
			c.Signatures = append([]registry.CommitSig(nil), c.Signatures...)
			sig := append([]byte(nil), c.Signatures[0].Signature...)
			sig[0] ^= 1
			c.Signatures[0].Signature = sig
			hs[1].Commit = &c
			return hs, st.Validators
		}, registry.ErrInvalidBlock},
		{"commit of two thirds only", func(hs []snapshot.SignedHeader) ([]snapshot.SignedHeader, *registry.ValidatorSet) {
			c := *hs[3].Commit
			c.Signatures = c.Signatures[:2]
			hs[3].Commit = &c
			return hs, st.Validators
		}, registry.ErrInsufficientPower},
		{"no commit", func(hs []snapshot.SignedHeader) ([]snapshot.SignedHeader, *registry.ValidatorSet) {
			hs[2].Commit = nil
			return hs, st.Validators
		}, registry.ErrInvalidBlock},
		{"commit of another block", func(hs []snapshot.SignedHeader) ([]snapshot.SignedHeader, *registry.ValidatorSet) {
			hs[2].Commit = hs[1].Commit
			return hs, st.Validators
		}, registry.ErrInvalidBlock},
		{"unannounced set change to an attacker's set", func(hs []snapshot.SignedHeader) ([]snapshot.SignedHeader, *registry.ValidatorSet) {
			evil := mustSet(t, k(7), k(8), k(9))
			h := hs[1].Header
			h.ValidatorsHash, h.NextValidatorsHash = evil.Hash(), evil.Hash()
			hs[1] = snapshot.SignedHeader{Header: h, Commit: signBy(n.g.ChainID, &h, k(7), k(8), k(9)), Validators: evil}
			return hs[:2], evil
		}, snapshot.ErrUntrustedHeader},
		{"replaced set signing after the change", func(hs []snapshot.SignedHeader) ([]snapshot.SignedHeader, *registry.ValidatorSet) {
			h := hs[5].Header
			h.ValidatorsHash = old.Hash()
			hs[5] = snapshot.SignedHeader{Header: h, Commit: signBy(n.g.ChainID, &h, k(0), k(1), k(2)), Validators: old}
			return hs, st.Validators
		}, snapshot.ErrUntrustedHeader},
		{"changed set left out", func(hs []snapshot.SignedHeader) ([]snapshot.SignedHeader, *registry.ValidatorSet) {
			hs[4].Validators = nil
			return hs, st.Validators
		}, snapshot.ErrUntrustedHeader},
		{"state root altered", func(hs []snapshot.SignedHeader) ([]snapshot.SignedHeader, *registry.ValidatorSet) {
			hs[len(hs)-1].Header.StateRoot[0] ^= 1
			return hs, st.Validators
		}, registry.ErrInvalidBlock},
		{"header missing", func(hs []snapshot.SignedHeader) ([]snapshot.SignedHeader, *registry.ValidatorSet) {
			return append(hs[:2:2], hs[3:]...), st.Validators
		}, snapshot.ErrUntrustedHeader},
		{"header not linked to the previous", func(hs []snapshot.SignedHeader) ([]snapshot.SignedHeader, *registry.ValidatorSet) {
			h := hs[2].Header
			h.LastBlockID[0] ^= 1
			hs[2] = snapshot.SignedHeader{Header: h, Commit: signBy(n.g.ChainID, &h, k(0), k(1), k(2))}
			return hs, st.Validators
		}, snapshot.ErrUntrustedHeader},
		{"wrong next set", func(hs []snapshot.SignedHeader) ([]snapshot.SignedHeader, *registry.ValidatorSet) {
			return hs, old
		}, snapshot.ErrUntrustedHeader},
		{"no next set", func(hs []snapshot.SignedHeader) ([]snapshot.SignedHeader, *registry.ValidatorSet) {
			return hs, nil
		}, snapshot.ErrUntrustedHeader},
		{"no headers", func(hs []snapshot.SignedHeader) ([]snapshot.SignedHeader, *registry.ValidatorSet) {
			return nil, st.Validators
		}, snapshot.ErrUntrustedHeader},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hs := append([]snapshot.SignedHeader(nil), n.headers...)
			hs, next := tc.lie(hs)
			_, err := snapshot.VerifyHeaders(n.g, hs, next)
			if !errors.Is(err, tc.want) || !errors.Is(err, snapshot.ErrUntrustedHeader) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("another chain", func(t *testing.T) {
		g := *n.g
		g.ChainID = "other"
		if _, err := snapshot.VerifyHeaders(&g, n.headers, st.Validators); !errors.Is(err, snapshot.ErrUntrustedHeader) {
			t.Fatalf("got %v", err)
		}
	})
}
