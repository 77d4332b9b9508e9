package api

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

// Bounds of the resolver's response cache.
const (
	// DefaultResolveCacheBytes is the default budget of the resolver's
	// response cache (Config.ResolveCacheBytes).
	DefaultResolveCacheBytes = 64 << 20
	// cacheEntryFraction: a response larger than budget/cacheEntryFraction
	// is not cached, so that one large document cannot flush the cache.
	cacheEntryFraction = 16
	// cacheEntryOverhead is what an entry costs besides its key and body:
	// the entry itself, its list links and its map slot.
	cacheEntryOverhead = 128
)

// responseCache keeps encoded resolver responses for one chain height:
// any new block empties it, so it never serves a state older than the
// tip it was filled at. Reads far outnumber writes in a DID registry, so
// between blocks most resolutions are served from memory.
//
// It is bounded in bytes: the sum over entries of key, content type,
// location and body lengths plus cacheEntryOverhead never exceeds budget.
// The least recently used entries are evicted first; every operation is O(1)
// (amortised, as the map is). It is safe for concurrent use; a nil cache
// caches nothing.
type responseCache struct {
	budget   int64
	maxEntry int64

	mu      sync.Mutex
	height  uint64
	bytes   int64
	entries map[string]*cacheEntry
	lru     cacheEntry // sentinel: lru.next is the most recently used
}

type cacheEntry struct {
	key        string
	resp       cachedResponse
	size       int64
	prev, next *cacheEntry
}

type cachedResponse struct {
	status      int
	contentType string
	location    string // the Location of a redirect
	body        []byte
}

// newResponseCache returns a cache of budget bytes; nil if budget <= 0.
func newResponseCache(budget int64) *responseCache {
	if budget <= 0 {
		return nil
	}
	c := &responseCache{budget: budget, maxEntry: budget / cacheEntryFraction}
	c.reset(0)
	return c
}

// reset empties the cache for height. The map is replaced, not cleared:
// a cleared Go map keeps its buckets.
func (c *responseCache) reset(height uint64) {
	c.height, c.bytes = height, 0
	c.entries = make(map[string]*cacheEntry)
	c.lru.next, c.lru.prev = &c.lru, &c.lru
}

func (c *responseCache) unlink(e *cacheEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (c *responseCache) pushFront(e *cacheEntry) {
	e.prev, e.next = &c.lru, c.lru.next
	c.lru.next.prev = e
	c.lru.next = e
}

// get returns the response cached under key at height. A height above
// the cache's empties it for that height.
func (c *responseCache) get(height uint64, key string) (cachedResponse, bool) {
	if c == nil {
		return cachedResponse{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case height > c.height:
		c.reset(height)
		return cachedResponse{}, false
	case height < c.height: // a request that read the tip before the last block
		return cachedResponse{}, false
	}
	e, ok := c.entries[key]
	if !ok {
		return cachedResponse{}, false
	}
	c.unlink(e)
	c.pushFront(e)
	return e.resp, true
}

// put caches r under key if it was computed at the current height and is
// small enough, evicting the least recently used entries to make room.
// The cache keeps r.body: the caller must not change it.
func (c *responseCache) put(height uint64, key string, r cachedResponse) {
	if c == nil {
		return
	}
	size := int64(len(key)+len(r.contentType)+len(r.location)+len(r.body)) + cacheEntryOverhead
	if size > c.maxEntry {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if height != c.height {
		return
	}
	if old, ok := c.entries[key]; ok {
		c.remove(old)
	}
	for c.bytes+size > c.budget && c.lru.prev != &c.lru {
		c.remove(c.lru.prev)
	}
	e := &cacheEntry{key: key, resp: r, size: size}
	c.entries[key] = e
	c.pushFront(e)
	c.bytes += size
}

func (c *responseCache) remove(e *cacheEntry) {
	c.unlink(e)
	delete(c.entries, e.key)
	c.bytes -= e.size
}

// stats returns the bytes the cache accounts for and its entry count.
func (c *responseCache) stats() (bytes int64, entries int) {
	if c == nil {
		return 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes, len(c.entries)
}

// resolveKey is the cache key of a resolution: the parsed parameters
// that change the answer, each length-prefixed so that no two parameter
// sets share a key. The raw query and header spellings are not part of
// it: ?x=1 and ?x=2, or two spellings of one Accept preference, share an
// entry.
func resolveKey(d, versionID string, versionTime time.Time, contentType string) string {
	vt := ""
	if !versionTime.IsZero() {
		vt = versionTime.UTC().Format(time.RFC3339Nano)
	}
	var b strings.Builder
	b.Grow(len(d) + len(versionID) + len(vt) + len(contentType) + 16)
	for _, f := range []string{d, versionID, vt, contentType} {
		b.WriteString(strconv.Itoa(len(f)))
		b.WriteByte(':')
		b.WriteString(f)
	}
	return b.String()
}
