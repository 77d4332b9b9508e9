package privval_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/privval"
	"github.com/idmesh/idmesh/registry"
)

const chainID = "idmesh-test"

func prevote(h uint64, r int32, block byte) []byte {
	return consensus.PrevoteSignBytes(chainID, h, uint32(r), registry.Sum([]byte{block}))
}

func precommit(h uint64, r int32, block byte) []byte {
	return consensus.VoteSignBytes(chainID, h, uint32(r), registry.Sum([]byte{block}))
}

func proposal(h uint64, r, pol int32, block byte) []byte {
	p := &consensus.Proposal[*registry.Block]{Height: h, Round: r, POLRound: pol, Block: &registry.Block{Header: registry.Header{Height: h, ChainID: string([]byte{block})}}}
	return p.SignBytes(chainID)
}

func TestParseSignBytes(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want privval.Target
	}{
		{"prevote", prevote(7, 3, 1), privval.Target{ChainID: chainID, Height: 7, Round: 3, Step: privval.StepPrevote}},
		{"precommit", precommit(1<<40, 0, 1), privval.Target{ChainID: chainID, Height: 1 << 40, Round: 0, Step: privval.StepPrecommit}},
		{"proposal", proposal(9, 2, 1, 1), privval.Target{ChainID: chainID, Height: 9, Round: 2, Step: privval.StepProposal}},
		{"proposal without a proof-of-lock round", proposal(9, 0, consensus.NilRound, 1), privval.Target{ChainID: chainID, Height: 9, Round: 0, Step: privval.StepProposal}},
		{"vote of an empty chain ID", consensus.PrevoteSignBytes("", 2, 1, registry.Hash{}), privval.Target{Height: 2, Round: 1, Step: privval.StepPrevote}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := privval.ParseSignBytes(tt.b)
			if err != nil || got != tt.want {
				t.Fatalf("ParseSignBytes = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	bad := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"unknown tag", []byte("idmesh/status/v1\x00whatever")},
		{"a trust change, say", []byte(`{"trust":"did:example:1"}`)},
		{"vote cut short", prevote(7, 3, 1)[:40]},
		{"vote with a trailing byte", append(prevote(7, 3, 1), 0)},
		{"proposal cut short", proposal(9, 2, 1, 1)[:50]},
		{"proposal with a trailing byte", append(proposal(9, 2, 1, 1), 0)},
		{"height 0", consensus.PrevoteSignBytes(chainID, 0, 0, registry.Hash{})},
		{"round out of range", consensus.PrevoteSignBytes(chainID, 1, 1<<31, registry.Hash{})},
		{"chain ID length past the end", append([]byte("idmesh/precommit/v1\x00"), 0xff, 0x01)},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := privval.ParseSignBytes(tt.b); !errors.Is(err, privval.ErrNotConsensus) {
				t.Fatalf("ParseSignBytes = %+v, %v; want ErrNotConsensus", got, err)
			}
		})
	}
}

func FuzzParseSignBytes(f *testing.F) {
	f.Add(prevote(7, 3, 1))
	f.Add(precommit(7, 3, 1))
	f.Add(proposal(9, 2, 1, 1))
	f.Add([]byte("idmesh/proposal/v1\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := privval.ParseSignBytes(b)
		if err != nil {
			return
		}
		// What parses as a vote encodes back to the same bytes.
		if got.Step != privval.StepProposal {
			var id registry.Hash
			copy(id[:], b[len(b)-32:])
			want := consensus.PrevoteSignBytes(got.ChainID, got.Height, uint32(got.Round), id)
			if got.Step == privval.StepPrecommit {
				want = consensus.VoteSignBytes(got.ChainID, got.Height, uint32(got.Round), id)
			}
			if !bytes.Equal(want, b) {
				t.Fatalf("%+v does not encode back to its bytes", got)
			}
		}
		if got.Height == 0 || got.Round < 0 {
			t.Fatalf("accepted %+v", got)
		}
	})
}

// TestSignerWatermark: steps are ordered proposal < prevote < precommit
// within a round; anything at or below the last signed is refused unless
// it is the very message last signed, which gets the same signature.
func TestSignerWatermark(t *testing.T) {
	key := ed25519.NewKeyFromSeed(seed(3))
	type req struct {
		b     []byte
		fails error
	}
	tests := []struct {
		name string
		reqs []req
	}{
		{"a round in order", []req{{proposal(5, 0, -1, 1), nil}, {prevote(5, 0, 1), nil}, {precommit(5, 0, 1), nil}, {proposal(5, 1, 0, 1), nil}, {prevote(6, 0, 2), nil}}},
		{"the same message again", []req{{prevote(5, 0, 1), nil}, {prevote(5, 0, 1), nil}}},
		{"a conflicting vote at the same step", []req{{prevote(5, 0, 1), nil}, {prevote(5, 0, 2), privval.ErrDoubleSign}}},
		{"a conflicting proposal at the same step", []req{{proposal(5, 0, -1, 1), nil}, {proposal(5, 0, -1, 2), privval.ErrDoubleSign}}},
		{"a proposal after the round's prevote", []req{{prevote(5, 0, 1), nil}, {proposal(5, 0, -1, 1), privval.ErrDoubleSign}}},
		{"a prevote after the precommit", []req{{precommit(5, 0, 1), nil}, {prevote(5, 0, 1), privval.ErrDoubleSign}}},
		{"an earlier round", []req{{prevote(5, 2, 1), nil}, {precommit(5, 1, 1), privval.ErrDoubleSign}}},
		{"an earlier height", []req{{prevote(5, 0, 1), nil}, {precommit(4, 9, 1), privval.ErrDoubleSign}}},
		{"an earlier message signed earlier", []req{{prevote(5, 0, 1), nil}, {precommit(5, 0, 1), nil}, {prevote(5, 0, 1), privval.ErrDoubleSign}}},
		{"not consensus bytes", []req{{[]byte("hello"), privval.ErrNotConsensus}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := privval.OpenSigner(key, "")
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range tt.reqs {
				sig, err := s.Sign(r.b)
				if !errors.Is(err, r.fails) || (err == nil) != (r.fails == nil) {
					t.Fatalf("request %d: err = %v, want %v", i, err, r.fails)
				}
				if err == nil && !ed25519.Verify(key.Public().(ed25519.PublicKey), r.b, sig) {
					t.Fatalf("request %d: bad signature", i)
				}
				if err != nil && sig != nil {
					t.Fatalf("request %d: a signature with a refusal", i)
				}
			}
		})
	}
}

// TestRestoredOldHomeRefuses: the watermark is on disk before anything is
// released; a home restored from an older copy of its state still
// refuses a conflicting vote at that copy's height, round and step, and
// gives the same signature for the same message.
func TestRestoredOldHomeRefuses(t *testing.T) {
	home := t.TempDir()
	path := filepath.Join(home, "privval_state.json")
	key := ed25519.NewKeyFromSeed(seed(4))
	s, err := privval.OpenSigner(key, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(); err != nil { // creates the file, at nothing signed
		t.Fatal(err)
	}
	first, err := s.Sign(prevote(5, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	backup, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Sign further.
	for _, b := range [][]byte{precommit(5, 0, 1), proposal(6, 0, -1, 1), prevote(6, 0, 1)} {
		if _, err := s.Sign(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if w := privvalAt(t, key, path); w.Height != 6 || w.Step != privval.StepPrevote {
		t.Fatalf("saved watermark %+v, want the prevote at height 6", w)
	}
	// Restore the old copy: the conflicting vote at its height, round and
	// step is refused, the same message is signed again identically.
	if err := os.WriteFile(path, backup, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = privval.OpenSigner(key, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(prevote(5, 0, 2)); !errors.Is(err, privval.ErrDoubleSign) || !strings.Contains(err.Error(), "prevote at height 5 round 0") {
		t.Fatalf("conflicting vote after restore: %v", err)
	}
	again, err := s.Sign(prevote(5, 0, 1))
	if err != nil || !bytes.Equal(again, first) {
		t.Fatalf("same vote after restore: %v", err)
	}
	// Nothing but the state file is left in the home; it is private.
	ents, _ := os.ReadDir(home)
	if len(ents) != 1 {
		t.Fatalf("home holds %d entries", len(ents))
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode %v", fi.Mode().Perm())
	}
}

func privvalAt(t *testing.T, key ed25519.PrivateKey, path string) privval.Watermark {
	t.Helper()
	s, err := privval.OpenSigner(key, path)
	if err != nil {
		t.Fatal(err)
	}
	return s.Last()
}

func TestSignerRaise(t *testing.T) {
	s, _ := privval.OpenSigner(ed25519.NewKeyFromSeed(seed(5)), "")
	s.Raise(privval.Floor(10))
	for _, b := range [][]byte{precommit(10, 1000, 1), proposal(10, 0, -1, 1)} {
		if _, err := s.Sign(b); !errors.Is(err, privval.ErrDoubleSign) {
			t.Fatalf("signed at a height the floor covers: %v", err)
		}
	}
	if _, err := s.Sign(proposal(11, 0, -1, 1)); err != nil {
		t.Fatal(err)
	}
	// Raising to something lower changes nothing; RaiseTo counts as signed.
	s.Raise(privval.Floor(3))
	if err := s.RaiseTo(prevote(11, 0, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(prevote(11, 0, 1)); err != nil {
		t.Fatalf("the message raised to: %v", err)
	}
	if _, err := s.Sign(prevote(11, 0, 2)); !errors.Is(err, privval.ErrDoubleSign) {
		t.Fatalf("conflict with the message raised to: %v", err)
	}
}

func TestOpenSignerRejectsBadState(t *testing.T) {
	for _, body := range []string{"not json", `{"height":3}`, `{"height":3,"round":0,"step":"vote"}`} {
		path := filepath.Join(t.TempDir(), "state.json")
		os.WriteFile(path, []byte(body), 0o600)
		if _, err := privval.OpenSigner(ed25519.NewKeyFromSeed(seed(5)), path); err == nil {
			t.Fatalf("opened state %q", body)
		}
	}
}

func TestCheckCommits(t *testing.T) {
	self, other := registry.Address{1}, registry.Address{2}
	commit := func(h uint64, r uint32, signers ...registry.Address) *registry.Commit {
		c := &registry.Commit{Height: h, Round: r}
		for _, s := range signers {
			c.Signatures = append(c.Signatures, registry.CommitSig{Validator: s, Signature: make([]byte, 64)})
		}
		return c
	}
	at := privval.Watermark{Height: 10, Round: 1, Step: privval.StepPrecommit}
	tests := []struct {
		name    string
		last    privval.Watermark
		commits []*registry.Commit
		height  string // in the error; empty: no error
	}{
		{"nothing above", at, []*registry.Commit{commit(9, 0, self, other), commit(10, 1, self, other)}, ""},
		{"others' signatures above", at, []*registry.Commit{commit(11, 0, other), commit(12, 0, other)}, ""},
		{"own precommit in a later round", at, []*registry.Commit{commit(10, 2, self)}, "height 10 round 2"},
		{"own precommits above: the highest is named", at, []*registry.Commit{commit(11, 0, self), commit(13, 0, self, other), commit(12, 0, self)}, "height 13 round 0"},
		{"a watermark at the prevote of the commit's round", privval.Watermark{Height: 10, Round: 1, Step: privval.StepPrevote}, []*registry.Commit{commit(10, 1, self)}, "height 10 round 1"},
		{"a fresh validator", privval.Watermark{}, []*registry.Commit{commit(1, 0, self)}, "height 1 round 0"},
		{"a floor", privval.Floor(10), []*registry.Commit{commit(10, 7, self), nil}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := privval.CheckCommits(tt.last, self, tt.commits)
			if tt.height == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, privval.ErrSignedAbove) || !strings.Contains(err.Error(), "commit of "+tt.height) {
				t.Fatalf("err = %v, want ErrSignedAbove naming %s", err, tt.height)
			}
		})
	}
}
