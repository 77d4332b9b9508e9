package consensus_test

import (
	"bytes"
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
