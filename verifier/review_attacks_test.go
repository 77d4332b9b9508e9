package verifier_test

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/verifier"
)

// The attacks of the security review of the inline-context change (stop
// 21). Each keeps the RDF graph a proof signs, so the proof still
// verifies, and tries to hide a date from the checks that read JSON
// members by name; each must end in verified: false.

// expiredProof is the fixture's degree with an eddsa-rdfc-2022 proof
// that expired 30 minutes before t0.
func expiredProof(t *testing.T, f *fixture) map[string]any {
	t.Helper()
	vc, err := dataintegrity.Sign(t.Context(), degree(f.iss.DID), f.iss.Signer, dataintegrity.SignOptions{
		Cryptosuite: issuer.FormatRDFC, Created: issuedAt, Expires: t0.Add(-30 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	return vc
}

// TestProofExpiresRenamed: sec:expiration has two standard names,
// "expires" and "expiration" (the security contexts'). Renaming the
// proof's expires to expiration, under an inline term or a bundled
// security context appended to the document's @context (the fast path,
// with no inline context at all), keeps the graph and must not hide the
// expiry; nor may the proof's own @context, which the signature ignores,
// make the renamed member look harmless.
func TestProofExpiresRenamed(t *testing.T) {
	f := newFixture(t)
	v := f.verifier()
	vc := expiredProof(t, f)
	if res := v.VerifyCredential(t.Context(), vc, verifier.Options{}); res.Verified {
		t.Fatal("an expired proof verifies")
	}
	variants := map[string]map[string]any{}
	inline := MustClone(t, vc)
	addContext(inline, map[string]any{"expiration": map[string]any{"@id": secNS + "expiration", "@type": xsdDate}})
	move(inline["proof"].(map[string]any), "expires", "expiration")
	variants["inline term"] = inline
	for _, url := range []string{"https://w3id.org/security/v1", "https://w3id.org/security/v2"} {
		for _, first := range []bool{false, true} {
			a := MustClone(t, vc)
			if first {
				a["@context"] = append([]any{url}, a["@context"].([]any)...)
			} else {
				a["@context"] = append(a["@context"].([]any), url)
			}
			move(a["proof"].(map[string]any), "expires", "expiration")
			variants[url+map[bool]string{true: " first", false: " last"}[first]] = a
		}
	}
	own := MustClone(t, vc)
	addContext(own, map[string]any{"until2": map[string]any{"@id": secNS + "expiration", "@type": xsdDate}})
	p := own["proof"].(map[string]any)
	p["@context"] = []any{map[string]any{"until2": "https://example.org/harmless"}}
	move(p, "expires", "until2")
	variants["the proof's own @context"] = own
	for name, doc := range variants {
		if res := v.VerifyCredential(t.Context(), doc, verifier.Options{}); res.Verified {
			t.Errorf("%s: the expired proof verifies", name)
		}
	}
}

// v1ToV2 gives a signed 1.1 credential a 2.0 @context whose inline terms
// keep issuanceDate and expirationDate meaning what was signed.
func v1ToV2(t *testing.T, vc map[string]any, more ...any) map[string]any {
	t.Helper()
	a := MustClone(t, vc)
	a["@context"] = append(append([]any{credential.ContextV2}, more...), map[string]any{
		"issuanceDate":   map[string]any{"@id": credNS + "issuanceDate", "@type": xsdDate},
		"expirationDate": map[string]any{"@id": credNS + "expirationDate", "@type": xsdDate},
	})
	return a
}

// TestV1ToV2ContextSwap: an expired 1.1 credential given a 2.0 @context
// (the graph, and so the proof, unchanged) stays expired, alone and in a
// presentation, and so does the reference implementation's
// Ed25519Signature2020 credential.
func TestV1ToV2ContextSwap(t *testing.T) {
	f := newFixture(t)
	v := f.verifier()
	vc := MustSign(t, map[string]any{
		"@context": []any{credential.ContextV1}, "id": credID, "type": []any{credential.TypeCredential},
		"issuer": f.iss.DID, "issuanceDate": credential.FormatDateTime(issuedAt),
		"expirationDate":    credential.FormatDateTime(t0.Add(-30 * time.Minute)),
		"credentialSubject": map[string]any{"id": f.holder.DID},
	}, f.iss.Signer, issuer.FormatRDFC)
	if res := v.VerifyCredential(t.Context(), vc, verifier.Options{}); res.Verified {
		t.Fatal("the expired 1.1 credential verifies")
	}
	swapped := v1ToV2(t, vc)
	res := v.VerifyCredential(t.Context(), swapped, verifier.Options{})
	assertResult(t, res, expect{check: verifier.CheckValidity, code: credential.ValidityPeriodError})
	p := presenter{f: f, format: formatDI}
	vp := p.MustPresent(t, []any{swapped}, "", "")
	if res := v.VerifyPresentation(t.Context(), vp, verifier.Options{AllowNoChallenge: true, HolderBinding: true}); res.Verified {
		t.Error("a presentation of the swapped credential verifies")
	}

	b, err := os.ReadFile("../credential/dataintegrity/testdata/Ed25519Signature2020/reference-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref map[string]any
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	mb := "z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"
	pub, err := keys.ParseMultibase(mb)
	if err != nil {
		t.Fatal(err)
	}
	ks := &credential.StaticKeys{}
	ks.Add(credential.VerificationKey{ID: "did:key:" + mb + "#" + mb, Controller: "did:key:" + mb, Public: pub}, credential.PurposeAssertion)
	late := &verifier.Verifier{Keys: ks, Now: func() time.Time { return time.Date(2037, 1, 1, 0, 0, 0, 0, time.UTC) }}
	if res := late.VerifyCredential(t.Context(), ref, verifier.Options{}); res.Verified {
		t.Fatal("the reference credential verifies after its expirationDate")
	}
	refSwapped := v1ToV2(t, ref, "https://w3id.org/security/suites/ed25519-2020/v1", "https://www.w3.org/ns/credentials/examples/v2")
	if res := late.VerifyCredential(t.Context(), refSwapped, verifier.Options{}); res.Verified {
		t.Error("the reference Ed25519Signature2020 credential verifies after its expirationDate with a 2.0 @context")
	}
}

// TestRedefinedVerifiableCredentialChecked: a property-scoped context
// that redefines verifiableCredential without @graph puts what it holds
// in the credential's own graph; it is checked like any other member, so
// a validUntil hidden there under its IRI is refused.
func TestRedefinedVerifiableCredentialChecked(t *testing.T) {
	f := newFixture(t)
	v := f.verifier()
	c := degree(f.iss.DID)
	c["id"] = credID
	addContext(c, map[string]any{"wrap": map[string]any{"@id": "https://example.org/vocab#wrap",
		"@context": map[string]any{"verifiableCredential": map[string]any{"@id": credNS + "verifiableCredential", "@type": "@id"}}}})
	c["credentialSubject"].(map[string]any)["wrap"] = map[string]any{"verifiableCredential": map[string]any{
		"id": credID, credNS + "validUntil": typedDate(credential.FormatDateTime(t0.Add(-30 * time.Minute))),
		credNS + "credentialStatus": map[string]any{"id": "https://status.example/1#5"},
	}}
	vc := MustSign(t, c, f.iss.Signer, issuer.FormatRDFC)
	if res := v.VerifyCredential(t.Context(), vc, verifier.Options{}); res.Verified {
		t.Error("a validUntil and credentialStatus hidden under a redefined verifiableCredential pass")
	}
}
