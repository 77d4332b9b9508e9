package snapshot_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
	"github.com/idmesh/idmesh/registry/smt"
	"github.com/idmesh/idmesh/registry/snapshot"
)

// restore verifies n's header chain and restores chunks into a new
// store, returning it and the chain state Finish recorded.
func restore(t *testing.T, n *testNet, chunks [][]byte) (*leveldb.Store, registry.ChainState) {
	t.Helper()
	st := n.chain.State()
	trusted, err := snapshot.VerifyHeaders(n.g, n.headers, st.Validators)
	if err != nil {
		t.Fatal(err)
	}
	if trusted.Header.StateRoot != st.StateRoot {
		t.Fatalf("trusted root %s, want %s", trusted.Header.StateRoot, st.StateRoot)
	}
	dst, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dst.Close() })
	r, err := snapshot.NewRestorer(dst, n.g, trusted)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range chunks {
		if r.Verifier().Done() {
			t.Fatalf("done after %d of %d chunks", i, len(chunks))
		}
		if err := r.Apply(c); err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
	}
	got, err := r.Finish(n.blocks[len(n.blocks)-1])
	if err != nil {
		t.Fatal(err)
	}
	return dst, got
}

// TestRoundTrip: the state at the tip, chunked and restored into an empty
// store, has the same root, the same values and the same proofs (of
// presence and absence); the chain state is the one the source has, with
// the validator sets a governance change scheduled; and the restored
// store opens as a chain that accepts the next block.
func TestRoundTrip(t *testing.T) {
	for _, target := range []int{0, 4 << 10, 600} {
		t.Run(fmt.Sprint(target), func(t *testing.T) {
			n := grown(t)
			n.next(t, n.changeSet(t, validatorKey(0), validatorKey(1), validatorKey(2), validatorKey(3)))
			n.next(t, sets("did:d:", 0, 10)...)
			chunks := n.build(t, target)
			limit := target
			if limit == 0 {
				limit = snapshot.DefaultChunkBytes
			}
			for i, c := range chunks {
				if len(c) <= limit {
					continue
				}
				// Only a chunk of one entry may be larger.
				if d, err := snapshot.DecodeChunk(c); err != nil || len(d.Parts) != 1 || len(d.Parts[0].Entries) != 1 {
					t.Errorf("chunk %d: %d bytes over %d", i, len(c), limit)
				}
			}
			if target != 0 && len(chunks) < 5 {
				t.Fatalf("%d chunks only", len(chunks))
			}
			dst, got := restore(t, n, chunks)
			want := n.chain.State()
			wj, _ := json.Marshal(want)
			gj, _ := json.Marshal(got)
			if !bytes.Equal(wj, gj) {
				t.Fatalf("chain state\n got %s\nwant %s", gj, wj)
			}
			root := smt.Hash(want.StateRoot)
			var keys [][]byte
			if err := n.store.Scan(nil, func(k, v []byte) bool {
				keys = append(keys, append([]byte(nil), k...))
				got, err := dst.Get(k)
				if err != nil || !bytes.Equal(got, v) {
					t.Errorf("key %q: %q, %v; want %q", k, got, err, v)
				}
				return true
			}); err != nil {
				t.Fatal(err)
			}
			if c, err := snapshot.CheckTree(dst, root); err != nil || c != len(keys) {
				t.Fatalf("restored tree: %d leaves, %v; want %d", c, err, len(keys))
			}
			keys = append(keys, []byte("absent"), []byte("did:z:1"))
			for _, k := range keys {
				tk := smt.Hash(registry.Sum(k))
				p1, err1 := smt.Prove(n.store, root, tk)
				p2, err2 := smt.Prove(dst, root, tk)
				if err1 != nil || err2 != nil || !bytes.Equal(p1.Encode(), p2.Encode()) {
					t.Fatalf("proof of %q differs: %v %v", k, err1, err2)
				}
			}

			// The restored store is a chain at the snapshot's height that
			// proves at that height, not below, and takes the next block.
			c2, err := registry.OpenChain(dst, n.g, machine())
			if err != nil {
				t.Fatal(err)
			}
			if _, _, _, _, err := c2.ProveKeyAt([]byte("did:a:00001"), want.Height); err != nil {
				t.Fatal(err)
			}
			if _, _, _, _, err := c2.ProveKeyAt([]byte("did:a:00001"), want.Height-1); !errors.Is(err, registry.ErrPruned) {
				t.Fatalf("proof below the base: %v, want ErrPruned", err)
			}
			b := n.next(t, sets("did:e:", 0, 5)...)
			if _, err := c2.Commit(b, n.headers[len(n.headers)-1].Commit); err != nil {
				t.Fatalf("block after the snapshot: %v", err)
			}
			if c2.State().StateRoot != n.chain.State().StateRoot {
				t.Fatal("the next block gives another root on the restored node")
			}
			b = n.next(t, sets("did:f:", 0, 5)...)
			if _, err := c2.Commit(b, n.headers[len(n.headers)-1].Commit); err != nil {
				t.Fatalf("second block after the snapshot: %v", err)
			}
		})
	}
}

// TestEmptyState: the empty state has no chunks; a chunk for it is
// refused.
func TestEmptyState(t *testing.T) {
	n := newTestNet(t)
	n.next(t)
	if chunks := n.build(t, 0); len(chunks) != 0 {
		t.Fatalf("%d chunks of the empty state", len(chunks))
	}
	dst, st := restore(t, n, nil)
	if st.Height != 1 || st.StateRoot != (registry.Hash{}) {
		t.Fatalf("state %+v", st)
	}
	_ = dst
	other := grown(t)
	v := snapshot.NewVerifier(1, smt.Empty)
	if _, err := v.Verify(other.build(t, 0)[0]); !errors.Is(err, snapshot.ErrComplete) {
		t.Fatalf("chunk of an empty state: %v", err)
	}
}

// TestBuildStateMoved: a snapshot asked for a root the values no longer
// give fails with ErrStateMismatch rather than emitting a chunk peers
// would refuse.
func TestBuildStateMoved(t *testing.T) {
	n := grown(t)
	old := n.chain.State()
	n.next(t, registrytest.ToyTx("set did:a:00001 changed"))
	_, err := snapshot.Build(n.store, old.Height, smt.Hash(old.StateRoot), 0, func([]byte) error { return nil })
	if !errors.Is(err, snapshot.ErrStateMismatch) {
		t.Fatalf("build from moved state: %v", err)
	}
}
