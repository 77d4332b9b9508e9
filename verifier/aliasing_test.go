package verifier_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/verifier"
)

// Inline contexts (issue 12, item 1): accepted in every mechanism, while
// every way of hiding a member from the checks that keeps what the proof
// signs is refused (or, where JSON-LD itself refuses, fails).

const (
	credNS     = "https://www.w3.org/2018/credentials#"
	secNS      = "https://w3id.org/security#"
	statusNS   = "https://www.w3.org/ns/credentials/status#"
	xsdDate    = "http://www.w3.org/2001/XMLSchema#dateTime"
	credID     = "urn:uuid:2b5f0c1e-8d3a-4f6e-b1c7-9a0d4e3f2a10"
	inlineTerm = "https://example.org/vocab#favoriteColor"
)

// expiredDegree is a degree with an id, a status entry and a validUntil
// in the past at t0: it verifies only if the checks miss validUntil.
func expiredDegree(iss string) map[string]any {
	c := degree(iss)
	c["id"] = credID
	c["validFrom"] = credential.FormatDateTime(issuedAt)
	c["validUntil"] = credential.FormatDateTime(t0.Add(-30 * time.Minute))
	c["credentialStatus"] = map[string]any{"id": "https://status.example/1#5", "type": "BitstringStatusListEntry",
		"statusPurpose": "revocation", "statusListIndex": "5", "statusListCredential": "https://status.example/1"}
	return c
}

func addContext(m map[string]any, c map[string]any) {
	m["@context"] = append(slices.Clone(m["@context"].([]any)), c)
}

func move(m map[string]any, from, to string) {
	m[to] = m[from]
	delete(m, from)
}

func typedDate(v any) map[string]any { return map[string]any{"@value": v, "@type": xsdDate} }

// aliasVariant hides or renames a member of a credential. graph says
// whether the variant keeps the RDF graph (then a holder can apply it to
// an issued eddsa-rdfc-2022 credential and keep its proof).
type aliasVariant struct {
	name  string
	graph bool
	edit  func(m map[string]any)
	// unsignable: JSON-LD refuses the result, so Data Integrity cannot
	// sign it.
	unsignable bool
}

func aliasVariants() []aliasVariant {
	return []aliasVariant{
		{name: "validUntil as IRI", graph: true, edit: func(m map[string]any) {
			m[credNS+"validUntil"] = typedDate(m["validUntil"])
			delete(m, "validUntil")
		}},
		{name: "validUntil as compact IRI", graph: true, edit: func(m map[string]any) {
			addContext(m, map[string]any{"c": credNS})
			m["c:validUntil"] = typedDate(m["validUntil"])
			delete(m, "validUntil")
		}},
		{name: "validUntil aliased", graph: true, edit: func(m map[string]any) {
			addContext(m, map[string]any{"until": map[string]any{"@id": credNS + "validUntil", "@type": xsdDate}})
			move(m, "validUntil", "until")
		}},
		{name: "validFrom aliased", graph: true, edit: func(m map[string]any) {
			addContext(m, map[string]any{"from": map[string]any{"@id": credNS + "validFrom", "@type": xsdDate}})
			move(m, "validFrom", "from")
		}},
		{name: "credentialStatus aliased", graph: true, edit: func(m map[string]any) {
			addContext(m, map[string]any{"st": map[string]any{"@id": credNS + "credentialStatus", "@type": "@id"}})
			move(m, "credentialStatus", "st")
		}},
		{name: "credentialStatus as IRI", graph: false, edit: func(m map[string]any) { move(m, "credentialStatus", credNS+"credentialStatus") }},
		{name: "credentialSchema aliased", graph: false, edit: func(m map[string]any) {
			addContext(m, map[string]any{"sch": map[string]any{"@id": credNS + "credentialSchema", "@type": "@id"}})
			m["sch"] = map[string]any{"id": "https://schema.example/degree.json", "type": "JsonSchema"}
		}},
		{name: "relatedResource as compact IRI", graph: false, edit: func(m map[string]any) {
			addContext(m, map[string]any{"c": credNS})
			m["c:relatedResource"] = map[string]any{"id": credential.ContextV2, "digestSRI": "sha384-x"}
		}},
		{name: "issuer aliased", graph: true, edit: func(m map[string]any) {
			addContext(m, map[string]any{"by": map[string]any{"@id": credNS + "issuer", "@type": "@id"}})
			move(m, "issuer", "by")
		}},
		{name: "type by rdf:type", graph: false, edit: func(m map[string]any) {
			addContext(m, map[string]any{"kind": map[string]any{"@id": "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "@type": "@vocab"}})
			m["kind"] = "ExampleDegreeCredential"
		}},
		{name: "keyword alias of @type", graph: false, edit: func(m map[string]any) {
			addContext(m, map[string]any{"t": "@type"})
			m["t"] = "Hidden"
		}},
		{name: "keyword alias of @id", graph: true, edit: func(m map[string]any) {
			addContext(m, map[string]any{"i": "@id"})
			move(m["credentialStatus"].(map[string]any), "id", "i")
		}},
		{name: "validUntil under @nest", graph: true, edit: func(m map[string]any) {
			addContext(m, map[string]any{"n": "@nest"})
			m["n"] = map[string]any{"validUntil": m["validUntil"]}
			delete(m, "validUntil")
		}},
		{name: "vocab into the VC vocabulary", graph: false, edit: func(m map[string]any) {
			addContext(m, map[string]any{"@vocab": credNS + "valid"})
			m["Until"] = typedDate(m["validUntil"])
			delete(m, "validUntil")
		}},
		{name: "alias under a type-scoped context", graph: false, edit: func(m map[string]any) {
			addContext(m, map[string]any{"Sneaky": map[string]any{"@id": "https://example.org/vocab#Sneaky",
				"@context": map[string]any{"until": map[string]any{"@id": credNS + "validUntil", "@type": xsdDate}}}})
			m["type"] = append(slices.Clone(m["type"].([]any)), "Sneaky")
			move(m, "validUntil", "until")
		}},
		{name: "alias under a property-scoped context", graph: false, edit: func(m map[string]any) {
			addContext(m, map[string]any{"meta": map[string]any{"@id": "https://example.org/vocab#meta",
				"@context": map[string]any{"until": map[string]any{"@id": credNS + "validUntil", "@type": xsdDate}}}})
			m["credentialSubject"].(map[string]any)["meta"] = map[string]any{"id": credID, "until": m["validUntil"]}
			delete(m, "validUntil")
		}},
		{name: "alias in the subject's context", graph: false, edit: func(m map[string]any) {
			s := m["credentialSubject"].(map[string]any)
			s["@context"] = map[string]any{"st": map[string]any{"@id": credNS + "credentialStatus", "@type": "@id"}}
			s["st"] = "https://status.example/1#6"
		}},
		{name: "alias in a status entry's context", graph: true, edit: func(m map[string]any) {
			e := m["credentialStatus"].(map[string]any)
			e["@context"] = map[string]any{"idx": statusNS + "statusListIndex"}
			move(e, "statusListIndex", "idx")
		}},
		{name: "validUntil described by a second node object", graph: false, edit: func(m map[string]any) {
			addContext(m, map[string]any{"about": map[string]any{"@id": "https://schema.org/about", "@type": "@id"}})
			m["credentialSubject"].(map[string]any)["about"] = map[string]any{"id": credID, "validUntil": m["validUntil"]}
			delete(m, "validUntil")
		}},
		{name: "protected term redefined", unsignable: true, edit: func(m map[string]any) {
			addContext(m, map[string]any{"type": "https://example.org/vocab#type"})
		}},
		{name: "context nullified", unsignable: true, edit: func(m map[string]any) {
			m["@context"] = append(slices.Clone(m["@context"].([]any)), nil, map[string]any{"@vocab": "https://example.org/vocab#"})
		}},
	}
}

// proofAliases rename members of an issued credential's proof (holder
// side: eddsa-rdfc-2022 signs the proof options as a graph too).
func proofAliases() []aliasVariant {
	return []aliasVariant{
		{name: "proof as IRI", graph: true, edit: func(m map[string]any) { move(m, "proof", secNS+"proof") }},
		{name: "proof created as IRI", graph: true, edit: func(m map[string]any) {
			p := m["proof"].(map[string]any)
			p["http://purl.org/dc/terms/created"] = typedDate(p["created"])
			delete(p, "created")
		}},
		{name: "proof purpose aliased", graph: true, edit: func(m map[string]any) {
			addContext(m, map[string]any{"why": map[string]any{"@id": secNS + "proofPurpose", "@type": "@vocab"}})
			move(m["proof"].(map[string]any), "proofPurpose", "why")
		}},
	}
}

// parseRefused asserts that res failed at parse with a data model or
// JSON-LD error: the check, not the signature, refused it.
func parseRefused(tb testing.TB, res verifier.Result) {
	tb.Helper()
	if res.Verified {
		tb.Fatalf("verified (checks %v)", res.Checks)
	}
	if len(res.Results) == 0 || res.Results[0].Check != verifier.CheckParse || res.Results[0].Verified {
		tb.Fatalf("not refused at parse: %+v", res.ProblemDetails)
	}
	switch res.ProblemDetails[0].Type {
	case credential.MalformedValueError.Type(), credential.ParsingError.Type(), credential.UndefinedTermError.Type():
	default:
		tb.Fatalf("problem %+v", res.ProblemDetails[0])
	}
}

// TestAliasedMembersEveryMechanism: each variant, signed by the issuer in
// each mechanism (so that the signature holds), is refused at parse, and
// so is a presentation carrying it; eddsa-rdfc-2022 credentials aliased
// by the holder after issuance (the graph, and so the proof, unchanged)
// are refused too, alone and in a presentation.
func TestAliasedMembersEveryMechanism(t *testing.T) {
	f := newFixture(t)
	v := f.verifier()
	for _, format := range issuer.Formats {
		for _, a := range aliasVariants() {
			t.Run(format+"/"+a.name, func(t *testing.T) {
				var vc map[string]any
				switch {
				case format == issuer.FormatJWT && a.name == "issuer aliased":
					t.Skip("jose refuses to sign a credential without an issuer member")
				case a.unsignable && format != issuer.FormatJWT:
					// Data Integrity signing refuses it (JSON-LD does):
					// the holder adds it after issuance.
					vc = MustIssue(t, expiredDegree(f.iss.DID), f.iss.Signer, format)
					a.edit(vc)
				default:
					c := expiredDegree(f.iss.DID)
					a.edit(c)
					vc = MustSign(t, c, f.iss.Signer, format)
				}
				parseRefused(t, v.VerifyCredential(t.Context(), vc, verifier.Options{}))
				if !a.unsignable || format == issuer.FormatJWT {
					// (A Data Integrity presentation of it cannot be
					// signed either.)
					assertPresentationRefused(t, f, v, vc, format)
				}
			})
		}
	}
	for _, a := range append(aliasVariants(), proofAliases()...) {
		if !a.graph {
			continue
		}
		t.Run("holder/"+a.name, func(t *testing.T) {
			vc := MustIssue(t, expiredDegree(f.iss.DID), f.iss.Signer, issuer.FormatRDFC)
			if a.name == "validUntil as IRI" || a.name == "proof as IRI" {
				// The original is refused by its check, so that the
				// aliasing is what must be caught.
				if res := v.VerifyCredential(t.Context(), vc, verifier.Options{}); res.Verified {
					t.Fatal("the expired credential verifies")
				}
			}
			aliased := MustClone(t, vc)
			a.edit(aliased)
			res := v.VerifyCredential(t.Context(), aliased, verifier.Options{})
			parseRefused(t, res)
			assertPresentationRefused(t, f, v, aliased, issuer.FormatRDFC)
		})
	}
}

// assertPresentationRefused presents vc (a DI presentation for Data
// Integrity credentials, a vp+jwt for vc+jwt) and asserts that the
// presentation does not verify and that its credential check says why.
func assertPresentationRefused(tb testing.TB, f *fixture, v *verifier.Verifier, vc map[string]any, format string) {
	tb.Helper()
	pf := formatDI
	if format == issuer.FormatJWT {
		pf = formatVPJ
	}
	p := presenter{f: f, format: pf}
	vp := p.MustPresent(tb, []any{vc}, "", "")
	res := v.VerifyPresentation(context.Background(), vp, verifier.Options{AllowNoChallenge: true})
	if res.Verified {
		tb.Fatal("the presentation verified")
	}
	if len(res.Credentials) != 1 || res.Credentials[0].Verified || !hasCheck(res, verifier.CheckCredentials, false) {
		tb.Fatalf("presentation: %+v", res.ProblemDetails)
	}
}

// TestInlineContextsEveryMechanism: a credential with inline context
// objects (after and among the context URLs, and in its subject) is
// issued in every mechanism and verifies, alone and presented; the same
// credential expired fails its validity check, which sees validUntil.
func TestInlineContextsEveryMechanism(t *testing.T) {
	f := newFixture(t)
	v := f.verifier()
	inlineDegree := func() map[string]any {
		c := degree(f.iss.DID)
		c["@context"] = []any{credential.ContextV2, map[string]any{"favoriteColor": inlineTerm}, "https://www.w3.org/ns/credentials/examples/v2"}
		s := c["credentialSubject"].(map[string]any)
		s["favoriteColor"] = "blue"
		s["@context"] = map[string]any{"alumniOf": "https://schema.org/alumniOf"}
		s["alumniOf"] = "Example University"
		c["https://schema.org/comment"] = "an IRI member outside the VC vocabulary"
		return c
	}
	for _, format := range issuer.Formats {
		t.Run(format, func(t *testing.T) {
			vc := MustIssue(t, inlineDegree(), f.iss.Signer, format)
			assertResult(t, v.VerifyCredential(t.Context(), vc, verifier.Options{}), expect{passed: []string{verifier.CheckParse, verifier.CheckProof}})
			tampered := credential.ProofVerificationError
			if format == issuer.FormatJWT {
				tampered = credential.CryptographicSecurityError
			}
			assertResult(t, v.VerifyCredential(t.Context(), MustTamper(t, vc), verifier.Options{}), expect{check: verifier.CheckProof, code: tampered})
			pf := formatDI
			if format == issuer.FormatJWT {
				pf = formatVPJ
			}
			p := presenter{f: f, format: pf}
			vp := p.MustPresent(t, []any{vc}, "", "")
			res := v.VerifyPresentation(t.Context(), vp, verifier.Options{AllowNoChallenge: true})
			if !res.Verified {
				t.Fatalf("presentation: %+v", res.ProblemDetails)
			}
			expired := inlineDegree()
			expired["validUntil"] = credential.FormatDateTime(t0.Add(-30 * time.Minute))
			evc := MustIssue(t, expired, f.iss.Signer, format)
			assertResult(t, v.VerifyCredential(t.Context(), evc, verifier.Options{}), expect{check: verifier.CheckValidity, code: credential.ValidityPeriodError})
		})
	}
}

// TestInlineContextPresentation: a presentation whose own @context has an
// inline object, signed with eddsa-rdfc-2022 and eddsa-jcs-2022, verifies;
// its holder renamed to an alias (the graph kept) is refused.
func TestInlineContextPresentation(t *testing.T) {
	f := newFixture(t)
	v := f.verifier()
	vc := MustIssue(t, degree(f.iss.DID), f.iss.Signer, issuer.FormatRDFC)
	for _, suite := range []string{dataintegrity.CryptosuiteRDFC, dataintegrity.CryptosuiteJCS} {
		t.Run(suite, func(t *testing.T) {
			vp := map[string]any{
				"@context":             []any{credential.ContextV2, map[string]any{"purpose": "https://example.org/vocab#purpose"}},
				"type":                 []any{credential.TypePresentation},
				"holder":               f.holder.DID,
				"purpose":              "job application",
				"verifiableCredential": []any{vc},
			}
			signed, err := dataintegrity.Sign(t.Context(), vp, f.holder.Signer, dataintegrity.SignOptions{
				Cryptosuite: suite, ProofPurpose: credential.PurposeAuthentication, Created: f.clk.t})
			if err != nil {
				t.Fatal(err)
			}
			if res := v.VerifyPresentation(t.Context(), signed, verifier.Options{AllowNoChallenge: true}); !res.Verified {
				t.Fatalf("%+v", res.ProblemDetails)
			}
			if suite != dataintegrity.CryptosuiteRDFC {
				return
			}
			aliased := MustClone(t, signed)
			addContext(aliased, map[string]any{"who": map[string]any{"@id": credNS + "holder", "@type": "@id"}})
			move(aliased, "holder", "who")
			parseRefused(t, v.VerifyPresentation(t.Context(), aliased, verifier.Options{AllowNoChallenge: true}))
		})
	}
}

// TestAliasedV1Dates: a VC Data Model 1.1 credential, expired by its
// expirationDate, signed with eddsa-rdfc-2022: its expirationDate aliased
// or renamed to its IRI by the holder (the proof intact) is refused at
// parse; as signed, its validity check fails.
func TestAliasedV1Dates(t *testing.T) {
	f := newFixture(t)
	v := f.verifier()
	c := map[string]any{
		"@context":          []any{credential.ContextV1},
		"id":                credID,
		"type":              []any{credential.TypeCredential},
		"issuer":            f.iss.DID,
		"issuanceDate":      credential.FormatDateTime(issuedAt),
		"expirationDate":    credential.FormatDateTime(t0.Add(-30 * time.Minute)),
		"credentialSubject": map[string]any{"id": subjectDID},
	}
	vc := MustSign(t, c, f.iss.Signer, issuer.FormatRDFC)
	assertResult(t, v.VerifyCredential(t.Context(), vc, verifier.Options{}), expect{check: verifier.CheckValidity, code: credential.ValidityPeriodError})
	for name, edit := range map[string]func(m map[string]any){
		"expirationDate aliased": func(m map[string]any) {
			addContext(m, map[string]any{"exp2": map[string]any{"@id": credNS + "expirationDate", "@type": xsdDate}})
			move(m, "expirationDate", "exp2")
		},
		"expirationDate as IRI": func(m map[string]any) {
			m[credNS+"expirationDate"] = typedDate(m["expirationDate"])
			delete(m, "expirationDate")
		},
	} {
		t.Run(name, func(t *testing.T) {
			aliased := MustClone(t, vc)
			edit(aliased)
			parseRefused(t, v.VerifyCredential(t.Context(), aliased, verifier.Options{}))
		})
	}
}
