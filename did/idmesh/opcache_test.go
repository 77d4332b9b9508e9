package idmesh_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
)

// signedCreate returns the canonical encoding of a create by key seed,
// whose document carries a service of pad bytes.
func signedCreate(t *testing.T, seed uint64, pad int) []byte {
	t.Helper()
	k := genKey(t, keys.Ed25519, seed)
	doc := template(k.Public())
	if pad > 0 {
		doc.Service = []did.Service{{ID: "#pad", Type: did.StringSet{"Pad"}, ServiceEndpoint: json.RawMessage(`"https://example.com/` + strings.Repeat("a", pad) + `"`)}}
	}
	op := &idmesh.Operation{Type: idmesh.Create, Document: doc}
	if err := op.Sign(chainID, "#key-1", k); err != nil {
		t.Fatal(err)
	}
	b, err := op.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOpCacheDecodeSubmitted: a canonical submission is kept, so that
// Decode of the same bytes (the mempool's check of its transaction) finds
// it without decoding; other spellings, however many, decode to the same
// operation but are not kept; bad ones are refused as Decode refuses them.
func TestOpCacheDecodeSubmitted(t *testing.T) {
	b := signedCreate(t, 40, 0)
	c := idmesh.NewOpCache(100)
	op, err := c.DecodeSubmitted(b)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := c.Decode(b); err != nil || again != op || c.Decodes() != 1 {
		t.Fatalf("the check decoded the submission again (%d decodings, %v)", c.Decodes(), err)
	}
	want, _ := op.Digest()
	for i := range 50 {
		var sp bytes.Buffer
		if err := json.Indent(&sp, b, "", fmt.Sprintf("%*s", i%8+1, "")); err != nil {
			t.Fatal(err)
		}
		v, err := c.DecodeSubmitted(sp.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := v.Digest(); d != want {
			t.Fatal("another spelling decoded to another operation")
		}
	}
	if n, _ := c.Len(); n != 1 {
		t.Fatalf("the cache holds %d operations after 50 other spellings, want 1", n)
	}
	for _, bad := range [][]byte{[]byte(`{"type":"nope"}`), []byte(`not json`), bytes.Repeat([]byte(" "), idmesh.MaxOperationBytes+1)} {
		_, werr := idmesh.Decode(bad)
		if _, err := c.DecodeSubmitted(bad); err == nil || werr == nil || err.Error() != werr.Error() {
			t.Fatalf("%.20q: %v, Decode says %v", bad, err, werr)
		}
	}
	if n, _ := c.Len(); n != 1 {
		t.Fatalf("bad submissions were kept: %d operations", n)
	}
	var nilCache *idmesh.OpCache
	if v, err := nilCache.DecodeSubmitted(b); err != nil || v == nil || nilCache.Decodes() != 0 {
		t.Fatal("a nil cache does not decode")
	}
}

// TestOpCacheBoundedInBytes: large operations evict the oldest so that
// what the cache holds never counts more than its byte bound, whatever
// its entry bound; one too large for the bound is decoded, not kept.
func TestOpCacheBoundedInBytes(t *testing.T) {
	const pad = 4000
	big := idmesh.OpCost(len(signedCreate(t, 50, pad)))
	maxBytes := 3*big + big/2 // room for three
	c := idmesh.NewOpCacheBytes(1000, maxBytes)
	var payloads [][]byte
	for i := range 8 {
		payloads = append(payloads, signedCreate(t, uint64(50+i), pad))
	}
	var wg sync.WaitGroup
	for _, b := range payloads {
		wg.Go(func() {
			if _, err := c.Decode(b); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	n, cost := c.Len()
	if n != 3 || cost > maxBytes {
		t.Fatalf("holds %d operations counting %d bytes, bound %d", n, cost, maxBytes)
	}
	tiny := idmesh.NewOpCacheBytes(1000, big-1)
	if _, err := tiny.Decode(payloads[0]); err != nil {
		t.Fatal(err)
	}
	if n, cost := tiny.Len(); n != 0 || cost != 0 {
		t.Fatalf("an operation larger than the bound was kept (%d, %d bytes)", n, cost)
	}
	if n, _ := idmesh.NewOpCache(20_000).Len(); n != 0 {
		t.Fatal("a new cache is not empty")
	}
	if idmesh.OpCacheBytes/idmesh.OpCost(idmesh.MaxOperationBytes) < 64 {
		t.Fatal("OpCacheBytes holds fewer than 64 operations of the largest size")
	}
}
