package registry

import (
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
	if len(c.items) != maxCachedNodes {
		t.Fatalf("%d nodes kept, want %d", len(c.items), maxCachedNodes)
	}
	if _, ok := c.get(smt.Hash{0}); ok {
		t.Fatal("the oldest node is still kept")
	}
	last := maxCachedNodes + 1
	if _, ok := c.get(smt.Hash{byte(last), byte(last >> 8), byte(last >> 16)}); !ok {
		t.Fatal("the newest node is gone")
	}
}
