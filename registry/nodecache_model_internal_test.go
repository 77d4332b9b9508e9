package registry

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"reflect"
	"testing"

	"pgregory.net/rapid"

	"github.com/idmesh/idmesh/registry/smt"
)

// cacheModel is what a nodeCache holds, kept the simple way: the resident
// set, and every place in the ring of recent nodes in the order taken.
type cacheModel struct {
	maxResident, maxRecent int
	resident               map[smt.Hash]bool
	pushes                 int
	last                   map[smt.Hash]int // a node's last place taken, as a count of pushes
}

func (m *cacheModel) recent(h smt.Hash) bool {
	p, ok := m.last[h]
	return ok && !m.resident[h] && p >= m.pushes-m.maxRecent
}

func (m *cacheModel) has(h smt.Hash) bool { return m.resident[h] || m.recent(h) }

func (m *cacheModel) push(h smt.Hash) { m.last[h] = m.pushes; m.pushes++ }

// TestNodeCacheModel: a nodeCache with small bounds, given random puts,
// pins, unpins and gets, holds exactly what the model says after each
// step: resident nodes stay until unpinned (then forgotten), whatever the
// ring does, and a recent node is forgotten only when the ring comes
// round to its place;
// each part keeps within its bound, and a read returns the node's own
// encoding.
func TestNodeCacheModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := newNodeCache()
		c.maxResident = rapid.IntRange(1, 6).Draw(t, "maxResident")
		c.maxRecent = rapid.IntRange(1, 6).Draw(t, "maxRecent")
		c.minRebuild = rapid.IntRange(1, 4).Draw(t, "minRebuild") // the map rebuilt often
		m := &cacheModel{maxResident: c.maxResident, maxRecent: c.maxRecent, resident: map[smt.Hash]bool{}, last: map[smt.Hash]int{}}
		const universe = 12
		hash := func(i int) smt.Hash { return smt.Hash{byte(i), 0xee} }
		enc := func(h smt.Hash) []byte { return []byte{h[0], h[1], 'n'} }
		genHash := rapid.Custom(func(t *rapid.T) smt.Hash { return hash(rapid.IntRange(0, universe-1).Draw(t, "h")) })
		steps := rapid.IntRange(1, 200).Draw(t, "steps")
		for step := range steps {
			switch op := rapid.IntRange(0, 3).Draw(t, "op"); op {
			case 0:
				h := genHash.Draw(t, "put")
				if !m.has(h) {
					m.push(h)
				}
				c.put(h, enc(h))
			case 1:
				h := genHash.Draw(t, "pin")
				switch {
				case m.resident[h]:
				case len(m.resident) < m.maxResident:
					m.resident[h] = true
				case !m.recent(h):
					m.push(h)
				}
				c.pin(h, enc(h))
			case 2:
				stale := rapid.SliceOfDistinct(genHash, func(h smt.Hash) smt.Hash { return h }).Draw(t, "unpin")
				for _, h := range stale {
					if m.resident[h] { // forgotten, with any place it held in the ring; a recent one stays
						delete(m.resident, h)
						delete(m.last, h)
					}
				}
				c.unpin(stale)
			case 3:
				h := genHash.Draw(t, "get")
				b, ok := c.get(h)
				if ok != m.has(h) || ok && !bytes.Equal(b, enc(h)) {
					t.Fatalf("step %d: get %x = %q %v, model holds it: %v", step, h[:1], b, ok, m.has(h))
				}
			}
			checkNodeCache(t, c, m, universe, hash)
		}
	})
}

// checkNodeCache compares c with m, and checks c's own bookkeeping.
func checkNodeCache(t *rapid.T, c *nodeCache, m *cacheModel, universe int, hash func(int) smt.Hash) {
	if c.resident != len(m.resident) || c.resident > c.maxResident {
		t.Fatalf("%d resident nodes, model %d, bound %d", c.resident, len(m.resident), c.maxResident)
	}
	if n := len(c.entries) - c.resident; n > c.maxRecent {
		t.Fatalf("%d recent nodes, bound %d", n, c.maxRecent)
	}
	for i := range universe {
		h := hash(i)
		e, ok := c.entries[h]
		if ok != m.has(h) {
			t.Fatalf("node %x: cached %v, model %v (resident %v, recent %v)", h[:1], ok, m.has(h), m.resident[h], m.recent(h))
		}
		if !ok {
			continue
		}
		if (e.slot == 0) != m.resident[h] {
			t.Fatalf("node %x: slot %d, model resident %v", h[:1], e.slot, m.resident[h])
		}
		if e.slot != 0 && c.order[e.slot-1] != h {
			t.Fatalf("node %x: slot %d holds %x", h[:1], e.slot, c.order[e.slot-1][:1])
		}
	}
}

// TestNodeCacheSameTree: tree updates read through a node cache with
// small bounds (so that both parts fill and the ring comes round) give
// the same roots, new nodes and stale nodes as updates reading the store
// directly, over random chains of blocks, with blocks executed and then
// dropped for another at the same height (a proposal not decided), as a
// Machine's cache sees them.
func TestNodeCacheSameTree(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := newNodeCache()
		c.maxResident = rapid.IntRange(1, 64).Draw(t, "maxResident")
		c.maxRecent = rapid.IntRange(1, 64).Draw(t, "maxRecent")
		store := smt.NewMemStore()
		cached := cachedNodes{r: store, c: c}
		root := smt.Empty
		key := func(i int) smt.Hash { return smt.Hash(sha256.Sum256(fmt.Appendf(nil, "k%d", i))) }
		blocks := rapid.IntRange(1, 12).Draw(t, "blocks")
		for blk := range blocks {
			var changes []smt.Change
			seen := map[int]bool{}
			for range rapid.IntRange(1, 40).Draw(t, "changes") {
				i := rapid.IntRange(0, 150).Draw(t, "key")
				if seen[i] {
					continue
				}
				seen[i] = true
				ch := smt.Change{Key: key(i), Delete: rapid.IntRange(0, 4).Draw(t, "delete") == 0}
				if !ch.Delete {
					ch.Value = smt.Hash(sha256.Sum256(fmt.Appendf(nil, "v%d.%d", i, rapid.IntRange(0, 2).Draw(t, "value"))))
				}
				changes = append(changes, ch)
			}
			wantRoot, wantNodes, wantStale, err := smt.UpdateStale(store, root, changes)
			if err != nil {
				t.Fatal(err)
			}
			gotRoot, gotNodes, gotStale, err := smt.UpdateStale(cached, root, changes)
			if err != nil {
				t.Fatal(err)
			}
			c.unpin(gotStale)
			if gotRoot != wantRoot || !reflect.DeepEqual(gotNodes, wantNodes) || !reflect.DeepEqual(gotStale, wantStale) {
				t.Fatalf("block %d: through the cache root %s, %d nodes, %d stale; direct %s, %d, %d", blk, gotRoot, len(gotNodes), len(gotStale), wantRoot, len(wantNodes), len(wantStale))
			}
			if rapid.Bool().Draw(t, "decided") {
				store.Put(gotNodes)
				root = gotRoot
			}
		}
	})
}
