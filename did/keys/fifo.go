package keys

import "sync"

// fifo is a map of at most max entries that forgets its oldest entry
// first, for caches of pure functions' answers; its zero value with max
// set is ready, and it is safe for concurrent use.
type fifo[K comparable, V any] struct {
	max   int
	mu    sync.Mutex
	items map[K]V
	order []K // the keys in the order they came, a ring once full
	next  int // the oldest key's place in order, once full
}

func (c *fifo[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.items[k]
	return v, ok
}

// put adds k unless it is there already, forgetting the oldest key when
// full.
func (c *fifo[K, V]) put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[k]; ok {
		return
	}
	if c.items == nil {
		c.items = make(map[K]V)
	}
	if len(c.order) < c.max {
		c.order = append(c.order, k)
	} else {
		delete(c.items, c.order[c.next])
		c.order[c.next] = k
		c.next = (c.next + 1) % c.max
	}
	c.items[k] = v
}
