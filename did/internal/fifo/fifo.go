// Package fifo is a bounded map that forgets its oldest entries first,
// for the caches of pure functions' answers of did/keys (parsed keys) and
// did/idmesh (verified signatures, decoded operations): a cache that
// never changes an answer needs no smarter eviction than age, and must
// stay bounded whatever its callers send.
package fifo

import (
	"cmp"
	"maps"
	"slices"
	"sync"
)

// Map holds at most max entries and, with a cost bound (SetMaxCost),
// entries whose costs (given to Put) add up to at most that bound. It is
// safe for concurrent use. Made by New.
type Map[K comparable, V any] struct {
	max     int
	maxCost int

	mu    sync.Mutex
	items map[K]slot[V]
	// order is the entries oldest first, with those Delete removed
	// (dead: their sequence number no longer items') until they reach
	// the front or a compaction drops them: at most twice max plus 64
	// entries (Delete compacts once the dead outnumber the live).
	order   []entry[K]
	dead    int // dead entries in order
	seq     uint64
	cost    int // of the entries held
	deleted int // entries deleted since items was last rebuilt
	// minRebuild is the fewest deletions after which items is rebuilt
	// (defaultMinRebuild; tests make it small).
	minRebuild int
}

// slot is a held value and the sequence number of its entry in order.
type slot[V any] struct {
	v   V
	seq uint64
}

type entry[K comparable] struct {
	k    K
	cost int
	seq  uint64
}

// defaultMinRebuild is the fewest deletions after which a Map's map is
// rebuilt.
const defaultMinRebuild = 4096

// New returns an empty Map of at most max entries and no cost bound.
func New[K comparable, V any](max int) *Map[K, V] {
	// The map grows as entries come: a cache sized for the worst case
	// mostly holds far fewer.
	return &Map[K, V]{max: max, items: make(map[K]slot[V], min(max, 1024)), minRebuild: defaultMinRebuild}
}

// SetMaxCost bounds the sum of the entries' costs (0: no bound); call it
// before the first Put.
func (m *Map[K, V]) SetMaxCost(c int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.maxCost = c
}

// Get returns k's value and whether m holds k.
func (m *Map[K, V]) Get(k K) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.items[k]
	return s.v, ok
}

// Put adds k with v and cost unless m holds k already, forgetting the
// oldest entries as the bounds require. An entry that could never be
// held (a cost above the bound, or a bound of no entries) is not added.
func (m *Map[K, V]) Put(k K, v V, cost int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.items[k]; ok {
		return
	}
	if m.max <= 0 || (m.maxCost > 0 && cost > m.maxCost) {
		return
	}
	for len(m.order) > 0 && (len(m.items) >= m.max || (m.maxCost > 0 && m.cost+cost > m.maxCost)) {
		e := m.order[0]
		m.order[0] = entry[K]{}
		m.order = m.order[1:]
		if s, ok := m.items[e.k]; !ok || s.seq != e.seq {
			m.dead-- // removed by Delete: its cost is gone already
			continue
		}
		m.remove(e.k, e.cost)
	}
	m.seq++
	m.items[k] = slot[V]{v: v, seq: m.seq}
	m.order = append(m.order, entry[K]{k: k, cost: cost, seq: m.seq})
	m.cost += cost
}

// Delete forgets k, if m holds it: for an answer its callers will not ask
// for again, so that it does not hold memory until it is the oldest.
func (m *Map[K, V]) Delete(k K) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.items[k]
	if !ok {
		return
	}
	// Its entry in order is found by its sequence number: order is
	// sorted by it.
	i, found := slices.BinarySearchFunc(m.order, s.seq, func(e entry[K], seq uint64) int { return cmp.Compare(e.seq, seq) })
	if !found { // cannot happen: every held key has its entry
		panic("fifo: a held key without its entry")
	}
	m.remove(k, m.order[i].cost)
	m.dead++
	// Dead entries cost order's memory and nothing else; once they are
	// most of it, order is copied without them (amortized: at least as
	// many deletions as the live entries copied).
	if m.dead > len(m.order)/2 && m.dead >= 64 {
		live := make([]entry[K], 0, len(m.items)+len(m.items)/4)
		for _, e := range m.order {
			if s, ok := m.items[e.k]; ok && s.seq == e.seq {
				live = append(live, e)
			}
		}
		m.order, m.dead = live, 0
	}
}

// remove deletes k, whose entry costs cost, from items, rebuilding the
// map after many deletions.
func (m *Map[K, V]) remove(k K, cost int) {
	delete(m.items, k)
	m.cost -= cost
	if m.deleted++; m.deleted >= max(len(m.items), m.minRebuild) {
		m.rebuild()
	}
}

// rebuild copies the entries into a fresh map: a Go map that has seen as
// many deletions as it holds entries keeps their tombstones, and a hit
// probes about twice as long (registry's nodeCache measures it). One
// insertion per deletion. (maps.Clone would copy the tombstones too.)
func (m *Map[K, V]) rebuild() {
	fresh := make(map[K]slot[V], len(m.items))
	maps.Copy(fresh, m.items)
	m.items, m.deleted = fresh, 0
}

// Len returns the number of entries and their cost.
func (m *Map[K, V]) Len() (n, cost int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items), m.cost
}
