// Package fifo is a bounded map that forgets its oldest entries first,
// for the caches of pure functions' answers of did/keys (parsed keys) and
// did/idmesh (verified signatures, decoded operations): a cache that
// never changes an answer needs no smarter eviction than age, and must
// stay bounded whatever its callers send.
package fifo

import (
	"maps"
	"sync"
)

// Map holds at most max entries and, with a cost bound (SetMaxCost),
// entries whose costs (given to Put) add up to at most that bound. It is
// safe for concurrent use. Made by New.
type Map[K comparable, V any] struct {
	max     int
	maxCost int

	mu      sync.Mutex
	items   map[K]V
	order   []entry[K] // oldest first
	cost    int
	deleted int // entries deleted since items was last rebuilt
	// minRebuild is the fewest deletions after which items is rebuilt
	// (defaultMinRebuild; tests make it small).
	minRebuild int
}

type entry[K comparable] struct {
	k    K
	cost int
}

// defaultMinRebuild is the fewest deletions after which a Map's map is
// rebuilt.
const defaultMinRebuild = 4096

// New returns an empty Map of at most max entries and no cost bound.
func New[K comparable, V any](max int) *Map[K, V] {
	// The map grows as entries come: a cache sized for the worst case
	// mostly holds far fewer.
	return &Map[K, V]{max: max, items: make(map[K]V, min(max, 1024)), minRebuild: defaultMinRebuild}
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
	v, ok := m.items[k]
	return v, ok
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
	for len(m.order) > 0 && (len(m.order) >= m.max || (m.maxCost > 0 && m.cost+cost > m.maxCost)) {
		delete(m.items, m.order[0].k)
		if m.deleted++; m.deleted >= max(len(m.items), m.minRebuild) {
			m.rebuild()
		}
		m.cost -= m.order[0].cost
		m.order[0] = entry[K]{}
		m.order = m.order[1:]
	}
	m.items[k] = v
	m.order = append(m.order, entry[K]{k: k, cost: cost})
	m.cost += cost
}

// rebuild copies the entries into a fresh map: a Go map that has seen as
// many deletions as it holds entries keeps their tombstones, and a hit
// probes about twice as long (registry's nodeCache measures it). One
// insertion per deletion. (maps.Clone would copy the tombstones too.)
func (m *Map[K, V]) rebuild() {
	fresh := make(map[K]V, len(m.items))
	maps.Copy(fresh, m.items)
	m.items, m.deleted = fresh, 0
}

// Len returns the number of entries and their cost.
func (m *Map[K, V]) Len() (n, cost int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items), m.cost
}
