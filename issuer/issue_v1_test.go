package issuer_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/issuer"
)

// alumniV1 is a VC Data Model 1.1 credential (the 2.0 examples context
// defines its terms by @vocab: the 1.1 examples context imports ODRL's,
// which is not bundled).
func alumniV1(iss string) map[string]any {
	m := map[string]any{
		"@context":          []any{credential.ContextV1, "https://www.w3.org/ns/credentials/examples/v2"},
		"type":              []any{credential.TypeCredential, "ExampleAlumniCredential"},
		"credentialSubject": map[string]any{"id": "did:example:ebfeb1f712ebc6f1c276e12ec21", "alumniOf": "The School of Examples"},
	}
	if iss != "" {
		m["issuer"] = iss
	}
	return m
}

// statusEntry is a Bitstring Status List entry, as the node allocates them.
func statusEntry() map[string]any {
	return map[string]any{"id": "https://example.com/status/1#5", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
		"statusListIndex": "5", "statusListCredential": "https://example.com/status/1"}
}

// TestIssueV1 issues VC Data Model 1.1 credentials as the reference
// implementation does with eddsa-rdfc-2022 (the data integrity context
// appended, issuanceDate filled from the clock and validFrom never, the
// status context added for status entries) and as jwt_vc_json; each
// verifies, and the input is never modified.
func TestIssueV1(t *testing.T) {
	signer, ks := MustSigner(t, 1)
	me := credential.ControllerOf(signer.ID)
	for _, tc := range []struct {
		name        string
		cred        func() map[string]any
		wantContext []any
		wantDate    string
	}{
		{"filled", func() map[string]any { return alumniV1(me) },
			[]any{credential.ContextV1, "https://www.w3.org/ns/credentials/examples/v2", dataintegrity.DataIntegrityContext}, credential.FormatDateTime(t0)},
		{"issuanceDate kept", func() map[string]any {
			m := alumniV1("")
			m["issuanceDate"], m["expirationDate"] = "2025-01-01T00:00:00Z", "2035-01-01T00:00:00Z"
			return m
		}, []any{credential.ContextV1, "https://www.w3.org/ns/credentials/examples/v2", dataintegrity.DataIntegrityContext}, "2025-01-01T00:00:00Z"},
		{"status entries", func() map[string]any {
			m := alumniV1(me)
			m["id"] = "urn:uuid:6a0e1f4c-0000-4000-8000-000000000001"
			m["credentialStatus"] = statusEntry()
			return m
		}, []any{credential.ContextV1, "https://www.w3.org/ns/credentials/examples/v2", issuer.StatusContext, dataintegrity.DataIntegrityContext}, credential.FormatDateTime(t0)},
		{"status context given", func() map[string]any {
			m := alumniV1(me)
			m["@context"] = []any{credential.ContextV1, issuer.StatusContext, "https://www.w3.org/ns/credentials/examples/v2"}
			m["credentialStatus"] = []any{statusEntry()}
			return m
		}, []any{credential.ContextV1, issuer.StatusContext, "https://www.w3.org/ns/credentials/examples/v2", dataintegrity.DataIntegrityContext}, credential.FormatDateTime(t0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.cred()
			before := MustClone(t, in)
			vc, err := issuer.Issue(t.Context(), in, signer, issuer.Options{Now: t0})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(MustClone(t, in), before) {
				t.Error("input modified")
			}
			if !reflect.DeepEqual(vc["@context"], tc.wantContext) {
				t.Errorf("@context %v, want %v", vc["@context"], tc.wantContext)
			}
			if vc["issuanceDate"] != tc.wantDate {
				t.Errorf("issuanceDate %v, want %s", vc["issuanceDate"], tc.wantDate)
			}
			if _, ok := vc["validFrom"]; ok {
				t.Errorf("validFrom %v in a 1.1 credential", vc["validFrom"])
			}
			if vc["issuer"] != me {
				t.Errorf("issuer %v", vc["issuer"])
			}
			MustOpen(t, vc, ks)
			c, err := credential.CredentialFrom(vc)
			if err != nil || c.Version != credential.V1 {
				t.Fatalf("issued credential: %v (version %v)", err, c)
			}

			token, err := issuer.IssueToken(t.Context(), tc.cred(), signer, issuer.Options{Now: t0})
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := jose.VerifyJWTVC(t.Context(), token, ks, jose.VerifyOptions{})
			if err != nil {
				t.Fatalf("verify jwt_vc_json: %v", err)
			}
			if got["issuanceDate"] != tc.wantDate || got["issuer"] != me {
				t.Errorf("jwt_vc_json credential %v", got)
			}
			wantCtx := slices.DeleteFunc(slices.Clone(tc.wantContext), func(c any) bool { return c == dataintegrity.DataIntegrityContext })
			if !reflect.DeepEqual(got["@context"], wantCtx) {
				t.Errorf("jwt_vc_json @context %v, want %v", got["@context"], wantCtx)
			}
		})
	}
}

// TestIssueV1Refused: each data model keeps to its formats, a 1.1
// credential does not carry 2.0's validity members, and the two entry
// points do not take each other's formats.
func TestIssueV1Refused(t *testing.T) {
	signer, _ := MustSigner(t, 1)
	me := credential.ControllerOf(signer.ID)
	for _, tc := range []struct {
		name  string
		cred  map[string]any
		token bool
		opts  issuer.Options
	}{
		{name: "1.1 with eddsa-jcs-2022", cred: alumniV1(me), opts: issuer.Options{Format: issuer.FormatJCS, Now: t0}},
		{name: "1.1 with vc+jwt", cred: alumniV1(me), opts: issuer.Options{Format: issuer.FormatJWT, Now: t0}},
		{name: "2.0 as jwt_vc_json", cred: degree(me), token: true, opts: issuer.Options{Now: t0}},
		{name: "1.1 with validFrom", cred: func() map[string]any {
			m := alumniV1(me)
			m["validFrom"] = "2025-01-01T00:00:00Z"
			return m
		}(), opts: issuer.Options{Now: t0}},
		{name: "1.1 with validUntil as jwt_vc_json", cred: func() map[string]any {
			m := alumniV1(me)
			m["validUntil"] = "2035-01-01T00:00:00Z"
			return m
		}(), token: true, opts: issuer.Options{Now: t0}},
		{name: "1.1 without issuanceDate or clock", cred: alumniV1(me)},
		{name: "Issue with jwt_vc_json", cred: alumniV1(me), opts: issuer.Options{Format: issuer.FormatJWTVC, Now: t0}},
		{name: "IssueToken with vc+jwt", cred: degree(me), token: true, opts: issuer.Options{Format: issuer.FormatJWT, Now: t0}},
		{name: "IssueToken with a proof", cred: func() map[string]any {
			m := alumniV1(me)
			m["proof"] = map[string]any{"type": "Ed25519Signature2020"}
			return m
		}(), token: true, opts: issuer.Options{Now: t0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.token {
				_, err = issuer.IssueToken(t.Context(), tc.cred, signer, tc.opts)
			} else {
				_, err = issuer.Issue(t.Context(), tc.cred, signer, tc.opts)
			}
			if got := credential.CodeOf(err, ""); got != credential.MalformedValueError {
				t.Fatalf("error %v (code %q), want %s", err, got, credential.MalformedValueError)
			}
		})
	}
	t.Run("jwt_vc_json issuer mismatch", func(t *testing.T) {
		other, _ := MustSigner(t, 2)
		_, err := issuer.IssueToken(t.Context(), alumniV1(credential.ControllerOf(other.ID)), signer, issuer.Options{Now: t0})
		if got := credential.CodeOf(err, ""); got != credential.IssuerMismatchError {
			t.Fatalf("error %v, want %s", err, credential.IssuerMismatchError)
		}
	})
}
