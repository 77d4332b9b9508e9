package ld

// Review R7, finding 1: CanonicalizeConfig's template cache was filled
// for good by the first 256 keys, whatever they were, and kept each key's
// @context list, however long. These tests failed on that code.

import (
	"testing"
)

// junkConfig is a configuration of key n: the credentials v2 context and
// the examples context n times. Such a list passes credential.CheckPlain
// and CheckTerms' fast path (no expansion) in microseconds, so a verifier
// canonicalizes a proof configuration with it (rdfcConfig runs before the
// signature check, with any resolvable Ed25519 key, e.g. a did:key); json-gold
// then refuses it ("recursive context inclusion") and the key is kept as
// "no template".
func junkConfig(n int) map[string]any {
	l := []any{ctxV2}
	for range n {
		l = append(l, ctxExamples)
	}
	return rdfcConfigOf("2024-01-01T00:00:00Z", "did:key:z6MkAttacker#z6MkAttacker", "assertionMethod", l...)
}

func fillWithJunk(t *testing.T) {
	t.Helper()
	for n := 2; n < 2+maxConfigTemplates; n++ {
		if _, err := CanonicalizeConfig(t.Context(), junkConfig(n), Options{}); err == nil {
			t.Fatalf("junk config %d canonicalized", n)
		}
	}
}

// TestConfigTemplatesKeepRoomForNewKeys: after 256 junk keys (failed
// probes, which no honest configuration shares), an honest configuration of
// a key not seen before still gets its template. Before the fix the cache
// was full for the process's lifetime and every new key goes to Canonicalize.
func TestConfigTemplatesKeepRoomForNewKeys(t *testing.T) {
	resetConfigCaches()
	defer resetConfigCaches()
	fillWithJunk(t)
	honest := rdfcConfigOf("2025-06-01T12:00:00Z", "did:idmesh:abc#key-1", "assertionMethod", ctxV2, "https://w3id.org/security/data-integrity/v2")
	if _, err := CanonicalizeConfig(t.Context(), honest, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, fast := configFast(t.Context(), honest, Options{}); !fast {
		t.Fatal("an honest configuration of a new key gets no template after 256 junk keys: the cache is pinned (config.go:200)")
	}
}

// TestConfigTemplateKeysBounded: the cache's keys hold at most a
// bounded number of bytes (here 64 KiB for all of them; an honest key's
// contexts are a few hundred bytes). Before the fix the 256 junk keys
// kept about 1.5 MB; with lists as long as a 256 KiB request body
// allows, about 64 MiB for the process's lifetime.
func TestConfigTemplateKeysBounded(t *testing.T) {
	resetConfigCaches()
	defer resetConfigCaches()
	fillWithJunk(t)
	total := 0
	count := func(k, _ any) bool {
		total += len(k.(configKey).contexts)
		return true
	}
	configTemplates.Range(count)
	configNone.Range(count) // where the junk keys go
	if total > 64<<10 {
		t.Fatalf("the template caches' keys hold %d bytes of @context text", total)
	}
}

func resetConfigCaches() {
	configTemplates.Clear()
	configTemplateCount.Store(0)
	configNone.Clear()
	configNoneCount.Store(0)
}

// TestConfigTemplatesNotPinnedByValidKeys: the same with keys that do
// have a template (any order of three bundled contexts after the
// credentials v2 context: 720 of them canonicalize), so a cache that
// only sets failed probes apart is still pinned.
func TestConfigTemplatesNotPinnedByValidKeys(t *testing.T) {
	resetConfigCaches()
	defer resetConfigCaches()
	extras := []string{ctxExamples, "https://w3id.org/security/multikey/v1", "https://w3id.org/security/jwk/v1", "https://www.w3.org/ns/credentials/status/v1", "https://www.w3.org/ns/credentials/undefined-terms/v2", "https://www.w3.org/ns/did/v1", "https://w3id.org/vc/status-list/2021/v1", "https://w3id.org/security/suites/ed25519-2020/v1"}
	n := 0
	for i := range extras {
		for j := range extras {
			for k := range extras {
				if i == j || j == k || i == k || n >= maxConfigTemplates {
					continue
				}
				cfg := rdfcConfigOf("2024-01-01T00:00:00Z", "did:key:z6MkAttacker#z6MkAttacker", "assertionMethod", ctxV2, extras[i], extras[j], extras[k])
				if _, err := CanonicalizeConfig(t.Context(), cfg, Options{}); err != nil {
					t.Fatal(err)
				}
				n++
			}
		}
	}
	honest := rdfcConfigOf("2025-06-01T12:00:00Z", "did:idmesh:abc#key-1", "assertionMethod", ctxV2, "https://w3id.org/security/data-integrity/v2")
	if _, err := CanonicalizeConfig(t.Context(), honest, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, fast := configFast(t.Context(), honest, Options{}); !fast {
		t.Fatalf("an honest configuration of a new key gets no template after %d other valid keys: the cache is pinned", n)
	}
}
