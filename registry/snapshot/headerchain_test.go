package snapshot_test

import (
	"errors"
	"testing"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/snapshot"
)

// TestHeaderChainBatches: the header chain checked in batches of every
// size gives the header, sets and root VerifyHeaders gives; a batch with
// a lie (forged commit, missing header, changed set left out) is refused
// without changing the chain, and the honest batch is then accepted, as
// a syncing node does when it asks another peer.
func TestHeaderChainBatches(t *testing.T) {
	n := grown(t)
	st := n.chain.State()
	want, err := snapshot.VerifyHeaders(n.g, n.headers, st.Validators)
	if err != nil {
		t.Fatal(err)
	}
	for size := 1; size <= len(n.headers); size++ {
		c, err := snapshot.NewHeaderChain(n.g)
		if err != nil {
			t.Fatal(err)
		}
		for from := 0; from < len(n.headers); from += size {
			if err := c.Add(n.headers[from:min(from+size, len(n.headers))]); err != nil {
				t.Fatalf("batch size %d at %d: %v", size, from, err)
			}
		}
		if c.NextHash() != st.Validators.Hash() || len(c.Sets()) != 2 {
			t.Fatalf("batch size %d: next %s, %d sets", size, c.NextHash(), len(c.Sets()))
		}
		got, err := c.Trusted(st.Validators)
		if err != nil || got.Header.ID() != want.Header.ID() || got.Validators.Hash() != want.Validators.Hash() || got.NextValidators.Hash() != want.NextValidators.Hash() {
			t.Fatalf("batch size %d: %+v %v", size, got, err)
		}
	}
	lies := map[string]func() []snapshot.SignedHeader{
		"forged commit": func() []snapshot.SignedHeader {
			hs := append([]snapshot.SignedHeader(nil), n.headers[2:5]...)
			cm := *hs[1].Commit
			cm.Signatures = append([]registry.CommitSig(nil), cm.Signatures...)
			sig := append([]byte(nil), cm.Signatures[0].Signature...)
			sig[0] ^= 1
			cm.Signatures[0].Signature = sig
			hs[1].Commit = &cm
			return hs
		},
		"header missing": func() []snapshot.SignedHeader { return append(n.headers[2:3:3], n.headers[4]) },
		"set left out": func() []snapshot.SignedHeader {
			hs := append([]snapshot.SignedHeader(nil), n.headers[2:5]...)
			hs[2].Validators = nil
			return hs
		},
		"wrong start": func() []snapshot.SignedHeader { return n.headers[3:5] },
	}
	for name, lie := range lies {
		t.Run(name, func(t *testing.T) {
			c, _ := snapshot.NewHeaderChain(n.g)
			if err := c.Add(n.headers[:2]); err != nil {
				t.Fatal(err)
			}
			if err := c.Add(lie()); !errors.Is(err, snapshot.ErrUntrustedHeader) {
				t.Fatalf("lie accepted: %v", err)
			}
			if c.Height() != 2 {
				t.Fatalf("height %d after a refused batch", c.Height())
			}
			if err := c.Add(n.headers[2:]); err != nil {
				t.Fatalf("honest batch after the lie: %v", err)
			}
			if _, err := c.Trusted(st.Validators); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Trusted(n.headers[0].Validators); !errors.Is(err, snapshot.ErrUntrustedHeader) {
				t.Fatalf("no next set: %v", err)
			}
		})
	}
}

// TestViewIsFixed: a store's view keeps the state of its moment while
// blocks go on, and a snapshot built from it restores that height.
func TestViewIsFixed(t *testing.T) {
	n := grown(t)
	st := n.chain.State()
	v, err := n.store.View()
	if err != nil {
		t.Fatal(err)
	}
	defer v.Release()
	n.next(t, sets("did:z:", 0, 40)...)
	vst, ok, err := v.State()
	if err != nil || !ok || vst.Height != st.Height {
		t.Fatalf("view state %d %v %v, want %d", vst.Height, ok, err, st.Height)
	}
	var chunks [][]byte
	if _, err := snapshot.Build(v, st.Height, [32]byte(st.StateRoot), 8<<10, func(c []byte) error {
		chunks = append(chunks, append([]byte(nil), c...))
		return nil
	}); err != nil {
		t.Fatalf("build from the view after another block: %v", err)
	}
	if _, err := snapshot.Build(n.store, st.Height, [32]byte(st.StateRoot), 8<<10, func([]byte) error { return nil }); !errors.Is(err, snapshot.ErrStateMismatch) {
		t.Fatalf("build from the moved store: %v", err)
	}
	vf := snapshot.NewVerifier(st.Height, [32]byte(st.StateRoot))
	for _, c := range chunks {
		if _, err := vf.Verify(c); err != nil {
			t.Fatal(err)
		}
	}
	if !vf.Done() {
		t.Fatal("not done")
	}
}
