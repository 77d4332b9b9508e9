package ld

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/idmesh/idmesh/credential"
)

// checkConfigSame fails unless CanonicalizeConfig gives cfg what
// Canonicalize gives it (bytes, or an error of the same code: the text of
// Canonicalize's own can name a node's role in either order), and
// reports whether the template gave it.
func checkConfigSame(t *testing.T, cfg map[string]any) bool {
	t.Helper()
	wb, gb := NewBudget(Options{}), NewBudget(Options{})
	want, wantErr := Canonicalize(t.Context(), cfg, Options{Budget: wb})
	got, err := CanonicalizeConfig(t.Context(), cfg, Options{Budget: gb})
	if wantErr == nil && gb.Spent() != wb.Spent() {
		t.Fatalf("config %v: took %+v from the budget, Canonicalize %+v", cfg, gb.Spent(), wb.Spent())
	}
	if g, w := CanonicalizeConfig(t.Context(), cfg, Options{}); !bytes.Equal(g, want) || (w == nil) != (wantErr == nil) {
		t.Fatalf("config %v: without a budget %s %v", cfg, g, w)
	}
	switch {
	case (err == nil) != (wantErr == nil):
		t.Fatalf("config %v: CanonicalizeConfig error %v, Canonicalize error %v", cfg, err, wantErr)
	case err != nil && credential.CodeOf(err, "") != credential.CodeOf(wantErr, ""):
		t.Fatalf("config %v: error %v, Canonicalize's %v", cfg, err, wantErr)
	case !bytes.Equal(got, want):
		t.Fatalf("config %v:\n%s\nCanonicalize:\n%s", cfg, got, want)
	}
	_, fast := configFast(t.Context(), cfg, Options{})
	return fast
}

func rdfcConfigOf(created, vm, purpose string, contexts ...any) map[string]any {
	cfg := map[string]any{"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "verificationMethod": vm, "proofPurpose": purpose, "@context": contexts}
	if created != "" {
		cfg["created"] = created
	}
	return cfg
}

const (
	ctxV2       = "https://www.w3.org/ns/credentials/v2"
	ctxExamples = "https://www.w3.org/ns/credentials/examples/v2"
)

// TestCanonicalizeConfigVectors: the W3C vectors' proof configurations
// come out as the vectors say, through the template.
func TestCanonicalizeConfigVectors(t *testing.T) {
	for _, name := range []string{"eddsa-rdfc-2022", "Ed25519Signature2020"} {
		raw, err := os.ReadFile("testdata/vc-di-eddsa/" + name + map[string]string{"eddsa-rdfc-2022": "-proofConfigDataInt.json", "Ed25519Signature2020": "-proofConfigEdSig.json"}[name])
		if err != nil {
			t.Fatal(err)
		}
		canon, err := os.ReadFile("testdata/vc-di-eddsa/" + name + map[string]string{"eddsa-rdfc-2022": "-proofCanonDataInt.txt", "Ed25519Signature2020": "-proofCanonEdSig.txt"}[name])
		if err != nil {
			t.Fatal(err)
		}
		var cfg map[string]any
		if err := json.Unmarshal(raw, &cfg); err != nil {
			t.Fatal(err)
		}
		for range 2 { // making the template, then using it
			got, err := CanonicalizeConfig(t.Context(), cfg, Options{})
			if err != nil || string(got) != string(bytes.TrimRight(canon, "\n"))+"\n" {
				t.Fatalf("%s: %v\n%s\nwant\n%s", name, err, got, canon)
			}
			fast := checkConfigSame(t, cfg)
			if want := name == "eddsa-rdfc-2022"; fast != want {
				t.Fatalf("%s: fast path %v, want %v", name, fast, want)
			}
		}
	}
}

// TestCanonicalizeConfigSame: configurations of the usual shape take the
// template and give Canonicalize's result; the others (and the values
// the template does not take) are left to Canonicalize, with its result
// and errors.
func TestCanonicalizeConfigSame(t *testing.T) {
	fast := []map[string]any{
		rdfcConfigOf("2026-12-05T01:41:15Z", "did:idmesh:B6uBnvg9uDe1Gbtyxv9rcLLLKCioiUMXcq6fPwrD1RdE#key-1", "assertionMethod", ctxV2, ctxExamples),
		rdfcConfigOf("2026-12-05T01:41:16Z", "did:idmesh:Other#key-2", "assertionMethod", ctxV2, ctxExamples),
		rdfcConfigOf("", "did:idmesh:Other#key-2", "assertionMethod", ctxV2),
		rdfcConfigOf("2026-12-05T01:41:15.123+01:00", "did:key:z6Mk#z6Mk", "authentication", ctxV2),
		rdfcConfigOf("not a date but plain", "https://issuer.example/keys/1", "assertionMethod", ctxV2),
		rdfcConfigOf("2026-12-05", "did:web:issuer.example%3A8443:x#k", "capabilityInvocation", ctxV2),
		rdfcConfigOf("2026-12-05", "urn:uuid:1234('x')!$&*+,;=@?/", "assertionMethod", ctxV2),
		rdfcConfigOf("2026-12-05", "did:example:a#b#c", "assertionMethod", ctxV2),
		rdfcConfigOf("2026-12-05", "did:example:x", "undefinedPurpose", ctxV2),
		rdfcConfigOf("2026-12-05", "sec:x", "assertionMethod", ctxV2),
		rdfcConfigOf("2026-12-05", "cred:x", "assertionMethod", ctxV2),
		rdfcConfigOf("2026-12-05", "xsd:x", "assertionMethod", ctxV2),
	}
	for _, cfg := range fast {
		checkConfigSame(t, cfg)
	}
	if !checkConfigSame(t, fast[0]) || !checkConfigSame(t, fast[2]) {
		t.Fatal("a configuration as idmesh makes it did not take the template")
	}
	slow := []map[string]any{
		rdfcConfigOf("2026-12-05 01:41:15", "did:example:x", "assertionMethod", ctxV2),
		rdfcConfigOf("2026-12-05", "did:example:x y", "assertionMethod", ctxV2),
		rdfcConfigOf("2026-12-05", "relative#x", "assertionMethod", ctxV2),
		rdfcConfigOf("2026-12-05", ":x", "assertionMethod", ctxV2),
		rdfcConfigOf("2026-12-05", "did:example:\u00e9", "assertionMethod", ctxV2),
		rdfcConfigOf("2026-12-05\"", "did:example:x", "assertionMethod", ctxV2),
		rdfcConfigOf("2026-12-05", "did:example:x", "assertion Method", ctxV2),
		rdfcConfigOf("2026-12-05", "did:example:x", "assertionMethod", "https://unknown.example/ctx"),
		rdfcConfigOf("2026-12-05", "did:example:x", "assertionMethod"),
		{"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "verificationMethod": "did:example:x", "proofPurpose": "assertionMethod", "@context": ctxV2, "id": "urn:x"},
		{"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "verificationMethod": "did:example:x", "proofPurpose": "assertionMethod", "@context": ctxV2, "created": 5},
		{"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "verificationMethod": []any{"did:example:x"}, "proofPurpose": "assertionMethod", "@context": ctxV2},
		{"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "verificationMethod": "did:example:x", "proofPurpose": "assertionMethod", "@context": []any{ctxV2, map[string]any{"created": "@id"}}},
		{"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "verificationMethod": "did:example:x", "proofPurpose": "assertionMethod", "nonce": "abc"},
	}
	for _, cfg := range slow {
		if checkConfigSame(t, cfg) {
			t.Errorf("config %v took the template", cfg)
		}
	}
	// Bounds or a budget in the options: Canonicalize's.
	cfg := fast[0]
	if _, ok := configFast(t.Context(), cfg, Options{MaxQuads: 2}); ok {
		t.Fatal("the template under a bound of 2 quads")
	}
	if _, err := CanonicalizeConfig(t.Context(), cfg, Options{MaxQuads: 2}); credential.CodeOf(err, "") != credential.LimitExceededError {
		t.Fatalf("2 quads at most: %v", err)
	}
	// A budget is charged as Canonicalize charges it; one that cannot
	// cover the configuration gets Canonicalize's refusal.
	b := NewBudget(Options{})
	if _, ok := configFast(t.Context(), cfg, Options{Budget: b}); !ok || b.Spent().Documents != 1 || b.Spent().Quads == 0 {
		t.Fatalf("the template under a budget: %v, spent %+v", ok, b.Spent())
	}
	for _, spend := range []Spent{{Quads: DefaultMaxQuads}, {Quads: DefaultMaxQuads - 1}, {BlankNodes: DefaultMaxBlankNodes}, {NodeMapWork: DefaultMaxNodeMapWork}, {Work: DefaultMaxWork}} {
		gb, wb := NewBudget(Options{}), NewBudget(Options{})
		gb.take(spend)
		wb.take(spend)
		_, err := CanonicalizeConfig(t.Context(), cfg, Options{Budget: gb})
		_, wantErr := Canonicalize(t.Context(), cfg, Options{Budget: wb})
		if (err == nil) != (wantErr == nil) || credential.CodeOf(err, "") != credential.CodeOf(wantErr, "") || gb.Spent() != wb.Spent() {
			t.Fatalf("budget spent %+v: %v (spent %+v), Canonicalize %v (spent %+v)", spend, err, gb.Spent(), wantErr, wb.Spent())
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, ok := configFast(ctx, cfg, Options{}); ok {
		t.Fatal("the template under a cancelled context")
	}
}

// FuzzCanonicalizeConfig: for any values, CanonicalizeConfig gives what
// Canonicalize gives.
func FuzzCanonicalizeConfig(f *testing.F) {
	f.Add("2026-12-05T01:41:15Z", "did:idmesh:abc#key-1", "assertionMethod", "DataIntegrityProof", "eddsa-rdfc-2022", uint8(0))
	f.Add("", "https://x.example/k", "authentication", "DataIntegrityProof", "eddsa-rdfc-2022", uint8(1))
	f.Add("x", "sec:y", "capabilityDelegation", "Ed25519Signature2020", "eddsa-jcs-2022", uint8(2))
	f.Fuzz(func(t *testing.T, created, vm, purpose, typ, suite string, which uint8) {
		contexts := [][]any{{ctxV2}, {ctxV2, ctxExamples}, {ctxV2, ctxExamples, "https://w3id.org/security/suites/ed25519-2020/v1"}, {ctxExamples}}
		cfg := map[string]any{"type": typ, "cryptosuite": suite, "verificationMethod": vm, "proofPurpose": purpose, "@context": contexts[int(which)%len(contexts)]}
		if created != "" {
			cfg["created"] = created
		}
		checkConfigSame(t, cfg)
	})
}

// FuzzCanonicalizeConfigPlain: values made of the characters the template
// takes (so that most take it) give what Canonicalize gives.
func FuzzCanonicalizeConfigPlain(f *testing.F) {
	f.Add([]byte("2026-12-05T01:41:15Z"), []byte("idmesh:abc#key-1"), uint8(0), uint8(0))
	f.Add([]byte("x"), []byte("//a.example/k?x=1#y"), uint8(1), uint8(1))
	f.Add([]byte(""), []byte("x"), uint8(2), uint8(2))
	schemes := []string{"did", "https", "urn", "sec", "cred", "xsd", "rdf", "schema", "dc", "_", "http", "ex", "A1+.-"}
	purposes := []string{"assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation", "keyAgreement", "other", "id", "type"}
	f.Fuzz(func(t *testing.T, created, rest []byte, scheme, purpose uint8) {
		pick := func(b []byte, set string) string {
			out := make([]byte, len(b))
			for i, c := range b {
				out[i] = set[int(c)%len(set)]
			}
			return string(out)
		}
		vm := schemes[int(scheme)%len(schemes)] + ":" + pick(rest, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#@!$&'()*+,;=%")
		c := pick(created, "0123456789TZtz:.+-abcdefghijklmnopqrstuvwxyz")
		for _, contexts := range [][]any{{ctxV2}, {ctxV2, ctxExamples}} {
			checkConfigSame(t, rdfcConfigOf(c, vm, purposes[int(purpose)%len(purposes)], contexts...))
		}
	})
}
