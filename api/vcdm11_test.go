package api_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/didkeys"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/verifier"
)

// alumniV1 is a VC Data Model 1.1 credential issued by iss.
func alumniV1(iss, issued, expires string) map[string]any {
	return map[string]any{
		"@context":          []any{credential.ContextV1, "https://www.w3.org/ns/credentials/examples/v2"},
		"id":                "urn:uuid:1d7a1b54-1111-4e1f-9f44-0a6f0b0c0d0e",
		"type":              []any{credential.TypeCredential, "ExampleAlumniCredential"},
		"issuer":            iss,
		"issuanceDate":      issued,
		"expirationDate":    expires,
		"credentialSubject": map[string]any{"id": "did:example:ebfeb1f712ebc6f1c276e12ec21", "alumniOf": "The School of Examples"},
	}
}

// v11Server serves the API with a verifier that resolves did:key, at the
// limit tests' clock (2026-06-01).
func v11Server(t *testing.T) (url string, c *http.Client) {
	t.Helper()
	srv, _, _ := limitServer(t, func(c *api.Config) {
		c.VerifyRate = -1
		c.Verifier = &verifier.Verifier{Keys: &didkeys.CachedKeys{Next: didkeys.DIDKeys{Resolver: did.Methods{"key": key.Resolver{}}}}, Now: c.Now}
	})
	return srv.URL, srv.Client()
}

// verifyOver posts a credential to /credentials/verify and decodes the result.
func verifyOver(t *testing.T, url string, c *http.Client, vc any) (int, verifier.Result) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"verifiableCredential": vc})
	if err != nil {
		t.Fatal(err)
	}
	a := post(t, c, url+"/credentials/verify", body)
	var res verifier.Result
	if err := json.Unmarshal(a.body, &res); err != nil {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	return a.status, res
}

// failedCheck returns the first failed check and its problem type.
func failedCheck(res verifier.Result) (string, string) {
	for _, r := range res.Results {
		if !r.Verified && r.Problem != nil {
			return r.Check, r.Problem.Type
		}
	}
	return "", ""
}

// rawJWT signs header and claims as given with signer (alg must be the
// signer's), for tokens the issuer would not make.
func rawJWT(t *testing.T, header string, claims map[string]any, signer credential.Signer) string {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	in := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString(b)
	sig, err := signer.Sign([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// TestVerifyVCDM11 verifies, through the HTTP server, VC Data Model 1.1
// credentials: issued with eddsa-rdfc-2022 and as jwt_vc_json, and an
// Ed25519Signature2020 credential signed by the reference implementation.
// Each verifies with its format named; tampered, expired, not yet valid,
// alg none, another key's signature and a 2.0 credential in a 1.1 JWT
// are each refused by the check that says why.
func TestVerifyVCDM11(t *testing.T) {
	url, c := v11Server(t)
	signer := didKeySigner(t, 11)
	other := didKeySigner(t, 12)
	iss := key.New(signer.Public())
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	good := alumniV1(iss, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z")
	expired := alumniV1(iss, "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z")
	future := alumniV1(iss, "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z")

	ldp := func(cred map[string]any) map[string]any {
		vc, err := issuer.Issue(t.Context(), cred, signer, issuer.Options{Now: at})
		if err != nil {
			t.Fatal(err)
		}
		return vc
	}
	jwt := func(cred map[string]any) string {
		tok, err := issuer.IssueToken(t.Context(), cred, signer, issuer.Options{Now: at})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	ref, err := os.ReadFile(filepath.Join("..", "credential", "dataintegrity", "testdata", "Ed25519Signature2020", "reference-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	var edsig map[string]any
	if err := json.Unmarshal(ref, &edsig); err != nil {
		t.Fatal(err)
	}

	okCases := []struct {
		name, format string
		vc           any
	}{
		{"eddsa-rdfc-2022", issuer.FormatRDFC, ldp(good)},
		{"jwt_vc_json", jose.FormatJWTVC, jwt(good)},
		{"Ed25519Signature2020", "Ed25519Signature2020", edsig},
	}
	for _, tc := range okCases {
		t.Run("verified/"+tc.name, func(t *testing.T) {
			status, res := verifyOver(t, url, c, tc.vc)
			if status != http.StatusOK || !res.Verified {
				t.Fatalf("status %d, result %+v", status, res)
			}
			if res.Format != tc.format {
				t.Errorf("format %q, want %q", res.Format, tc.format)
			}
			if res.Document["issuanceDate"] == nil {
				t.Errorf("document %v has no issuanceDate", res.Document)
			}
		})
	}

	tamperedLDP := ldp(good)
	tamperedLDP["credentialSubject"].(map[string]any)["alumniOf"] = "Mallory University"
	tamperedEd := map[string]any{}
	_ = json.Unmarshal(ref, &tamperedEd)
	tamperedEd["expirationDate"] = "2099-01-01T00:00:00Z"
	tok := jwt(good)
	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tamperedJWT := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), "The School of Examples", "Mallory University", 1))) + "." + parts[2]
	claims := map[string]any{"vc": good, "iss": iss, "nbf": 1767225600, "exp": 1798761600}
	v2 := benchCredential(iss)
	for _, tc := range []struct {
		name       string
		vc         any
		check, typ string
	}{
		{"rdfc tampered", tamperedLDP, verifier.CheckProof, credential.ProofVerificationError.Type()},
		{"rdfc expired", ldp(expired), verifier.CheckValidity, credential.ValidityPeriodError.Type()},
		{"rdfc not yet valid", ldp(future), verifier.CheckValidity, credential.ValidityPeriodError.Type()},
		{"Ed25519Signature2020 tampered", tamperedEd, verifier.CheckProof, credential.ProofVerificationError.Type()},
		{"jwt tampered", tamperedJWT, verifier.CheckProof, credential.CryptographicSecurityError.Type()},
		{"jwt expired", jwt(expired), verifier.CheckValidity, credential.ValidityPeriodError.Type()},
		{"jwt not yet valid", jwt(future), verifier.CheckValidity, credential.ValidityPeriodError.Type()},
		{"jwt alg none", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"`+signer.ID+`"}`)) + "." + parts[1] + ".",
			verifier.CheckProof, credential.CryptographicSecurityError.Type()},
		{"jwt signed by another key", rawJWT(t, `{"alg":"EdDSA","typ":"JWT","kid":"`+signer.ID+`"}`, claims, other), verifier.CheckProof, credential.CryptographicSecurityError.Type()},
		{"jwt by another issuer's key", rawJWT(t, `{"alg":"EdDSA","typ":"JWT","kid":"`+other.ID+`"}`, claims, other), verifier.CheckProof, credential.IssuerMismatchError.Type()},
		{"jwt exp disagrees with expirationDate", rawJWT(t, `{"alg":"EdDSA","typ":"JWT","kid":"`+signer.ID+`"}`,
			map[string]any{"vc": good, "iss": iss, "exp": 1898761600}, signer), verifier.CheckParse, credential.MalformedValueError.Type()},
		{"jwt holding a 2.0 credential", rawJWT(t, `{"alg":"EdDSA","typ":"JWT","kid":"`+signer.ID+`"}`,
			map[string]any{"vc": v2, "iss": iss}, signer), verifier.CheckParse, credential.MalformedValueError.Type()},
		{"jwt with a fourth part", tok + "." + parts[2], verifier.CheckParse, credential.ParsingError.Type()},
	} {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			status, res := verifyOver(t, url, c, tc.vc)
			if res.Verified {
				t.Fatalf("status %d, verified: %+v", status, res)
			}
			if check, typ := failedCheck(res); check != tc.check || typ != tc.typ {
				t.Errorf("failed %s (%s), want %s (%s): %+v", check, typ, tc.check, tc.typ, res.ProblemDetails)
			}
		})
	}
	t.Run("refused/jwt over the body bound", func(t *testing.T) {
		body, _ := json.Marshal(map[string]any{"verifiableCredential": tok + strings.Repeat("A", 300<<10)})
		problemOf(t, post(t, c, url+"/credentials/verify", body), http.StatusRequestEntityTooLarge)
	})
}
