package ld_test

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/ld"
)

// ignored are the members the tests leave out: a JWT's registered claims,
// and two members the checks read.
var ignored = []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "nonce", "cnf", "id", "type"}

// sameAsWithout checks that CheckTerms with Options.Ignore gives doc the
// verdict (the same code) it gives doc without those members.
func sameAsWithout(t *testing.T, doc map[string]any, ignore []string) {
	t.Helper()
	bare := maps.Clone(doc)
	for _, k := range ignore {
		delete(bare, k)
	}
	before := maps.Clone(doc)
	got := ld.CheckTerms(t.Context(), doc, ld.Options{Ignore: ignore})
	want := ld.CheckTerms(t.Context(), bare, ld.Options{})
	if credential.CodeOf(got, "") != credential.CodeOf(want, "") || (got == nil) != (want == nil) {
		t.Fatalf("with Ignore %v: %v; without the members: %v", ignore, got, want)
	}
	if len(doc) != len(before) {
		t.Fatalf("CheckTerms changed the document: %d members, had %d", len(doc), len(before))
	}
}

// TestCheckTermsIgnore: members named in Options.Ignore are read as absent
// (on the fast path and on expansion), whatever they hold, and the other
// members are checked as always.
func TestCheckTermsIgnore(t *testing.T) {
	claims := func(m map[string]any) {
		m["iat"] = json.Number("1796434874")
		m["iss"] = "did:example:issuer"
		m["nonce"] = "n-0S6_WzA2Mj"
	}
	cases := map[string]func(m map[string]any){
		"claims": claims,
		"claims that are not JSON-LD": func(m map[string]any) {
			claims(m)
			m["cnf"] = map[string]any{"jwk": map[string]any{"kty": "OKP", "x:y": "z", "@id": "sec:x"}}
			m["aud"] = []any{"sec:verificationMethod", "https://rp.example"}
		},
		"an id repeated in a claim": func(m map[string]any) {
			m["cnf"] = map[string]any{"id": "did:example:subject", "type": "sec:Ed25519VerificationKey2020"}
		},
		"an ignored id and type": func(m map[string]any) {
			m["id"] = "did:example:subject"
			m["type"] = "sec:VerifiableCredential"
		},
		"an alias beside the claims": func(m map[string]any) {
			claims(m)
			m["sec:proof"] = map[string]any{}
		},
		"a compact IRI value beside the claims": func(m map[string]any) {
			claims(m)
			obj(m, "credentialSubject")["name"] = "sec:x"
		},
	}
	for _, tt := range aliasCases() {
		cases["alias: "+tt.name] = func(m map[string]any) { claims(m); tt.edit(m) }
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			doc := mustDoc(t, termsBase, edit)
			sameAsWithout(t, doc, ignored[:9])
			sameAsWithout(t, doc, ignored)
			sameAsWithout(t, doc, nil)
		})
	}
}

// FuzzCheckTermsIgnore: on any object, Options.Ignore gives the verdict
// the object without those members gets.
func FuzzCheckTermsIgnore(f *testing.F) {
	f.Add(termsBase, uint16(0x1ff))
	for _, tt := range aliasCases() {
		b, _ := json.Marshal(mustDoc(f, termsBase, tt.edit))
		f.Add(string(b), uint16(0x7ff))
	}
	f.Fuzz(func(t *testing.T, s string, mask uint16) {
		var m map[string]any
		d := json.NewDecoder(bytesReader(s))
		d.UseNumber()
		if d.Decode(&m) != nil || m == nil {
			return
		}
		var ignore []string
		for i, k := range ignored {
			if mask&(1<<i) != 0 {
				ignore = append(ignore, k)
			}
		}
		sameAsWithout(t, m, ignore)
	})
}

func bytesReader(s string) *strings.Reader { return strings.NewReader(s) }
