package registry

import (
	"maps"
	"sync"

	"github.com/idmesh/idmesh/registry/smt"
)

// The Machine's cache of state tree nodes is bounded in bytes, counted
// per node as its 65-byte encoding, its 32-byte hash and an estimate of
// the maps' overhead.
const (
	// nodeEntryBytes is what one cached node is counted as.
	nodeEntryBytes = 65 + 32 + 48
	// maxResidentBytes bounds the resident upper levels: every live node
	// above residentDepth, which every block's update reads again (a tree
	// of 3,000,000 pairs has about 131,000 of them: 19 MiB).
	maxResidentBytes = 24 << 20
	// residentDepth is the depth from which nodes are only recent: below
	// it, a path is mostly the one pair's own.
	residentDepth = 17
	// maxRecentBytes bounds the other nodes, forgotten oldest first: those
	// a block read and made, which the next block or a re-execution of the
	// same block reads again.
	maxRecentBytes = 12 << 20
	// maxCachedNodes is the number of recent nodes kept.
	maxCachedNodes = maxRecentBytes / nodeEntryBytes
)

// nodeCache keeps state tree nodes by hash, in two parts: the resident
// upper levels of the current tree (above residentDepth: read by every
// block's update), forgotten when an update makes them stale, and the
// recent nodes (those a block's update read and made below that depth, or
// that did not fit), forgotten oldest first. A node is named by the hash
// of its encoding, so a cached node is never stale in content: the cache
// never changes a result. Only the execution's tree update reads through
// it, and that reads nodes reachable from the current root, which no
// pruning removes. Safe for concurrent use.
//
// Both parts share one map, so that a read, a node kept or a node moved
// from one part to the other costs one look-up of its hash (each a likely
// cache miss in a map of this size) rather than one per part: an entry
// says which part holds it, and a recent entry its place in the ring of
// recent nodes, which forgets only the entry still at that place.
type nodeCache struct {
	mu       sync.Mutex
	entries  map[smt.Hash]cacheEntry
	resident int        // entries of the resident part
	order    []smt.Hash // recent nodes, a ring from next
	next     int
	deleted  int // entries deleted since entries was last rebuilt
	// minRebuild is the fewest deletions after which entries is rebuilt
	// (defaultMinRebuild; tests make it small).
	minRebuild int
	hits       uint64
	misses     uint64
	// maxResident and maxRecent bound the parts' entries
	// (maxResidentBytes and maxCachedNodes; tests make them small).
	maxResident, maxRecent int
}

// cacheEntry is a cached node's encoding and its part: slot is 0 for a
// resident node, else 1 + its place in the ring of recent nodes.
type cacheEntry struct {
	enc  []byte
	slot int32
}

func newNodeCache() *nodeCache {
	return &nodeCache{entries: make(map[smt.Hash]cacheEntry), maxResident: maxResidentBytes / nodeEntryBytes, maxRecent: maxCachedNodes,
		minRebuild: defaultMinRebuild}
}

func (c *nodeCache) get(h smt.Hash) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[h]
	if ok {
		c.hits++
	} else {
		c.misses++
	}
	return e.enc, ok
}

// put keeps h among the recent nodes.
func (c *nodeCache) put(h smt.Hash, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[h]; !ok {
		c.entries[h] = cacheEntry{enc: b, slot: c.ring(h)}
	}
}

// ring takes the next place in the ring of recent nodes for h, forgetting
// the node at that place if it is still there (not pinned or moved since),
// and returns the place as an entry's slot. The caller stores h's entry.
func (c *nodeCache) ring(h smt.Hash) int32 {
	if len(c.order) < c.maxRecent {
		c.order = append(c.order, h)
		return int32(len(c.order))
	}
	i := c.next
	slot := int32(i + 1)
	if e, ok := c.entries[c.order[i]]; ok && e.slot == slot {
		delete(c.entries, c.order[i])
		if c.deleted++; c.deleted >= max(len(c.entries), c.minRebuild) {
			c.rebuild()
		}
	}
	c.order[i] = h
	c.next = (i + 1) % c.maxRecent
	return slot
}

// defaultMinRebuild is the fewest deletions after which a cache's map
// is rebuilt.
const defaultMinRebuild = 4096

// rebuild copies the entries into a fresh map. A Go map that has seen
// as many deletions as it holds entries keeps their tombstones, and its
// look-ups probe further: a hit in a cache of 100,000 recent nodes after
// 500,000 puts took 131 ns without rebuilds against 73 with
// (BenchmarkNodeCacheChurned). Rebuilding after as many deletions as
// entries costs one insertion per deletion. (maps.Clone would copy the
// tombstones too.)
func (c *nodeCache) rebuild() {
	fresh := make(map[smt.Hash]cacheEntry, len(c.entries))
	maps.Copy(fresh, c.entries)
	c.entries, c.deleted = fresh, 0
}

// pin keeps h among the resident nodes while they have room, else among
// the recent ones. A recent node pinned becomes resident, leaving its
// place in the ring to the node that comes there next.
func (c *nodeCache) pin(h smt.Hash, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[h]
	if ok && e.slot == 0 {
		return
	}
	if c.resident >= c.maxResident {
		if !ok {
			c.entries[h] = cacheEntry{enc: b, slot: c.ring(h)}
		}
		return
	}
	if !ok {
		e.enc = b
	}
	e.slot = 0
	c.entries[h] = e
	c.resident++
}

// unpin forgets the resident nodes among stale (of a tree version an
// update replaced). They stay in the store: only an execution on the
// same root again, after a block executed but not decided, reads them,
// and it reads them from there. Moving them to the recent nodes instead
// cost a second look-up of a likely cache miss for each (the entry the
// ring forgets), for a case a round decided at once never meets: in
// BenchmarkValidatorPath's profiles unpin went from 0.20 to 0.06 s of a
// validator's 4.3 s, and the tree update from 1.12 to 0.90 s.
func (c *nodeCache) unpin(stale []smt.Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range stale {
		if e, ok := c.entries[h]; ok && e.slot == 0 {
			c.resident--
			delete(c.entries, h)
			if c.deleted++; c.deleted >= max(len(c.entries), c.minRebuild) {
				c.rebuild()
			}
		}
	}
}

// NodeCacheStats describes a Machine's cache of state tree nodes.
type NodeCacheStats struct {
	// Hits and Misses count the tree update's node reads found in the
	// cache and read from the store.
	Hits, Misses uint64
	// ResidentBytes and RecentBytes are the sizes of the two parts, as
	// counted against their bounds.
	ResidentBytes, RecentBytes int
}

// NodeCacheStats returns the counts of m's cache of state tree nodes.
func (m *Machine) NodeCacheStats() NodeCacheStats {
	if m.nodes == nil {
		return NodeCacheStats{}
	}
	c := m.nodes
	c.mu.Lock()
	defer c.mu.Unlock()
	return NodeCacheStats{Hits: c.hits, Misses: c.misses, ResidentBytes: c.resident * nodeEntryBytes, RecentBytes: (len(c.entries) - c.resident) * nodeEntryBytes}
}

// cachedNodes reads tree nodes through a nodeCache. It is an
// smt.DepthNodeReader, so nodes read above residentDepth stay resident.
type cachedNodes struct {
	r smt.NodeReader
	c *nodeCache
}

var _ smt.DepthNodeReader = cachedNodes{}

func (n cachedNodes) Node(h smt.Hash) ([]byte, error) { return n.NodeAt(h, residentDepth) }

func (n cachedNodes) NodeAt(h smt.Hash, depth int) ([]byte, error) {
	if b, ok := n.c.get(h); ok {
		return b, nil
	}
	b, err := n.r.Node(h)
	if err != nil {
		return nil, err
	}
	b = append([]byte(nil), b...)
	if depth < residentDepth {
		n.c.pin(h, b)
	} else {
		n.c.put(h, b)
	}
	return b, nil
}

// Made keeps a node the tree update made: resident above residentDepth
// (the new tree's changed upper paths), else recent.
func (n cachedNodes) Made(nd smt.Node, depth int) {
	if depth < residentDepth {
		n.c.pin(nd.Hash, nd.Encoding)
	} else {
		n.c.put(nd.Hash, nd.Encoding)
	}
}
