package registry

import (
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/idmesh/idmesh/registry/smt"
)

type countingNodes struct {
	reads int
	nodes map[smt.Hash][]byte
}

func (c *countingNodes) Node(h smt.Hash) ([]byte, error) {
	c.reads++
	if b, ok := c.nodes[h]; ok {
		return b, nil
	}
	return nil, smt.ErrMissingNode
}

// TestNodeCache: a node is read from the store once, then from the cache;
// a missing node is not remembered; the cache forgets its oldest beyond
// its bound.
func TestNodeCache(t *testing.T) {
	store := &countingNodes{nodes: map[smt.Hash][]byte{{1}: []byte("one")}}
	r := cachedNodes{r: store, c: newNodeCache()}
	for range 3 {
		if b, err := r.Node(smt.Hash{1}); err != nil || string(b) != "one" {
			t.Fatalf("node: %q %v", b, err)
		}
	}
	for range 2 {
		if _, err := r.Node(smt.Hash{2}); !errors.Is(err, smt.ErrMissingNode) {
			t.Fatalf("missing node: %v", err)
		}
	}
	if store.reads != 3 {
		t.Fatalf("%d store reads, want 3 (one hit, two misses)", store.reads)
	}
	c := newNodeCache()
	for i := range maxCachedNodes + 2 {
		c.put(smt.Hash{byte(i), byte(i >> 8), byte(i >> 16)}, []byte{1})
	}
	if n := len(c.entries) - c.resident; n != maxCachedNodes {
		t.Fatalf("%d nodes kept, want %d", n, maxCachedNodes)
	}
	if _, ok := c.get(smt.Hash{0}); ok {
		t.Fatal("the oldest node is still kept")
	}
	last := maxCachedNodes + 1
	if _, ok := c.get(smt.Hash{byte(last), byte(last >> 8), byte(last >> 16)}); !ok {
		t.Fatal("the newest node is gone")
	}
}

// TestNodeCacheResidentUpperLevels: after each tree update the resident
// nodes are exactly the live nodes of the new tree above residentDepth
// (those the update made are pinned as it makes them, the stale ones
// leave after it), so the next
// update finds every upper node in the cache without a store read; and
// the hit and miss counts say so.
func TestNodeCacheResidentUpperLevels(t *testing.T) {
	store := smt.NewMemStore()
	c := newNodeCache()
	r := cachedNodes{r: store, c: c}
	root := smt.Empty
	key := func(i int) smt.Hash { return smt.Hash(sha256.Sum256([]byte{byte(i), byte(i >> 8), 'k'})) }
	val := func(i, v int) smt.Hash { return smt.Hash(sha256.Sum256([]byte{byte(i), byte(i >> 8), byte(v), 'v'})) }
	for round := range 4 {
		var changes []smt.Change
		for i := range 2000 {
			if i%4 == round || round == 0 {
				changes = append(changes, smt.Change{Key: key(i), Value: val(i, round)})
			}
		}
		newRoot, nodes, stale, err := smt.UpdateStale(r, root, changes)
		if err != nil {
			t.Fatal(err)
		}
		store.Put(nodes)
		c.unpin(stale)
		root = newRoot
		if round > 0 {
			if st := c.misses; st != 0 {
				t.Fatalf("round %d: %d node reads missed the cache", round, st)
			}
		}
		live := map[smt.Hash]bool{}
		var walk func(h smt.Hash, depth int)
		walk = func(h smt.Hash, depth int) {
			if h == smt.Empty || depth >= residentDepth {
				return
			}
			live[h] = true
			enc, err := store.Node(h)
			if err != nil {
				t.Fatal(err)
			}
			if enc[0] == 0x01 {
				walk(smt.Hash(enc[1:33]), depth+1)
				walk(smt.Hash(enc[33:65]), depth+1)
			}
		}
		walk(root, 0)
		if len(live) != c.resident {
			t.Fatalf("round %d: %d resident nodes, %d live above depth %d", round, c.resident, len(live), residentDepth)
		}
		for h := range live {
			if e, ok := c.entries[h]; !ok || e.slot != 0 {
				t.Fatalf("round %d: live upper node %s not resident", round, h)
			}
		}
		c.hits, c.misses = 0, 0
	}
}
