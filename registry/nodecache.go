package registry

import (
	"sync"

	"github.com/idmesh/idmesh/registry/smt"
)

// maxCachedNodes bounds the Machine's cache of state tree nodes (65-byte
// encodings: about 10 MiB with the map's overhead).
const maxCachedNodes = 1 << 16

// nodeCache keeps state tree nodes by hash: the nodes a block's tree
// update read and the ones it made, which the next blocks read again (the
// upper levels of the tree change with every block). A node is named by
// the hash of its encoding, so a cached node is never stale: the cache
// never changes a result. Only the execution's tree update reads through
// it, and that reads nodes reachable from the current root, which no
// pruning removes. Safe for concurrent use; it forgets its oldest first.
type nodeCache struct {
	mu    sync.Mutex
	items map[smt.Hash][]byte
	order []smt.Hash
	next  int
}

func newNodeCache() *nodeCache { return &nodeCache{items: make(map[smt.Hash][]byte)} }

func (c *nodeCache) get(h smt.Hash) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.items[h]
	return b, ok
}

func (c *nodeCache) put(h smt.Hash, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[h]; ok {
		return
	}
	if len(c.order) < maxCachedNodes {
		c.order = append(c.order, h)
	} else {
		delete(c.items, c.order[c.next])
		c.order[c.next] = h
		c.next = (c.next + 1) % maxCachedNodes
	}
	c.items[h] = b
}

// cachedNodes reads tree nodes through a nodeCache.
type cachedNodes struct {
	r smt.NodeReader
	c *nodeCache
}

func (n cachedNodes) Node(h smt.Hash) ([]byte, error) {
	if b, ok := n.c.get(h); ok {
		return b, nil
	}
	b, err := n.r.Node(h)
	if err != nil {
		return nil, err
	}
	n.c.put(h, append([]byte(nil), b...))
	return b, nil
}
