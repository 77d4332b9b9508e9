package p2p

import (
	"crypto/ed25519"
	"crypto/sha256"
	"sync"

	"github.com/idmesh/idmesh/registry"
)

// SigCache remembers Ed25519 signatures that verified, so that a node
// checks a consensus signature once whoever asks again: the gossip
// validator (Config.Verify) and the consensus engine
// (consensus.Config.Verify, through node.Consensus.Verify) share one. Only
// valid signatures are remembered, by SHA-256 of the key, the signature
// and the message, and the cache holds at most its size (the oldest is
// forgotten first). It answers exactly as registry.VerifySignature
// (ZIP-215) does: a hit is a triple that function accepted. Safe for
// concurrent use.
type SigCache struct {
	mu    sync.Mutex
	seen  map[[32]byte]struct{}
	ring  [][32]byte // insertion order; next is the slot to overwrite
	next  int
	full  bool
	check func(pub ed25519.PublicKey, msg, sig []byte) bool
	stats struct{ hits, misses uint64 }
}

// DefaultSigCacheSize holds the votes, proposals and commit signatures of
// many heights at 100 validators.
const DefaultSigCacheSize = 16_384

// NewSigCache returns a cache of at most size signatures (at least 1)
// over registry.VerifySignature.
func NewSigCache(size int) *SigCache {
	size = max(size, 1)
	return &SigCache{seen: make(map[[32]byte]struct{}, size), ring: make([][32]byte, size), check: registry.VerifySignature}
}

// Verify reports whether sig is pub's signature of msg, as
// registry.VerifySignature does, remembering a valid one.
func (c *SigCache) Verify(pub ed25519.PublicKey, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return c.check(pub, msg, sig) // fixed sizes frame the cache key
	}
	h := sha256.New()
	h.Write(pub)
	h.Write(sig)
	h.Write(msg)
	var k [32]byte
	h.Sum(k[:0])
	c.mu.Lock()
	_, hit := c.seen[k]
	if hit {
		c.stats.hits++
	} else {
		c.stats.misses++
	}
	c.mu.Unlock()
	if hit {
		return true
	}
	if !c.check(pub, msg, sig) {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[k]; ok {
		return true // verified meanwhile by another caller
	}
	if c.full {
		delete(c.seen, c.ring[c.next])
	}
	c.ring[c.next] = k
	c.seen[k] = struct{}{}
	c.next++
	if c.next == len(c.ring) {
		c.next, c.full = 0, true
	}
	return true
}

// Stats returns how many checks the cache answered (hits) and how many
// it passed on to the signature check (misses).
func (c *SigCache) Stats() (hits, misses uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats.hits, c.stats.misses
}

// Len returns the number of signatures remembered.
func (c *SigCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

// verify is the host's signature check of consensus messages:
// Config.Verify, or registry.VerifySignature.
func (h *Host) verify(pub ed25519.PublicKey, msg, sig []byte) bool {
	if h.cfg.Verify != nil {
		return h.cfg.Verify(pub, msg, sig)
	}
	return registry.VerifySignature(pub, msg, sig)
}
