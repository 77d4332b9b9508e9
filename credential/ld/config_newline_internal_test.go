package ld

// Review R7, finding 2: contextKey joined a list of context URLs with
// a newline but took a single string as it was, so a string of two URLs
// with a newline between and the list of those two URLs shared a cache
// key (a warm cache accepted what a cold one refuses). This test failed
// on that code.

import (
	"testing"
)

func TestContextKeyNewlineStringIsNotAList(t *testing.T) {
	resetConfigCaches()
	ctxCache.Clear()
	ctxCacheSize.Store(0)
	defer func() {
		resetConfigCaches()
		ctxCache.Clear()
		ctxCacheSize.Store(0)
	}()
	const di = "https://w3id.org/security/data-integrity/v2"
	joined := rdfcConfigOf("2024-01-01T00:00:00Z", "did:key:z6Mk#z6Mk", "assertionMethod")
	joined["@context"] = ctxV2 + "\n" + di // one string: not a bundled context URL
	if _, err := Canonicalize(t.Context(), joined, Options{}); err == nil {
		t.Fatal("a cold Canonicalize accepted a context URL with a newline")
	}
	// Someone verifies an honest configuration with the list...
	list := rdfcConfigOf("2024-01-01T00:00:00Z", "did:key:z6Mk#z6Mk", "assertionMethod", ctxV2, di)
	if _, err := CanonicalizeConfig(t.Context(), list, Options{}); err != nil {
		t.Fatal(err)
	}
	// ...and from then on the single string is read as that list.
	if out, err := CanonicalizeConfig(t.Context(), joined, Options{}); err == nil {
		t.Errorf("CanonicalizeConfig accepted @context %q (a cold Canonicalize refuses it):\n%s", joined["@context"], out)
	}
	if _, err := Canonicalize(t.Context(), joined, Options{}); err == nil {
		t.Errorf("Canonicalize (warm context cache) accepted @context %q", joined["@context"])
	}
}
