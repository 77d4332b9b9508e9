package idmesh

// Len returns the number of signatures the cache holds (each one a
// verification that succeeded).
func (c *SigCache) Len() int {
	c.ok.mu.Lock()
	defer c.ok.mu.Unlock()
	return len(c.ok.items)
}

// WithoutMember exposes withoutMember.
func WithoutMember(obj []byte, key string) ([]byte, bool) { return withoutMember(obj, key) }

// BodyFast and BodySlow expose the two ways to compute the body.
func (op *Operation) BodyFast() ([]byte, error) { return op.body() }

// BodySlow is body by decoding and re-encoding.
func (op *Operation) BodySlow() ([]byte, error) { return op.bodySlow() }
