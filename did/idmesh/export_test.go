package idmesh

// Len returns the number of signatures the cache holds (each one a
// verification that succeeded).
func (c *SigCache) Len() int {
	c.ok.mu.Lock()
	defer c.ok.mu.Unlock()
	return len(c.ok.items)
}
