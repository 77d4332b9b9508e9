package main

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/verifier"
)

// TestSDJWTVC issues an SD-JWT VC through `idmesh vc issue --format
// dc+sd-jwt --holder-key` against `idmesh dev`, presents one claim with
// key binding (credential/sdjwt.Present, as a wallet would), and
// verifies it over HTTP with the verifier's nonce and audience: the
// undisclosed claims are absent from the presentation's bytes, and a
// modified disclosure, a disclosure from another credential, a
// key-binding JWT by another key, a wrong nonce and a wrong audience are
// each refused with their problem type. The CLI refuses a missing or
// private holder key with a one-line message and exit code 2 or 1.
func TestSDJWTVC(t *testing.T) {
	n := startDevNode(t)
	ks := filepath.Join(t.TempDir(), "keystore.json")
	acme := n.createIssuer(t, "acme")
	dir := t.TempDir()
	holder, err := keys.Generate(keys.Ed25519, rand.NewChaCha8([32]byte{21}))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if s, ok := v.(string); ok {
			b = []byte(s + "\n")
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	jwkFile := write("holder.jwk", holder.Public().JWK())
	claims := map[string]any{"vct": n.url + "/vct/employment", "jobTitle": "Engineer", "employer": map[string]any{"name": "Example Corp"}, "startDate": "2024-01-01"}
	claimsFile := write("claims.json", claims)

	issue := func(args ...string) string {
		out := mustCLI(t, n.url, ks, append([]string{"vc", "issue", "--api-token", n.token, "--issuer", "acme", "--format", "dc+sd-jwt"}, args...)...)
		return strings.TrimSpace(out)
	}
	issued := issue("--holder-key", jwkFile, claimsFile)
	if strings.Count(issued, "\n") != 0 || strings.Count(issued, "~") != 4 {
		t.Fatalf("vc issue printed %q, want the bare SD-JWT with 3 disclosures", issued)
	}
	// --json prints the node's answer: the envelope.
	var env map[string]any
	if err := json.Unmarshal([]byte(issue("--json", "--holder-key", jwkFile, claimsFile)), &env); err != nil || env["type"] != credential.TypeEnvelopedCredential ||
		!strings.HasPrefix(env["id"].(string), "data:application/dc+sd-jwt,") {
		t.Fatalf("vc issue --json: %v %v", env, err)
	}
	// The issuer's bytes verify through the CLI too.
	if got := mustCLI(t, n.url, ks, "vc", "verify", write("issued.txt", issued)); !strings.HasPrefix(got, "verified (dc+sd-jwt) "+acme) {
		t.Fatalf("vc verify: %s", got)
	}

	const nonce, aud = "n-8d1a6b", "https://shop.example"
	presentWith := func(sd string, signer credential.Signer, ptrs ...string) string {
		opts := sdjwt.PresentOptions{Disclose: ptrs}
		if signer != nil {
			opts.Holder, opts.Nonce, opts.Audience, opts.Now = signer, nonce, aud, time.Now()
		}
		p, err := sdjwt.Present(sd, opts)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	verify := func(vc string, challenge, domain string) httpResult {
		return authPost(t, n.url+"/credentials/verify", "", map[string]any{"verifiableCredential": jose.Envelope(vc, sdjwt.MediaType),
			"options": map[string]any{"challenge": challenge, "domain": domain}})
	}
	pres := presentWith(issued, credential.KeySigner{Key: holder}, "/jobTitle")
	for _, secret := range []string{"Example Corp", "2024-01-01"} {
		if strings.Contains(pres, secret) || strings.Contains(decodedParts(pres), secret) {
			t.Fatalf("undisclosed %q in the presentation", secret)
		}
	}
	r := verify(pres, nonce, aud)
	res := decode[verifier.Result](t, r)
	if r.status != http.StatusOK || !res.Verified || res.Issuer != acme || res.Disclosed == nil || !res.Disclosed.KeyBound ||
		strings.Join(res.Disclosed.Disclosed, ",") != "/jobTitle" || res.Disclosed.Claims["jobTitle"] != "Engineer" || res.Disclosed.Claims["employer"] != nil {
		t.Fatalf("verify: %d %s", r.status, r.body)
	}

	if !slices.Contains(res.Checks, verifier.CheckStatus) {
		t.Fatalf("checks %v: the status entry was not checked", res.Checks)
	}

	// Status: the credential carries a Token Status List entry on this
	// node's chain; suspending and revoking it (POST /credentials/status,
	// by its jti) fail the status check with the Bitstring lists'
	// problem types, and a lifted suspension verifies again.
	var payload struct {
		JTI    string `json:"jti"`
		Status struct {
			List struct {
				Idx int    `json:"idx"`
				URI string `json:"uri"`
			} `json:"status_list"`
		} `json:"status"`
	}
	if b, err := b64url.DecodeString(strings.Split(strings.Split(issued, "~")[0], ".")[1]); err != nil || json.Unmarshal(b, &payload) != nil || payload.JTI == "" || !strings.HasSuffix(payload.Status.List.URI, "/token") {
		t.Fatalf("issued payload %+v: %v", payload, err)
	}
	if r := get(t, payload.Status.List.URI, ""); r.status != http.StatusOK || r.contentType != "application/statuslist+jwt" {
		t.Fatalf("GET %s: %d %s", payload.Status.List.URI, r.status, r.contentType)
	}
	setStatus := func(purpose string, value bool) {
		t.Helper()
		if r := authPost(t, n.url+"/credentials/status", n.token, map[string]any{"credentialId": payload.JTI,
			"credentialStatus": map[string]any{"type": "BitstringStatusListEntry", "statusPurpose": purpose}, "status": value}); r.status != http.StatusOK {
			t.Fatalf("status %s=%v: %d %s", purpose, value, r.status, r.body)
		}
	}
	for _, step := range []struct {
		purpose string
		value   bool
		want    credential.Code
	}{
		{"suspension", true, credential.CredentialSuspended},
		{"suspension", false, ""},
		{"revocation", true, credential.CredentialRevoked},
	} {
		setStatus(step.purpose, step.value)
		r := verify(presentWith(issued, credential.KeySigner{Key: holder}, "/jobTitle"), nonce, aud)
		if step.want == "" {
			if res := decode[verifier.Result](t, r); !res.Verified {
				t.Fatalf("after %s=%v: %s", step.purpose, step.value, r.body)
			}
			continue
		}
		if _, typ := problemType(t, r); typ != step.want.Type() {
			t.Fatalf("after %s=%v: %s, want %s", step.purpose, step.value, typ, step.want)
		}
	}

	other := issue("--holder-key", jwkFile, write("other.json", map[string]any{"vct": n.url + "/vct/employment", "jobTitle": "Director"}))
	jwt, _, _ := strings.Cut(pres, "~")
	// A modified Disclosure: the same salt and name with another value,
	// well formed, so only its digest gives it away.
	parsed, err := sdjwt.Parse(pres, sdjwt.Limits{})
	if err != nil || len(parsed.Disclosures) != 1 {
		t.Fatalf("parse the presentation: %v", err)
	}
	forged, err := sdjwt.EncodeDisclosure(parsed.Disclosures[0].Salt, parsed.Disclosures[0].Name, "Director", false)
	if err != nil {
		t.Fatal(err)
	}
	d := []byte(forged.Encoded)
	thief, _ := keys.Generate(keys.Ed25519, rand.NewChaCha8([32]byte{22}))
	for _, tc := range []struct {
		name, vc, nonce, aud string
		code                 credential.Code
	}{
		{"modified disclosure", jwt + "~" + string(d) + "~", "", "", credential.CryptographicSecurityError},
		{"disclosure from another credential", jwt + "~" + strings.Split(other, "~")[1] + "~", "", "", credential.CryptographicSecurityError},
		{"KB-JWT by another key", kbBy(t, presentWith(issued, nil, "/jobTitle"), credential.KeySigner{Key: thief}, nonce, aud), nonce, aud, credential.CryptographicSecurityError},
		{"no KB-JWT", presentWith(issued, nil, "/jobTitle"), nonce, aud, credential.HolderBindingError},
		{"wrong nonce", pres, "another-nonce", aud, credential.InvalidChallengeError},
		{"wrong audience", pres, nonce, "https://evil.example", credential.InvalidDomainError},
	} {
		if _, typ := problemType(t, verify(tc.vc, tc.nonce, tc.aud)); typ != tc.code.Type() {
			t.Errorf("%s: %s, want %s", tc.name, typ, tc.code)
		}
	}

	// The CLI's refusals: one line, non-zero.
	priv := holder.Public().JWK()
	priv["d"] = "AAAA"
	for name, args := range map[string][]string{
		"no holder key":                {claimsFile},
		"private holder key":           {"--holder-key", write("private.jwk", priv), claimsFile},
		"holder key of another format": {"--format", "vc+jwt", "--holder-key", jwkFile, claimsFile},
		"refused by the node":          {"--holder-key", write("x25519.jwk", map[string]any{"kty": "OKP", "crv": "X25519", "x": "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk"}), claimsFile},
	} {
		full := append([]string{"vc", "issue", "--api-token", n.token, "--issuer", "acme", "--format", "dc+sd-jwt"}, args...)
		out, errOut, code := cli(t, n.url, ks, full...)
		if code == 0 || out != "" || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", name, code, out, errOut)
		}
	}
}

// decodedParts returns the decoded payload and Disclosures of an SD-JWT.
func decodedParts(s string) string {
	var out strings.Builder
	for i, part := range strings.Split(s, "~") {
		if i == 0 {
			part = strings.Split(part, ".")[1]
		}
		if strings.Count(part, ".") == 2 {
			continue
		}
		b, _ := b64url.DecodeString(part)
		out.Write(b)
	}
	return out.String()
}

// kbBy appends a well-formed key-binding JWT for nonce and aud signed
// by signer to sd.
func kbBy(t *testing.T, sd string, signer credential.Signer, nonce, aud string) string {
	t.Helper()
	payload, _ := json.Marshal(map[string]any{"nonce": nonce, "aud": aud, "iat": time.Now().Unix(), "sd_hash": sdjwt.Digest(sd)})
	kb, err := jose.SignCompact(payload, sdjwt.TypKB, "", signer, "")
	if err != nil {
		t.Fatal(err)
	}
	return sd + kb
}
