package consensus_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/consensus/consensustest"
)

func sampleCommit(t testing.TB, n int) (*consensus.ValidatorSet, *consensus.Commit) {
	t.Helper()
	vs, signers := consensustest.NewValidators(3, consensustest.Powers(n, false))
	id := consensus.Sum([]byte("block"))
	return vs, consensustest.MakeCommit("chain", signers, 7, 2, id)
}

func TestCommitEncoding(t *testing.T) {
	_, c := sampleCommit(t, 4)
	raw := c.Encode()
	if len(raw) != c.Size() {
		t.Fatalf("Size %d, encoding %d", c.Size(), len(raw))
	}
	got, err := consensus.DecodeCommit(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash() != c.Hash() || !bytes.Equal(got.Encode(), raw) {
		t.Fatal("decoded commit differs")
	}
	if (*consensus.Commit)(nil).Hash() != (consensus.Hash{}) {
		t.Fatal("a nil commit must hash to zero")
	}
	for name, b := range map[string][]byte{
		"empty":          nil,
		"truncated":      raw[:len(raw)-1],
		"trailing byte":  append(append([]byte(nil), raw...), 0),
		"too many sigs":  append(append([]byte(nil), raw[:44]...), 0, 0, 0x10, 0),
		"long signature": append(append(append([]byte(nil), raw[:44]...), 0, 0, 0, 1), append(make([]byte, 20), 0x81, 0x01)...),
		"non-minimal":    append(append(append([]byte(nil), raw[:44]...), 0, 0, 0, 1), append(make([]byte, 20), 0x80, 0x00)...),
	} {
		if _, err := consensus.DecodeCommit(b); !errors.Is(err, consensus.ErrMalformed) {
			t.Errorf("%s: err %v, want ErrMalformed", name, err)
		}
	}
}

func TestVerifyCommit(t *testing.T) {
	vs, c := sampleCommit(t, 4)
	if err := consensus.VerifyCommit("chain", vs, 7, c.BlockID, c); err != nil {
		t.Fatal(err)
	}
	two := *c
	two.Signatures = c.Signatures[:2]
	bad := *c
	bad.Signatures = append([]consensus.CommitSig(nil), c.Signatures...)
	bad.Signatures[0].Signature = bytes.Repeat([]byte{1}, 64)
	dup := *c
	dup.Signatures = append([]consensus.CommitSig{c.Signatures[0]}, c.Signatures...)
	for name, tc := range map[string]struct {
		chain string
		c     *consensus.Commit
		want  error
	}{
		"two of four":   {"chain", &two, consensus.ErrInsufficientPower},
		"bad signature": {"chain", &bad, consensus.ErrInvalidCommit},
		"duplicate":     {"chain", &dup, consensus.ErrInvalidCommit},
		"other chain":   {"other", c, consensus.ErrInvalidCommit},
		"missing":       {"chain", nil, consensus.ErrInvalidCommit},
	} {
		if err := consensus.VerifyCommit(tc.chain, vs, 7, c.BlockID, tc.c); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", name, err, tc.want)
		}
	}
}

// FuzzParseHash checks that hashes round-trip through their text form.
func FuzzParseHash(f *testing.F) {
	f.Add(consensus.Sum(nil).String())
	f.Add("zz")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := consensus.ParseHash(s)
		if err != nil {
			return
		}
		if h2, err := consensus.ParseHash(h.String()); err != nil || h2 != h {
			t.Fatalf("%q: round trip gives %v, %v", s, h2, err)
		}
	})
}

// The engine checks signatures with Config.Verify: one that refuses
// everything makes a peer's well-signed vote and proposal ErrBadSignature
// (and a nil Verify is ed25519.Verify, which accepts them).
func TestConfigVerify(t *testing.T) {
	vs, signers := consensustest.NewValidators(7, []int64{10, 10, 10, 10})
	for _, refuse := range []bool{false, true} {
		app := consensustest.NewApp(consensustest.AppConfig{ChainID: "v", Validators: func(uint64) *consensus.ValidatorSet { return vs }, Self: signers[0].Address()})
		cfg := consensustest.EngineConfig{ChainID: "v", Height: 1, Signer: signers[0], App: app}
		if refuse {
			cfg.Verify = func(ed25519.PublicKey, []byte, []byte) bool { return false }
		}
		e, err := consensus.New[*consensustest.Block](cfg)
		if err != nil {
			t.Fatal(err)
		}
		v := consensustest.SignVote(signers[1], "v", consensus.Prevote, 1, 0, consensus.Hash{})
		err = e.Step(consensustest.Message{From: signers[1].Address(), Vote: v})
		if refuse != errors.Is(err, consensus.ErrBadSignature) {
			t.Errorf("refusing verifier %v: vote err %v", refuse, err)
		}
	}
}
