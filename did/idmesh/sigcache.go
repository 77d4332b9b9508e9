package idmesh

import (
	"crypto/sha256"
	"sync"

	"github.com/idmesh/idmesh/did/keys"
)

// SigCache remembers signatures that verified, so that a node checks an
// operation's signature once (when it enters the mempool) and not again
// when it proposes, re-executes or commits the block. Verification is
// deterministic, so the cache never changes a result. It is safe for
// concurrent use and bounded; nil is a valid, empty cache.
type SigCache struct {
	max int

	mu   sync.Mutex
	ok   map[[32]byte]struct{}
	fifo [][32]byte
}

// NewSigCache returns a cache of at most max verified signatures.
func NewSigCache(max int) *SigCache {
	return &SigCache{max: max, ok: make(map[[32]byte]struct{}, max)}
}

func sigKey(pub keys.PublicKey, msg, sig []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(pub.Type()))
	h.Write(pub.Bytes())
	m := sha256.Sum256(msg)
	h.Write(m[:])
	h.Write(sig)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// Verify reports whether sig is pub's signature of msg, from the cache
// when it was verified before.
func (c *SigCache) Verify(pub keys.PublicKey, msg, sig []byte) bool {
	if c == nil {
		return pub.Verify(msg, sig)
	}
	k := sigKey(pub, msg, sig)
	c.mu.Lock()
	_, hit := c.ok[k]
	c.mu.Unlock()
	if hit {
		return true
	}
	if !pub.Verify(msg, sig) {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.ok[k]; !ok {
		if len(c.fifo) >= c.max {
			delete(c.ok, c.fifo[0])
			c.fifo = c.fifo[1:]
		}
		c.ok[k] = struct{}{}
		c.fifo = append(c.fifo, k)
	}
	return true
}

// OpCache keeps decoded operations by the SHA-256 of their encoding, so a
// node decodes an operation once (when it enters the mempool) and not
// again when it proposes or re-executes the block. Decoding is
// deterministic and decoded operations are never modified, so the cache
// never changes a result. It is safe for concurrent use and bounded; nil
// decodes every time.
type OpCache struct {
	max int

	mu   sync.Mutex
	ops  map[[32]byte]*Operation
	fifo [][32]byte
}

// NewOpCache returns a cache of at most max operations.
func NewOpCache(max int) *OpCache {
	return &OpCache{max: max, ops: make(map[[32]byte]*Operation, max)}
}

// Decode returns Decode(b), from the cache when b was decoded before.
// Only operations that decode are cached.
func (c *OpCache) Decode(b []byte) (*Operation, error) {
	if c == nil {
		return Decode(b)
	}
	k := sha256.Sum256(b)
	c.mu.Lock()
	op, ok := c.ops[k]
	c.mu.Unlock()
	if ok {
		return op, nil
	}
	op, err := Decode(b)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.ops[k]; !ok {
		if len(c.fifo) >= c.max {
			delete(c.ops, c.fifo[0])
			c.fifo = c.fifo[1:]
		}
		c.ops[k] = op
		c.fifo = append(c.fifo, k)
	}
	return op, nil
}
