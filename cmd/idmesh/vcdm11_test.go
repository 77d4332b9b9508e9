package main

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/verifier"
)

// alumniV1 is a VC Data Model 1.1 credential of issuer, without dates.
func alumniV1(issuer string) map[string]any {
	return map[string]any{
		"@context":          []any{credential.ContextV1, "https://www.w3.org/ns/credentials/examples/v2"},
		"type":              []any{"VerifiableCredential", "ExampleAlumniCredential"},
		"issuer":            issuer,
		"credentialSubject": map[string]any{"id": "did:example:ebfeb1f712ebc6f1c276e12ec21", "alumniOf": "The School of Examples"},
	}
}

// TestVCDM11 issues VC Data Model 1.1 credentials with `idmesh dev`: with
// eddsa-rdfc-2022 (issuanceDate filled, never validFrom; the status and
// data integrity contexts added) and as jwt_vc_json, through the API and
// through `idmesh vc issue`, and verifies them with the API and `idmesh vc
// verify`; tampered, expired, alg none and another key's signature are
// refused, and each data model keeps to its formats.
func TestVCDM11(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	ks := filepath.Join(t.TempDir(), "keystore.json")
	n := startDev(t, home)
	tokenBytes, err := os.ReadFile(filepath.Join(home, "api-token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tokenBytes))
	r := authPost(t, n.url+"/v1/issuers", token, map[string]any{"name": "uni"})
	if r.status != http.StatusCreated {
		t.Fatalf("create issuer: %d %s", r.status, r.body)
	}
	uni := decode[struct {
		DID string `json:"did"`
	}](t, r).DID
	verify := func(vc any) httpResult {
		return authPost(t, n.url+"/credentials/verify", "", map[string]any{"verifiableCredential": vc})
	}
	issue := func(path string, cred map[string]any, opts map[string]any) httpResult {
		return authPost(t, n.url+path, token, map[string]any{"credential": cred, "options": opts})
	}
	type issued struct {
		VC any `json:"verifiableCredential"`
	}

	t.Run("eddsa-rdfc-2022", func(t *testing.T) {
		r := issue("/credentials/issue", alumniV1(uni), nil)
		if r.status != http.StatusCreated {
			t.Fatalf("issue: %d %s", r.status, r.body)
		}
		vc, _ := decode[issued](t, r).VC.(map[string]any)
		if _, ok := vc["issuanceDate"].(string); !ok {
			t.Errorf("no issuanceDate: %v", vc)
		}
		if _, ok := vc["validFrom"]; ok {
			t.Errorf("validFrom in a 1.1 credential: %v", vc)
		}
		ctx, _ := vc["@context"].([]any)
		want := []any{credential.ContextV1, "https://www.w3.org/ns/credentials/examples/v2",
			"https://www.w3.org/ns/credentials/status/v1", "https://w3id.org/security/data-integrity/v2"}
		if _, hasStatus := vc["credentialStatus"]; !hasStatus || !slices.Equal(ctx, want) {
			t.Errorf("@context %v (status %v), want %v", ctx, vc["credentialStatus"], want)
		}
		r = verify(vc)
		res := decode[verifier.Result](t, r)
		if r.status != http.StatusOK || !res.Verified || res.Format != "eddsa-rdfc-2022" {
			t.Fatalf("verify: %d %s", r.status, r.body)
		}
		b, _ := json.Marshal(vc)
		var tampered map[string]any
		_ = json.Unmarshal([]byte(strings.Replace(string(b), "The School of Examples", "Mallory University", 1)), &tampered)
		if _, typ := problemType(t, verify(tampered)); typ != credential.ProofVerificationError.Type() {
			t.Errorf("tampered: %s", typ)
		}
	})

	t.Run("jwt_vc_json", func(t *testing.T) {
		r := issue("/issuers/uni/jwt_vc_json/credentials/issue", alumniV1(uni), nil)
		if r.status != http.StatusCreated {
			t.Fatalf("issue: %d %s", r.status, r.body)
		}
		tok, ok := decode[issued](t, r).VC.(string)
		if !ok || !jose.IsJWTVC(tok) {
			t.Fatalf("not a 1.1 JWT: %s", r.body)
		}
		r = verify(tok)
		res := decode[verifier.Result](t, r)
		if r.status != http.StatusOK || !res.Verified || res.Format != jose.FormatJWTVC || res.Issuer != uni {
			t.Fatalf("verify: %d %s", r.status, r.body)
		}
		if r := issue("/credentials/issue", alumniV1(uni), map[string]any{"format": "jwt_vc_json"}); r.status != http.StatusCreated {
			t.Fatalf("options.format jwt_vc_json: %d %s", r.status, r.body)
		}
		parts := strings.Split(tok, ".")
		payload, _ := b64url.DecodeString(parts[1])
		tampered := parts[0] + "." + b64url.EncodeToString([]byte(strings.Replace(string(payload), "The School of Examples", "Mallory University", 1))) + "." + parts[2]
		none := b64url.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
		for name, bad := range map[string]string{"tampered": tampered, "alg none": none} {
			if _, typ := problemType(t, verify(bad)); typ != credential.CryptographicSecurityError.Type() && typ != credential.MalformedValueError.Type() {
				t.Errorf("%s: %s", name, typ)
			}
		}
	})

	t.Run("expired", func(t *testing.T) {
		c := alumniV1(uni)
		c["issuanceDate"], c["expirationDate"] = "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z"
		for _, format := range []string{"eddsa-rdfc-2022", "jwt_vc_json"} {
			r := issue("/credentials/issue", c, map[string]any{"format": format})
			if r.status != http.StatusCreated {
				t.Fatalf("%s: issue %d %s", format, r.status, r.body)
			}
			if _, typ := problemType(t, verify(decode[issued](t, r).VC)); typ != credential.ValidityPeriodError.Type() {
				t.Errorf("%s: %s", format, typ)
			}
		}
	})

	t.Run("another key", func(t *testing.T) {
		k, _ := keys.Generate(keys.Ed25519, rand.Reader)
		op, err := idmesh.NewCreate(status(t, n.url).ChainID, k)
		if err != nil {
			t.Fatal(err)
		}
		other := submitDoc(t, n.url, op.Document, k)
		c := alumniV1(uni)
		c["issuanceDate"] = credential.FormatDateTime(time.Now())
		tok, err := jose.SignJWTVC(c, credential.KeySigner{ID: other + "#key-1", Key: k}, jose.SignOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, typ := problemType(t, verify(tok)); typ != credential.IssuerMismatchError.Type() {
			t.Errorf("claiming uni with another DID's key: %s", typ)
		}
		// The issuer's own key id, another key's signature.
		var iss []struct {
			KeyID string `json:"verificationMethod"`
		}
		if err := json.Unmarshal([]byte(issuersJSON(t, n.url, token)), &iss); err != nil || len(iss) != 1 {
			t.Fatalf("issuers: %v %v", err, iss)
		}
		forged, err := jose.SignJWTVC(c, credential.KeySigner{ID: iss[0].KeyID, Key: k}, jose.SignOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, typ := problemType(t, verify(forged)); typ != credential.CryptographicSecurityError.Type() {
			t.Errorf("forged signature: %s", typ)
		}
	})

	t.Run("formats of each model", func(t *testing.T) {
		for name, req := range map[string]struct {
			cred   map[string]any
			format string
		}{
			"2.0 as jwt_vc_json": {degree(uni), "jwt_vc_json"},
			"1.1 as vc+jwt":      {alumniV1(uni), "vc+jwt"},
			"1.1 with validFrom": {func() map[string]any { c := alumniV1(uni); c["validFrom"] = "2025-01-01T00:00:00Z"; return c }(), "eddsa-rdfc-2022"},
		} {
			r := issue("/credentials/issue", req.cred, map[string]any{"format": req.format})
			if r.status != http.StatusBadRequest || r.contentType != "application/problem+json" || !strings.Contains(string(r.body), credential.MalformedValueError.Type()) {
				t.Errorf("%s: %d %s %s", name, r.status, r.contentType, r.body)
			}
		}
	})

	t.Run("cli", func(t *testing.T) {
		dir := t.TempDir()
		in := filepath.Join(dir, "alumni.json")
		b, _ := json.Marshal(alumniV1(uni))
		if err := os.WriteFile(in, b, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{"eddsa-rdfc-2022", "jwt_vc_json"} {
			out := mustCLI(t, n.url, ks, "vc", "issue", "--api-token", token, "--issuer", "uni", "--format", format, in)
			if format == "jwt_vc_json" && (strings.Count(strings.TrimSpace(out), "\n") != 0 || !jose.IsJWTVC(strings.TrimSpace(out))) {
				t.Fatalf("vc issue jwt_vc_json printed %q, want the bare token", out)
			}
			vcFile := filepath.Join(dir, format+".txt")
			if err := os.WriteFile(vcFile, []byte(out), 0o600); err != nil {
				t.Fatal(err)
			}
			if got := mustCLI(t, n.url, ks, "vc", "verify", vcFile); !strings.HasPrefix(got, "verified ("+format+") "+uni) {
				t.Fatalf("vc verify %s:\n%s", format, got)
			}
			var bad string
			if format == "jwt_vc_json" {
				parts := strings.Split(strings.TrimSpace(out), ".")
				payload, _ := b64url.DecodeString(parts[1])
				bad = parts[0] + "." + b64url.EncodeToString([]byte(strings.Replace(string(payload), "The School of Examples", "Mallory University", 1))) + "." + parts[2]
			} else {
				bad = strings.Replace(out, "The School of Examples", "Mallory University", 1)
			}
			if err := os.WriteFile(vcFile, []byte(bad), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, errOut, code := cli(t, n.url, ks, "vc", "verify", vcFile); code != 1 || !strings.Contains(errOut, "not verified") {
				t.Fatalf("vc verify tampered %s: exit %d %s", format, code, errOut)
			}
		}
		b, _ = json.Marshal(degree(uni))
		if err := os.WriteFile(in, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, errOut, code := cli(t, n.url, ks, "vc", "issue", "--api-token", token, "--issuer", "uni", "--format", "jwt_vc_json", in); code != 1 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "1.1") {
			t.Fatalf("vc issue of a 2.0 credential as jwt_vc_json: exit %d %q", code, errOut)
		}
	})
}

// issuersJSON returns the node's issuer list as a JSON array.
func issuersJSON(t *testing.T, node, token string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, node+"/v1/issuers", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	r := do(t, req)
	var out struct {
		Issuers json.RawMessage `json:"issuers"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("issuers: %d %s", r.status, r.body)
	}
	return string(out.Issuers)
}
