package ld_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/ld"
)

const (
	cred   = "https://www.w3.org/2018/credentials#"
	sec    = "https://w3id.org/security#"
	status = "https://www.w3.org/ns/credentials/status#"
)

// termsBase is a credential with every member the verifier's checks read.
const termsBase = `{
 "@context": ["https://www.w3.org/ns/credentials/v2"],
 "id": "urn:uuid:0e3bc5a8-2c4e-4b6f-9d34-6d6c0a1c2b01",
 "type": ["VerifiableCredential"],
 "issuer": "did:example:issuer",
 "validFrom": "2026-01-01T00:00:00Z",
 "validUntil": "2026-02-01T00:00:00Z",
 "credentialSubject": {"id": "did:example:subject", "name": "Alice"},
 "credentialStatus": {"id": "https://status.example/1#5", "type": "BitstringStatusListEntry",
  "statusPurpose": "revocation", "statusListIndex": "5", "statusListCredential": "https://status.example/1"},
 "credentialSchema": {"id": "https://schema.example/1", "type": "JsonSchema"},
 "relatedResource": [{"id": "https://www.w3.org/ns/credentials/v2", "digestSRI": "sha384-x"}]
}`

// mustDoc decodes termsBase and applies edit to it.
func mustDoc(tb testing.TB, base string, edit func(m map[string]any)) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(base), &m); err != nil {
		tb.Fatal(err)
	}
	if edit != nil {
		edit(m)
	}
	return m
}

// inline appends an inline context to m's @context.
func inline(m map[string]any, c map[string]any) {
	m["@context"] = append(m["@context"].([]any), c)
}

// rename moves member from to to (in m), keeping its value.
func rename(m map[string]any, from, to string) {
	m[to] = m[from]
	delete(m, from)
}

func obj(m map[string]any, k string) map[string]any { return m[k].(map[string]any) }

// TestCheckTermsAccepts: inline contexts before, among and after context
// URLs, in nested objects, IRI and compact IRI member names outside the
// VC and security vocabularies, inline types and repeated ids that
// describe nothing protected twice are accepted.
func TestCheckTermsAccepts(t *testing.T) {
	tests := []struct {
		name string
		edit func(m map[string]any)
	}{
		{"plain", nil},
		{"inline context after the base", func(m map[string]any) {
			inline(m, map[string]any{"favoriteColor": "https://example.org/vocab#favoriteColor"})
			obj(m, "credentialSubject")["favoriteColor"] = "blue"
		}},
		{"inline context among URLs", func(m map[string]any) {
			m["@context"] = []any{credential.ContextV2, map[string]any{"ex": "https://example.org/vocab#"}, "https://www.w3.org/ns/credentials/examples/v2"}
			obj(m, "credentialSubject")["ex:claim"] = "x"
		}},
		{"inline type", func(m map[string]any) {
			inline(m, map[string]any{"AlumniCredential": "https://example.org/vocab#AlumniCredential"})
			m["type"] = []any{"VerifiableCredential", "AlumniCredential"}
		}},
		{"context in the subject", func(m map[string]any) {
			s := obj(m, "credentialSubject")
			s["@context"] = map[string]any{"alumniOf": "https://schema.org/alumniOf"}
			s["alumniOf"] = "Example University"
		}},
		{"IRI member name", func(m map[string]any) { obj(m, "credentialSubject")["https://schema.org/email"] = "a@example.org" }},
		{"scoped context of an inline term", func(m map[string]any) {
			inline(m, map[string]any{"degree": map[string]any{"@id": "https://example.org/vocab#degree", "@context": map[string]any{"title": "https://example.org/vocab#title"}}})
			obj(m, "credentialSubject")["degree"] = map[string]any{"title": "BSc"}
		}},
		{"own vocab", func(m map[string]any) {
			inline(m, map[string]any{"@vocab": "https://example.org/vocab#"})
			obj(m, "credentialSubject")["anything"] = "x"
		}},
		{"self-issued: issuer and subject one node", func(m map[string]any) {
			m["issuer"] = map[string]any{"id": "did:example:subject", "name": "Alice"}
			inline(m, map[string]any{"ex": "https://example.org/vocab#"})
		}},
		// The credential's type-scoped context (credentials v2) defines
		// issuer again, over the inline definition: issuer means
		// credentials#issuer, as the checks read it.
		{"inline issuer overridden by the type-scoped context", func(m map[string]any) {
			inline(m, map[string]any{"issuer": "https://example.org/vocab#issuer"})
		}},
		{"value object keywords", func(m map[string]any) {
			inline(m, map[string]any{"ex": "https://example.org/vocab#"})
			m["name"] = map[string]any{"@value": "Diploma", "@language": "en", "@direction": "ltr"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := mustDoc(t, termsBase, tt.edit)
			if err := ld.CheckTerms(t.Context(), doc, ld.Options{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// aliasCases are the aliasing attacks on termsBase: each renames or
// hides a member that a check reads, keeping (where JSON-LD allows it)
// the RDF graph that a proof signs.
func aliasCases() []struct {
	name string
	edit func(m map[string]any)
} {
	type tc = struct {
		name string
		edit func(m map[string]any)
	}
	var out []tc
	// Every member a check reads, renamed to its IRI, to a compact IRI
	// and to an alias.
	for term, iri := range map[string]string{
		"validUntil": cred + "validUntil", "validFrom": cred + "validFrom", "credentialStatus": cred + "credentialStatus",
		"credentialSchema": cred + "credentialSchema", "issuer": cred + "issuer", "relatedResource": cred + "relatedResource",
		"credentialSubject": cred + "credentialSubject", "proof": sec + "proof",
	} {
		out = append(out,
			tc{term + " as IRI", func(m map[string]any) {
				if _, ok := m[term]; !ok {
					m[term] = map[string]any{"type": "DataIntegrityProof"}
				}
				rename(m, term, iri)
			}},
			tc{term + " as compact IRI", func(m map[string]any) {
				if _, ok := m[term]; !ok {
					m[term] = map[string]any{"type": "DataIntegrityProof"}
				}
				inline(m, map[string]any{"c": iri[:strings.IndexByte(iri, '#')+1]})
				rename(m, term, "c:"+iri[strings.IndexByte(iri, '#')+1:])
			}},
			tc{term + " aliased", func(m map[string]any) {
				if _, ok := m[term]; !ok {
					m[term] = map[string]any{"type": "DataIntegrityProof"}
				}
				inline(m, map[string]any{"alias": map[string]any{"@id": iri, "@type": "@id"}})
				rename(m, term, "alias")
			}},
		)
	}
	out = append(out,
		tc{"type as rdf:type property", func(m map[string]any) {
			inline(m, map[string]any{"kind": map[string]any{"@id": "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "@type": "@vocab"}})
			m["kind"] = "VerifiableCredential"
		}},
		tc{"type IRI as a member", func(m map[string]any) {
			m["http://www.w3.org/1999/02/22-rdf-syntax-ns#type"] = map[string]any{"@id": cred + "VerifiableCredential"}
		}},
		tc{"keyword alias of @type", func(m map[string]any) {
			inline(m, map[string]any{"t": "@type"})
			m["t"] = "Extra"
		}},
		tc{"keyword alias of @id", func(m map[string]any) {
			inline(m, map[string]any{"i": "@id"})
			rename(obj(m, "credentialStatus"), "id", "i")
		}},
		tc{"keyword alias of @nest", func(m map[string]any) {
			inline(m, map[string]any{"n": "@nest"})
			m["n"] = map[string]any{"validUntil": m["validUntil"]}
			delete(m, "validUntil")
		}},
		tc{"keyword alias of @included", func(m map[string]any) {
			inline(m, map[string]any{"inc": "@included"})
			m["inc"] = []any{map[string]any{"id": m["id"], "type": "VerifiableCredential", "validUntil": m["validUntil"]}}
			delete(m, "validUntil")
		}},
		tc{"@reverse", func(m map[string]any) {
			inline(m, map[string]any{"ex": "https://example.org/vocab#"})
			m["@reverse"] = map[string]any{"ex:p": map[string]any{"id": "urn:x"}}
		}},
		tc{"reverse property of a VC IRI", func(m map[string]any) {
			inline(m, map[string]any{"statusOf": map[string]any{"@reverse": cred + "credentialStatus"}})
			obj(m, "credentialSubject")["statusOf"] = map[string]any{"id": "urn:other"}
		}},
		tc{"@vocab into the VC vocabulary", func(m map[string]any) {
			inline(m, map[string]any{"@vocab": cred + "valid"})
			rename(m, "validUntil", "Until")
		}},
		tc{"standard term redefined in a nested context", func(m map[string]any) {
			s := obj(m, "credentialSubject")
			s["@context"] = map[string]any{"validUntil": "https://example.org/vocab#validUntil"}
			s["validUntil"] = "2099-01-01T00:00:00Z"
		}},
		tc{"alias under a property-scoped context", func(m map[string]any) {
			inline(m, map[string]any{"meta": map[string]any{"@id": "https://example.org/vocab#meta", "@context": map[string]any{"until": cred + "validUntil"}}})
			obj(m, "credentialSubject")["meta"] = map[string]any{"until": "2020-01-01T00:00:00Z"}
		}},
		tc{"alias under a type-scoped context", func(m map[string]any) {
			inline(m, map[string]any{"Sneaky": map[string]any{"@id": "https://example.org/vocab#Sneaky", "@context": map[string]any{"until": cred + "validUntil"}}})
			m["type"] = []any{"VerifiableCredential", "Sneaky"}
			rename(m, "validUntil", "until")
		}},
		tc{"alias in a status entry's context", func(m map[string]any) {
			e := obj(m, "credentialStatus")
			e["@context"] = map[string]any{"idx": status + "statusListIndex"}
			rename(e, "statusListIndex", "idx")
		}},
		tc{"status entry type aliased", func(m map[string]any) {
			inline(m, map[string]any{"Entry": status + "BitstringStatusListEntry"})
			obj(m, "credentialStatus")["type"] = "Entry"
		}},
		tc{"schema type as IRI", func(m map[string]any) { obj(m, "credentialSchema")["type"] = cred + "JsonSchema" }},
		tc{"prefix rewrites the issuer's DID", func(m map[string]any) {
			inline(m, map[string]any{"did": "https://evil.example/"})
		}},
		tc{"node described twice", func(m map[string]any) {
			inline(m, map[string]any{"knows": map[string]any{"@id": "https://schema.org/knows", "@type": "@id"}})
			obj(m, "credentialSubject")["knows"] = map[string]any{"id": m["id"], "validUntil": m["validUntil"]}
			delete(m, "validUntil")
		}},
		tc{"property-valued index", func(m map[string]any) {
			inline(m, map[string]any{"byDate": map[string]any{"@id": "https://example.org/vocab#byDate", "@container": "@index", "@index": "validUntil"}})
			obj(m, "credentialSubject")["byDate"] = map[string]any{"2020-01-01T00:00:00Z": map[string]any{"name": "x"}}
		}},
		tc{"@type map", func(m map[string]any) {
			inline(m, map[string]any{"things": map[string]any{"@id": "https://example.org/vocab#things", "@container": "@type"}})
			obj(m, "credentialSubject")["things"] = map[string]any{"VerifiableCredential": map[string]any{"id": "urn:y"}}
		}},
	)
	return out
}

// TestCheckTermsRefusesAliases: every aliasing variant is refused with
// MALFORMED_VALUE_ERROR (ErrAliasedTerm), or by JSON-LD itself.
func TestCheckTermsRefusesAliases(t *testing.T) {
	for _, tt := range aliasCases() {
		t.Run(tt.name, func(t *testing.T) {
			doc := mustDoc(t, termsBase, tt.edit)
			err := ld.CheckTerms(t.Context(), doc, ld.Options{})
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ld.ErrAliasedTerm) && credential.CodeOf(err, "") != credential.ParsingError &&
				credential.CodeOf(err, "") != credential.UndefinedTermError {
				t.Fatalf("%s: %v", credential.CodeOf(err, ""), err)
			}
			t.Log(err)
		})
	}
}

// termsV1 is a VC Data Model 1.1 credential.
const termsV1 = `{
 "@context": ["https://www.w3.org/2018/credentials/v1"],
 "id": "urn:uuid:0e3bc5a8-2c4e-4b6f-9d34-6d6c0a1c2b02",
 "type": ["VerifiableCredential"],
 "issuer": "did:example:issuer",
 "issuanceDate": "2026-01-01T00:00:00Z",
 "expirationDate": "2026-02-01T00:00:00Z",
 "credentialSubject": {"id": "did:example:subject"}
}`

// TestCheckTermsV1: the 1.1 dates renamed, aliased or made compact IRIs
// are refused too; the plain and inline-context 1.1 credential is not.
func TestCheckTermsV1(t *testing.T) {
	if err := ld.CheckTerms(t.Context(), mustDoc(t, termsV1, func(m map[string]any) {
		inline(m, map[string]any{"ex": "https://example.org/vocab#"})
		obj(m, "credentialSubject")["ex:claim"] = "x"
	}), ld.Options{}); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(m map[string]any){
		"expirationDate aliased": func(m map[string]any) {
			inline(m, map[string]any{"exp2": map[string]any{"@id": cred + "expirationDate", "@type": "http://www.w3.org/2001/XMLSchema#dateTime"}})
			rename(m, "expirationDate", "exp2")
		},
		"expirationDate as compact IRI": func(m map[string]any) { rename(m, "expirationDate", "cred:expirationDate") },
		"issuanceDate as IRI":           func(m map[string]any) { rename(m, "issuanceDate", cred+"issuanceDate") },
		"expirationDate under @vocab": func(m map[string]any) {
			inline(m, map[string]any{"@vocab": cred + "expiration"})
			rename(m, "expirationDate", "Date")
		},
	} {
		err := ld.CheckTerms(t.Context(), mustDoc(t, termsV1, edit), ld.Options{})
		if !errors.Is(err, ld.ErrAliasedTerm) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestCheckTermsProtected: JSON-LD refuses to redefine a protected term
// (credentials v2's @protected) and to clear the context at the top.
func TestCheckTermsProtected(t *testing.T) {
	for name, edit := range map[string]func(m map[string]any){
		"redefine type": func(m map[string]any) { inline(m, map[string]any{"type": "https://example.org/vocab#type"}) },
		"redefine VerifiableCredential": func(m map[string]any) {
			inline(m, map[string]any{"VerifiableCredential": "https://example.org/vocab#VC"})
		},
		"nullify":             func(m map[string]any) { m["@context"] = []any{credential.ContextV2, nil} },
		"redefine JsonSchema": func(m map[string]any) { inline(m, map[string]any{"JsonSchema": "https://example.org/vocab#J"}) },
	} {
		err := ld.CheckTerms(t.Context(), mustDoc(t, termsBase, edit), ld.Options{})
		if credential.CodeOf(err, "") != credential.ParsingError || !strings.Contains(err.Error(), "protected") && !strings.Contains(err.Error(), "nullif") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestCheckTermsBounded: the expansion of a document with an inline
// context is charged to the budget it is given and refused once that is
// spent; a plain document costs nothing; the document and context bounds
// hold.
func TestCheckTermsBounded(t *testing.T) {
	b := ld.NewBudget(ld.Options{})
	plain := mustDoc(t, termsBase, nil)
	if err := ld.CheckTerms(t.Context(), plain, ld.Options{Budget: b}); err != nil || b.Spent().Documents != 0 {
		t.Fatalf("plain: %v, spent %+v", err, b.Spent())
	}
	withInline := mustDoc(t, termsBase, func(m map[string]any) { inline(m, map[string]any{"ex": "https://example.org/vocab#"}) })
	if err := ld.CheckTerms(t.Context(), withInline, ld.Options{Budget: b}); err != nil {
		t.Fatal(err)
	}
	if s := b.Spent(); s.Documents != 1 || s.Quads == 0 {
		t.Fatalf("spent %+v", s)
	}
	small := ld.NewBudget(ld.Options{MaxQuads: 5})
	if err := ld.CheckTerms(t.Context(), withInline, ld.Options{Budget: small}); credential.CodeOf(err, "") != credential.LimitExceededError {
		t.Fatalf("over the budget: %v", err)
	}
	if err := ld.CheckTerms(t.Context(), withInline, ld.Options{Budget: small}); credential.CodeOf(err, "") != credential.LimitExceededError {
		t.Fatalf("spent budget: %v", err)
	}
	// A large inline context: refused before expansion.
	big := map[string]any{}
	for i := range ld.MaxInlineContextValues + 1 {
		big["t"+strconv.Itoa(i)] = "https://example.org/vocab#" + strconv.Itoa(i)
	}
	large := mustDoc(t, termsBase, func(m map[string]any) { inline(m, big) })
	if err := ld.CheckTerms(t.Context(), large, ld.Options{}); credential.CodeOf(err, "") != credential.LimitExceededError {
		t.Fatalf("large inline context: %v", err)
	}
	// Many inline contexts, each processed: the context bound.
	many := mustDoc(t, termsBase, func(m map[string]any) {
		var subjects []any
		for i := range 100 {
			subjects = append(subjects, map[string]any{"@context": map[string]any{"p": "https://example.org/p" + string(rune('a'+i%26))}, "p": "x"})
		}
		m["credentialSubject"] = subjects
	})
	if err := ld.CheckTerms(t.Context(), many, ld.Options{}); credential.CodeOf(err, "") != credential.LimitExceededError {
		t.Fatalf("100 contexts: %v", err)
	}
}

// FuzzCheckTerms: any JSON object is accepted or refused with a coded
// error, never a panic; what is accepted canonicalizes or fails with a
// coded error too.
func FuzzCheckTerms(f *testing.F) {
	f.Add(termsBase)
	for _, tt := range aliasCases() {
		b, _ := json.Marshal(mustDoc(f, termsBase, tt.edit))
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		var m map[string]any
		if json.Unmarshal([]byte(s), &m) != nil || m == nil {
			return
		}
		err := ld.CheckTerms(t.Context(), m, ld.Options{})
		if err != nil && credential.CodeOf(err, "") == "" {
			t.Fatalf("uncoded error %v", err)
		}
	})
}

// TestCheckTermsNestedContextURL: a context URL inside the document (in
// the subject) must be bundled too: nothing is fetched.
func TestCheckTermsNestedContextURL(t *testing.T) {
	doc := mustDoc(t, termsBase, func(m map[string]any) {
		obj(m, "credentialSubject")["@context"] = "https://unknown.example/context/v1"
	})
	if err := ld.CheckTerms(t.Context(), doc, ld.Options{}); credential.CodeOf(err, "") != credential.UnknownContextError {
		t.Fatalf("%v", err)
	}
	bundled := mustDoc(t, termsBase, func(m map[string]any) {
		s := obj(m, "credentialSubject")
		s["@context"] = "https://www.w3.org/ns/credentials/examples/v2"
		s["degree"] = map[string]any{"type": "ExampleBachelorDegree", "name": "BSc"}
	})
	if err := ld.CheckTerms(t.Context(), bundled, ld.Options{}); err != nil {
		t.Fatal(err)
	}
}

// TestCheckTermsRefusesImport: an @import in an inline context, at the
// top or in a scoped context, brings a whole bundled context in a few
// values, past MaxInlineContextValues, wherever the scope is used: it is
// refused before any expansion.
func TestCheckTermsRefusesImport(t *testing.T) {
	for name, c := range map[string]map[string]any{
		"top":    {"@import": "https://www.w3.org/ns/credentials/v2", "q": "https://example.org/q"},
		"scoped": {"p": map[string]any{"@id": "https://example.org/p", "@context": map[string]any{"@import": "https://www.w3.org/ns/credentials/v2"}}},
	} {
		doc := mustDoc(t, termsBase, func(m map[string]any) { inline(m, c) })
		err := ld.CheckTerms(t.Context(), doc, ld.Options{})
		if credential.CodeOf(err, "") != credential.MalformedValueError || !strings.Contains(err.Error(), "@import") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
