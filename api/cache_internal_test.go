package api

import (
	"strings"
	"testing"
)

func TestResponseCacheLRU(t *testing.T) {
	body := []byte(strings.Repeat("b", 100))
	one := int64(1+len(body)) + cacheEntryOverhead // key "a", no content type
	c := newResponseCache(16 * 2 * one)            // entries up to 2*one; room for 32
	c.budget = 2 * one                             // but only two fit
	put := func(h uint64, k string) { c.put(h, k, cachedResponse{status: 200, body: body}) }
	has := func(h uint64, k string) bool { _, ok := c.get(h, k); return ok }
	put(1, "a") // ignored: the cache is at height 0
	if has(0, "a") {
		t.Fatal("an answer from another height was cached")
	}
	c.get(1, "x") // height 1
	put(1, "a")
	put(1, "b")
	if !has(1, "a") { // a is now the most recently used
		t.Fatal("a missing")
	}
	put(1, "c") // evicts b
	if has(1, "b") || !has(1, "a") || !has(1, "c") {
		t.Fatal("not least recently used first")
	}
	if b, n := c.stats(); b != 2*one || n != 2 {
		t.Fatalf("stats %d bytes %d entries, want %d %d", b, n, 2*one, 2)
	}
	put(1, "c") // replacing an entry does not count it twice
	if b, _ := c.stats(); b != 2*one {
		t.Fatalf("%d bytes after a replace", b)
	}
	if has(0, "a") || !has(1, "a") {
		t.Fatal("a request at an older height emptied the cache")
	}
	c.put(1, "big", cachedResponse{body: make([]byte, 2*one)})
	if has(1, "big") {
		t.Fatal("an answer over the entry bound was cached")
	}
	if has(2, "a") {
		t.Fatal("a new block did not empty the cache")
	}
	if b, n := c.stats(); b != 0 || n != 0 {
		t.Fatalf("after a block: %d bytes, %d entries", b, n)
	}
}
