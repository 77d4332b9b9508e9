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
func signedCreate(t testing.TB, seed uint64, pad int) []byte {
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

// TestOpCacheDecodeKeyed: an operation decoded under a caller's key (a
// transaction's hash) is found under that key, for DecodeKeyed and
// DecodeSubmittedKeyed alike, without decoding again; under b's own
// digest (Decode) it is not, and another key holds nothing.
func TestOpCacheDecodeKeyed(t *testing.T) {
	b := signedCreate(t, 41, 0)
	key := [32]byte{1, 2, 3}
	c := idmesh.NewOpCache(100)
	op, err := c.DecodeSubmittedKeyed(key, b)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := c.DecodeKeyed(key, b); err != nil || again != op || c.Decodes() != 1 {
		t.Fatalf("the keyed check decoded the submission again (%d decodings, %v)", c.Decodes(), err)
	}
	if other, err := c.Decode(b); err != nil || other == op || c.Decodes() != 2 {
		t.Fatalf("Decode found the keyed entry (%d decodings, %v)", c.Decodes(), err)
	}
	if other, err := c.DecodeKeyed([32]byte{4}, b); err != nil || other == op || c.Decodes() != 3 {
		t.Fatalf("another key found the entry (%d decodings, %v)", c.Decodes(), err)
	}
	ops := c.DecodeAll([][32]byte{key}, [][]byte{b}, 2)
	if ops[0] != op || c.Decodes() != 3 {
		t.Fatalf("DecodeAll with the key decoded again (%d decodings)", c.Decodes())
	}
	// Other bytes under the same key (a caller's bug) get their own
	// operation, decoded, and the entry stays (review R22).
	other := signedCreate(t, 43, 0)
	want, err := idmesh.Decode(other)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.DecodeKeyed(key, other)
	if err != nil || got == op || c.Decodes() != 4 {
		t.Fatalf("other bytes under the key: %v, %d decodings", err, c.Decodes())
	}
	if g, _ := got.Digest(); g != mustDigest(t, want) {
		t.Fatal("other bytes under the key decoded to another operation")
	}
	if again, err := c.DecodeKeyed(key, b); err != nil || again != op || c.Decodes() != 4 {
		t.Fatalf("the entry was replaced (%d decodings, %v)", c.Decodes(), err)
	}
	// Bytes that are not an operation, under its key, are refused.
	if _, err := c.DecodeKeyed(key, []byte("not an operation")); err == nil {
		t.Fatal("junk under a cached key decoded")
	}
}

func mustDigest(t *testing.T, op *idmesh.Operation) [32]byte {
	t.Helper()
	d, err := op.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// BenchmarkOpCacheHit looks up a decoded create of about 1 KiB, as each
// node's admission, check and execution of an operation do: by the
// payload's own SHA-256 (Decode) and by a key the caller holds already
// (DecodeKeyed, the transaction's hash).
//
//	go test -run '^$' -bench OpCacheHit ./did/idmesh/
func BenchmarkOpCacheHit(b *testing.B) {
	p := signedCreate(b, 42, 300)
	c := idmesh.NewOpCache(100)
	key := [32]byte{9}
	if _, err := c.Decode(p); err != nil {
		b.Fatal(err)
	}
	if _, err := c.DecodeKeyed(key, p); err != nil {
		b.Fatal(err)
	}
	b.Run("digest", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.Decode(p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("keyed", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.DecodeKeyed(key, p); err != nil {
				b.Fatal(err)
			}
		}
	})
	if c.Decodes() != 2 {
		b.Fatalf("%d decodings, want 2", c.Decodes())
	}
}
