package api

import (
	"sync"
)

// responseCache keeps encoded resolver responses for one chain height:
// any new block empties it, so it never serves a state older than the
// tip it was filled at. Reads far outnumber writes in a DID registry, so
// between blocks most resolutions are served from memory.
type responseCache struct {
	max int

	mu      sync.Mutex
	height  uint64
	entries map[string]cachedResponse
}

type cachedResponse struct {
	status      int
	contentType string
	body        []byte
}

func newResponseCache(max int) *responseCache {
	if max <= 0 {
		return nil
	}
	return &responseCache{max: max, entries: make(map[string]cachedResponse)}
}

// get returns the response cached under key at height.
func (c *responseCache) get(height uint64, key string) (cachedResponse, bool) {
	if c == nil {
		return cachedResponse{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if height != c.height {
		clear(c.entries)
		c.height = height
		return cachedResponse{}, false
	}
	r, ok := c.entries[key]
	return r, ok
}

// put caches r under key if it was computed at the current height. When
// full, it drops an arbitrary half: cheap, and fair enough for a cache
// that a new block empties anyway.
func (c *responseCache) put(height uint64, key string, r cachedResponse) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if height != c.height {
		return
	}
	if len(c.entries) >= c.max {
		n := 0
		for k := range c.entries {
			delete(c.entries, k)
			if n++; n >= c.max/2 {
				break
			}
		}
	}
	c.entries[key] = r
}
