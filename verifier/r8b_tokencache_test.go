package verifier_test

import (
	"encoding/base64"
	"encoding/json"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/credential/tokenstatus"
	"github.com/idmesh/idmesh/verifier"
)

// TestR8bTokenCachePinsPayload (security review R8, part VJ): TokenLists
// keeps each verified token version, charged its decoded list's bytes.
// Since jose's payloads are decoded with strictjson.ObjectString, the
// kept Token's Subject and Issuer are substrings of the whole decoded
// payload: an issuer who pads its tokens with an unread claim (here
// 80 KiB, within the 128 KiB a token may take on the chain) makes every
// cached version hold its payload, beyond the cache's byte bound.
func TestR8bTokenCachePinsPayload(t *testing.T) {
	ctx := t.Context()
	iss := MustParty(t, 1)
	ks := &credential.StaticKeys{}
	ks.Add(iss.Key(), credential.PurposeAssertion)
	src := &tokenSource{tokens: map[string][]byte{}}
	tl := &verifier.TokenLists{Source: src, Keys: ks, Now: func() time.Time { return t0 }}
	padding := strings.Repeat("A", 80<<10)
	padded := func(i int) []byte {
		plain := signToken(t, iss, tokenURI, issuedAt.Add(time.Duration(i)*time.Second), time.Time{}, nil)
		part := strings.Split(string(plain), ".")[1]
		raw, err := base64.RawURLEncoding.DecodeString(part)
		if err != nil {
			t.Fatal(err)
		}
		var claims map[string]any
		if err := json.Unmarshal(raw, &claims); err != nil {
			t.Fatal(err)
		}
		claims["padding"] = padding
		b, _ := json.Marshal(claims)
		tok, err := jose.SignCompact(b, tokenstatus.Typ, iss.Signer.MethodID(), iss.Signer, "")
		if err != nil {
			t.Fatal(err)
		}
		return []byte(tok)
	}
	read := func(i int) {
		src.put(tokenURI, padded(i))
		if _, _, err := tl.TokenStatus(ctx, iss.DID, tokenURI, 7); err != nil {
			t.Fatal(err)
		}
		src.put(tokenURI, []byte("x")) // the chain moved on: only the cache holds the version
	}
	read(0)
	heap := settledHeap
	before := heap()
	const n = 16
	for i := range n {
		read(i + 1)
	}
	grown := int64(heap()) - int64(before)
	charged := tokenstatus.MinLength * tokenstatus.Bits / 8
	t.Logf("%d versions cached: heap grew %d KiB (%d KiB each, %d KiB charged each)", n, grown>>10, grown/n>>10, charged>>10)
	if grown > int64(n*(charged+16<<10)) {
		t.Fatalf("%d cached versions hold %d KiB, charged %d KiB: each keeps its %d KiB of padding", n, grown>>10, n*charged>>10, len(padding)>>10)
	}
	runtime.KeepAlive(tl)
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
