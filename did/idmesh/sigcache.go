package idmesh

import (
	"crypto/sha256"
	"sync"

	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/zip215"
)

// fifo is a bounded map that forgets its oldest entries first. It is safe
// for concurrent use.
type fifo[V any] struct {
	max int

	mu    sync.Mutex
	items map[[32]byte]V
	order [][32]byte
}

func newFIFO[V any](max int) *fifo[V] {
	// The map grows as entries come: a cache sized for a block's
	// possible proofs (64 a operation) holds about one each.
	return &fifo[V]{max: max, items: make(map[[32]byte]V, min(max, 1024))}
}

func (f *fifo[V]) get(k [32]byte) (V, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.items[k]
	return v, ok
}

func (f *fifo[V]) put(k [32]byte, v V) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.items[k]; ok {
		return
	}
	if len(f.order) >= f.max {
		delete(f.items, f.order[0])
		f.order = f.order[1:]
	}
	f.items[k] = v
	f.order = append(f.order, k)
}

// SigCache remembers signatures that verified, so that a node checks an
// operation's signature once (when it enters the mempool) and not again
// when it proposes, re-executes or commits the block. Verification is
// deterministic, so the cache never changes a result. It is safe for
// concurrent use and bounded; nil is a valid, empty cache.
type SigCache struct{ ok *fifo[struct{}] }

// NewSigCache returns a cache of at most max verified signatures.
func NewSigCache(max int) *SigCache { return &SigCache{ok: newFIFO[struct{}](max)} }

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

// VerifySignature reports whether sig is pub's signature of msg under the
// ledger's rule: Ed25519 under ZIP-215 (did/zip215), the one rule of the
// consensus path, so that checking the signatures of a block one by one or
// in a batch gives the same answer on every node; P-256 as
// [keys.PublicKey.Verify].
func VerifySignature(pub keys.PublicKey, msg, sig []byte) bool {
	if pub.Type() == keys.Ed25519 {
		return zip215.Verify(pub.Bytes(), msg, sig)
	}
	return pub.Verify(msg, sig)
}

// Verify reports whether sig is pub's signature of msg (VerifySignature),
// from the cache when it was verified before.
func (c *SigCache) Verify(pub keys.PublicKey, msg, sig []byte) bool {
	if c == nil {
		return VerifySignature(pub, msg, sig)
	}
	k := sigKey(pub, msg, sig)
	if _, hit := c.ok.get(k); hit {
		return true
	}
	if !VerifySignature(pub, msg, sig) {
		return false
	}
	c.ok.put(k, struct{}{})
	return true
}

// OpCache keeps decoded operations by the SHA-256 of their encoding, so a
// node decodes an operation once (when it enters the mempool) and not
// again when it proposes or re-executes the block. Decoding is
// deterministic and decoded operations are never modified, so the cache
// never changes a result. It is safe for concurrent use and bounded; nil
// decodes every time.
type OpCache struct{ ops *fifo[*Operation] }

// NewOpCache returns a cache of at most max operations.
func NewOpCache(max int) *OpCache { return &OpCache{ops: newFIFO[*Operation](max)} }

// Decode returns Decode(b), from the cache when b was decoded before.
// Only operations that decode are cached.
func (c *OpCache) Decode(b []byte) (*Operation, error) {
	if c == nil {
		return Decode(b)
	}
	k := sha256.Sum256(b)
	if op, ok := c.ops.get(k); ok {
		return op, nil
	}
	op, err := Decode(b)
	if err != nil {
		return nil, err
	}
	c.ops.put(k, op)
	return op, nil
}
