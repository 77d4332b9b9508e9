package ld_test

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential/ld"
	"github.com/idmesh/idmesh/did/strictjson"
)

// TestR8bContextCachePinsRequest (security review R8, part VJ): the
// process-wide cache of processed top-level contexts (ctxCache, kept for
// the process's life) is keyed by the context's URLs. For a context of
// one URL the key is that string itself (strings.Join of one element
// returns it); since the verify handler and jose decode with
// strictjson.ObjectString, that string is a substring of the whole
// request body or JWT payload, which the cache then keeps forever.
func TestR8bContextCachePinsRequest(t *testing.T) {
	heap := settledHeap
	padding := strings.Repeat("A", 200<<10)
	canon := func(url string) {
		b, _ := json.Marshal(map[string]any{"@context": []any{url}, "padding": padding, "id": "urn:x:1"})
		doc, err := strictjson.ObjectString(string(b), 0)
		if err != nil {
			t.Fatal(err)
		}
		delete(doc, "padding")
		_, _ = ld.Canonicalize(t.Context(), doc, ld.Options{})
	}
	before := heap()
	n := 0
	for _, url := range ld.Known() {
		canon(url)
		n++
	}
	grown := int64(heap()) - int64(before)
	t.Logf("%d single-URL contexts processed: heap grew %d KiB", n, grown>>10)
	if grown > int64(n)*(64<<10) {
		t.Fatalf("the context cache holds %d KiB after %d documents of one context URL: each keeps its %d KiB document text", grown>>10, n, len(padding)>>10)
	}
}

// settledHeap returns the bytes of the heap that stay after two
// collections: what a test's leftovers still hold.
func settledHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
