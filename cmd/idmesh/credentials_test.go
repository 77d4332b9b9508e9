package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/verifier"
)

// authPost posts JSON with the bearer token (none when token is "").
func authPost(t testing.TB, u, token string, body any) httpResult {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

func decode[T any](t testing.TB, r httpResult) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %d %s: %v", r.status, r.body, err)
	}
	return v
}

func degree(issuer string) map[string]any {
	return map[string]any{
		"@context": []any{"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"},
		"type":     []any{"VerifiableCredential", "ExampleDegreeCredential"},
		"issuer":   issuer,
		"credentialSubject": map[string]any{
			"id":     "did:example:ebfeb1f712ebc6f1c276e12ec21",
			"degree": map[string]any{"type": "ExampleBachelorDegree", "name": "Bachelor of Science and Arts"},
		},
	}
}

// problemType returns the type of the first problem of a failed verification.
func problemType(t *testing.T, r httpResult) (verifier.Result, string) {
	t.Helper()
	res := decode[verifier.Result](t, r)
	if r.status != http.StatusBadRequest || res.Verified || len(res.ProblemDetails) == 0 {
		t.Fatalf("want a failed verification (400), got %d %s", r.status, r.body)
	}
	return res, res.ProblemDetails[0].Type
}

// submitDoc creates a did:idmesh DID for doc signed by k, through the API.
func submitDoc(t *testing.T, node string, doc *did.Document, k keys.PrivateKey) string {
	t.Helper()
	st := status(t, node)
	op := &idmesh.Operation{Type: idmesh.Create, Document: doc}
	if err := op.Sign(st.ChainID, "#key-1", k); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(op)
	if r := post(t, node+"/v1/operations?wait=10s", b); r.status != http.StatusOK {
		t.Fatalf("create DID: %d %s", r.status, r.body)
	}
	d, _ := op.SubjectDID()
	return d
}

func TestCredentials(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	ks := filepath.Join(t.TempDir(), "keystore.json")
	n := startDev(t, home)
	tokenBytes, err := os.ReadFile(filepath.Join(home, "api-token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tokenBytes))

	// Issuer endpoints need the token.
	if r := authPost(t, n.url+"/v1/issuers", "", map[string]any{"name": "uni"}); r.status != http.StatusUnauthorized {
		t.Fatalf("no token: %d", r.status)
	}
	if r := authPost(t, n.url+"/v1/issuers", "wrong", map[string]any{"name": "uni"}); r.status != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", r.status)
	}
	r := authPost(t, n.url+"/v1/issuers", token, map[string]any{"name": "uni"})
	if r.status != http.StatusCreated {
		t.Fatalf("create issuer: %d %s", r.status, r.body)
	}
	uni := decode[struct {
		DID string `json:"did"`
	}](t, r).DID
	if !strings.HasPrefix(uni, "did:idmesh:") {
		t.Fatalf("issuer DID %q", uni)
	}
	if r := authPost(t, n.url+"/v1/issuers", token, map[string]any{"name": "uni"}); r.status != http.StatusConflict {
		t.Fatalf("same name again: %d", r.status)
	}
	// The issuer's key is encrypted at rest.
	raw, err := os.ReadFile(filepath.Join(home, "issuers.keystore.json"))
	if err != nil || !strings.Contains(string(raw), uni) {
		t.Fatalf("issuer keystore: %v", err)
	}

	verify := func(vc any, opts map[string]any) httpResult {
		return authPost(t, n.url+"/credentials/verify", "", map[string]any{"verifiableCredential": vc, "options": opts})
	}
	issued := map[string]map[string]any{}
	for _, format := range []string{"eddsa-rdfc-2022", "eddsa-jcs-2022", "vc+jwt"} {
		t.Run(format, func(t *testing.T) {
			r := authPost(t, n.url+"/credentials/issue", token, map[string]any{"credential": degree(uni), "options": map[string]any{"format": format}})
			if r.status != http.StatusCreated {
				t.Fatalf("issue: %d %s", r.status, r.body)
			}
			vc := decode[struct {
				VC map[string]any `json:"verifiableCredential"`
			}](t, r).VC
			issued[format] = vc
			if r := verify(vc, nil); r.status != http.StatusOK {
				t.Fatalf("verify: %d %s", r.status, r.body)
			}
			// The per-mechanism base issues the same way.
			if r := authPost(t, n.url+"/issuers/uni/"+format+"/credentials/issue", token, map[string]any{"credential": degree(uni)}); r.status != http.StatusCreated {
				t.Fatalf("per-mechanism issue: %d %s", r.status, r.body)
			}
			// Change one claim: rejected, with the reason.
			var tampered any
			if format == "vc+jwt" {
				tampered = tamperJWT(t, vc)
			} else {
				b, _ := json.Marshal(vc)
				var m map[string]any
				_ = json.Unmarshal([]byte(strings.Replace(string(b), "Bachelor of Science and Arts", "Doctor of Philosophy", 1)), &m)
				tampered = m
			}
			res, typ := problemType(t, verify(tampered, nil))
			if !strings.Contains(typ, "ERROR") || res.Results[len(res.Results)-1].Check == "" {
				t.Fatalf("tampered: %s %+v", typ, res)
			}
		})
	}

	t.Run("wrong issuer key", func(t *testing.T) {
		k, _ := keys.Generate(keys.Ed25519, rand.Reader)
		op, err := idmesh.NewCreate(status(t, n.url).ChainID, k)
		if err != nil {
			t.Fatal(err)
		}
		other := submitDoc(t, n.url, op.Document, k)
		// Signed by other's key, claiming to be uni.
		vc, err := dataintegrity.Sign(context.Background(), degree(uni), credential.KeySigner{ID: other + "#key-1", Key: k}, dataintegrity.SignOptions{Created: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if _, typ := problemType(t, verify(vc, nil)); typ != credential.IssuerMismatchError.Type() {
			t.Fatalf("type %s", typ)
		}
	})

	t.Run("key not in assertionMethod", func(t *testing.T) {
		k, _ := keys.Generate(keys.Ed25519, rand.Reader)
		ref := []did.Relationship{did.Ref("#key-1")}
		doc := &did.Document{Context: []any{did.ContextV1, did.ContextMultikey},
			VerificationMethod: []did.VerificationMethod{did.NewMultikey("#key-1", "", k.Public())},
			Authentication:     ref, CapabilityInvocation: ref}
		d := submitDoc(t, n.url, doc, k)
		vc, err := dataintegrity.Sign(context.Background(), degree(d), credential.KeySigner{ID: d + "#key-1", Key: k}, dataintegrity.SignOptions{Created: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		res, _ := problemType(t, verify(vc, nil))
		if !strings.Contains(res.ProblemDetails[0].Detail, "assertionMethod") {
			t.Fatalf("detail: %+v", res.ProblemDetails[0])
		}
	})

	t.Run("validity period", func(t *testing.T) {
		past := degree(uni)
		past["validFrom"], past["validUntil"] = "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z"
		future := degree(uni)
		future["validFrom"] = "2999-01-01T00:00:00Z"
		for name, c := range map[string]map[string]any{"expired": past, "not yet valid": future} {
			r := authPost(t, n.url+"/credentials/issue", token, map[string]any{"credential": c})
			if r.status != http.StatusCreated {
				t.Fatalf("%s: issue %d %s", name, r.status, r.body)
			}
			vc := decode[struct {
				VC map[string]any `json:"verifiableCredential"`
			}](t, r).VC
			if _, typ := problemType(t, verify(vc, nil)); typ != credential.ValidityPeriodError.Type() {
				t.Fatalf("%s: type %s", name, typ)
			}
			// Deselecting the check lets it through.
			if r := verify(vc, map[string]any{"checks": []any{"proof"}}); r.status != http.StatusOK {
				t.Fatalf("%s without the validity check: %d %s", name, r.status, r.body)
			}
		}
	})

	t.Run("unknown context", func(t *testing.T) {
		c := degree(uni)
		c["@context"] = append(c["@context"].([]any), "https://unknown.example/context/v1")
		r := authPost(t, n.url+"/credentials/issue", token, map[string]any{"credential": c})
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "unknown.example") {
			t.Fatalf("issue with an unknown context: %d %s", r.status, r.body)
		}
		// One signed elsewhere (JCS needs no context) is refused too.
		k, _ := keys.Generate(keys.Ed25519, rand.Reader)
		op, _ := idmesh.NewCreate(status(t, n.url).ChainID, k)
		d := submitDoc(t, n.url, op.Document, k)
		c["issuer"] = d
		vc, err := dataintegrity.Sign(context.Background(), c, credential.KeySigner{ID: d + "#key-1", Key: k}, dataintegrity.SignOptions{Cryptosuite: dataintegrity.CryptosuiteJCS, Created: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if _, typ := problemType(t, verify(vc, nil)); typ != credential.UnknownContextError.Type() {
			t.Fatalf("type %s", typ)
		}
	})

	t.Run("presentations", func(t *testing.T) {
		var holder struct {
			DID string `json:"did"`
		}
		if err := json.Unmarshal([]byte(mustCLI(t, n.url, ks, "did", "create", "--json")), &holder); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		credFile := filepath.Join(dir, "vc.json")
		b, _ := json.Marshal(issued["eddsa-rdfc-2022"])
		if err := os.WriteFile(credFile, b, 0o600); err != nil {
			t.Fatal(err)
		}
		jwtFile := filepath.Join(dir, "vc-jwt.json")
		b, _ = json.Marshal(issued["vc+jwt"])
		if err := os.WriteFile(jwtFile, b, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{"eddsa-rdfc-2022", "vp+jwt"} {
			// vp sign asks the node for a challenge and says which.
			vp, errOut, code := cli(t, n.url, ks, "vp", "sign", "--holder", holder.DID+"#key-1", "--format", format, credFile, jwtFile)
			_, after, ok := strings.Cut(errOut, "idmesh: challenge ")
			if code != 0 || !ok {
				t.Fatalf("vp sign: exit %d: %s", code, errOut)
			}
			challenge := strings.Fields(after)[0]
			vpFile := filepath.Join(dir, "vp-"+format+".json")
			if err := os.WriteFile(vpFile, []byte(vp), 0o600); err != nil {
				t.Fatal(err)
			}
			// Without the challenge the verifier issued, nothing verifies.
			if _, _, code := cli(t, n.url, ks, "vp", "verify", vpFile); code != 1 {
				t.Fatalf("%s: vp verify without --challenge: exit %d", format, code)
			}
			if out := mustCLI(t, n.url, ks, "vp", "verify", "--challenge", challenge, vpFile); !strings.Contains(out, "verified") {
				t.Fatalf("%s: vp verify:\n%s", format, out)
			}
			// The same presentation again: its challenge is spent.
			out, _, code := cli(t, n.url, ks, "vp", "verify", "--json", "--challenge", challenge, vpFile)
			if code != 1 || !strings.Contains(out, "challenge already used") {
				t.Fatalf("%s: replay: exit %d\n%s", format, code, out)
			}
		}
		// A challenge the verifier never issued, in the form of its own
		// (a relying party's own challenge, without the node prefix, is
		// accepted: TestChallengesE2E).
		madeUp := "idmesh1." + strings.Repeat("A", 22) + "." + strings.Repeat("A", 43)
		vp := mustCLI(t, n.url, ks, "vp", "sign", "--holder", holder.DID+"#key-1", "--challenge", madeUp, credFile)
		var m map[string]any
		_ = json.Unmarshal([]byte(vp), &m)
		r := authPost(t, n.url+"/presentations/verify", "", map[string]any{"verifiablePresentation": m, "options": map[string]any{"challenge": madeUp}})
		if _, typ := problemType(t, r); typ != credential.InvalidChallengeError.Type() {
			t.Fatalf("foreign challenge: %s", typ)
		}
		// Holder binding: the holder is not the degree's subject.
		ch := decode[verifier.Challenge](t, authPost(t, n.url+"/challenges", "", map[string]any{}))
		vp = mustCLI(t, n.url, ks, "vp", "sign", "--holder", holder.DID+"#key-1", "--challenge", ch.Challenge, credFile)
		_ = json.Unmarshal([]byte(vp), &m)
		r = authPost(t, n.url+"/presentations/verify", "", map[string]any{"verifiablePresentation": m, "options": map[string]any{"holderBinding": true, "challenge": ch.Challenge}})
		if _, typ := problemType(t, r); typ != credential.HolderBindingError.Type() {
			t.Fatalf("holder binding: %s", typ)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		body := string(get(t, n.url+"/metrics", "").body)
		for _, want := range []string{`idmesh_credentials_issued_total{format="vc+jwt"}`, `idmesh_verifications_total{kind="credential",problem="",verified="true"}`,
			`idmesh_verifications_total{kind="presentation"`} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})

	t.Run("cli", func(t *testing.T) {
		dir := t.TempDir()
		in := filepath.Join(dir, "degree.json")
		b, _ := json.Marshal(degree(uni))
		if err := os.WriteFile(in, b, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{"eddsa-rdfc-2022", "eddsa-jcs-2022", "vc+jwt"} {
			out, errOut, code := cli(t, n.url, ks, "vc", "issue", "--api-token", token, "--issuer", "uni", "--format", format, in)
			if code != 0 {
				t.Fatalf("vc issue %s: %d %s", format, code, errOut)
			}
			vcFile := filepath.Join(dir, "vc.json")
			if err := os.WriteFile(vcFile, []byte(out), 0o600); err != nil {
				t.Fatal(err)
			}
			if out := mustCLI(t, n.url, ks, "vc", "verify", vcFile); !strings.HasPrefix(out, "verified ("+format) {
				t.Fatalf("vc verify %s:\n%s", format, out)
			}
			tampered := strings.Replace(out, "did:example:ebfeb1f712ebc6f1c276e12ec21", "did:example:someone-else", 1)
			if format == "vc+jwt" {
				var m map[string]any
				_ = json.Unmarshal([]byte(out), &m)
				b, _ := json.Marshal(tamperJWT(t, m))
				tampered = string(b)
			}
			if err := os.WriteFile(vcFile, []byte(tampered), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, errOut, code := cli(t, n.url, ks, "vc", "verify", vcFile); code != 1 || !strings.Contains(errOut, "not verified") {
				t.Fatalf("vc verify tampered %s: exit %d %s", format, code, errOut)
			}
		}
		if _, errOut, code := cli(t, n.url, ks, "vc", "issue", "--issuer", "uni", in); code != 1 || !strings.Contains(errOut, "bearer token") {
			t.Fatalf("vc issue without a token: exit %d %s", code, errOut)
		}
	})
}

// tamperJWT changes the subject id inside an enveloped vc+jwt, keeping
// the signature.
func tamperJWT(t *testing.T, vc map[string]any) map[string]any {
	t.Helper()
	id, _ := vc["id"].(string)
	prefix := "data:application/vc+jwt,"
	parts := strings.Split(strings.TrimPrefix(id, prefix), ".")
	if len(parts) != 3 {
		t.Fatalf("not an enveloped JWT: %v", vc)
	}
	payload, err := b64url.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	payload = []byte(strings.Replace(string(payload), "ebfeb1f712ebc6f1c276e12ec21", "someone-else", 1))
	parts[1] = b64url.EncodeToString(payload)
	out := map[string]any{}
	for k, v := range vc {
		out[k] = v
	}
	out["id"] = prefix + strings.Join(parts, ".")
	return out
}

var b64url = base64.RawURLEncoding
