package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/keystore"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/verifier"
)

// sdNow is the clock of the SD-JWT VC tests.
var sdNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

const (
	sdToken    = "secret"
	sdNonce    = "nonce-4f1c"
	sdAudience = "https://shop.example"
	sdVCT      = "https://node.example/vct/employment"
)

// fakeAllocator hands out token status entries and remembers the ids.
type fakeAllocator struct {
	mu  sync.Mutex
	ids []string
	err error
}

func (a *fakeAllocator) TokenStatus(_ context.Context, iss issuer.Issuer, id string) (map[string]any, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return nil, a.err
	}
	for _, seen := range a.ids {
		if seen == id {
			return nil, fmt.Errorf("%w: %s", issuer.ErrDuplicateID, id)
		}
	}
	a.ids = append(a.ids, id)
	return map[string]any{"status_list": map[string]any{"idx": len(a.ids), "uri": "https://node.example/status-lists/" + iss.Name + "/token"}}, nil
}

// fakeChecker answers every token status entry with value.
type fakeChecker struct{ value uint8 }

func (c fakeChecker) TokenStatus(context.Context, string, string, int) (uint8, uint64, error) {
	return c.value, 9, nil
}

// sdServer is an API server with an issuer registry, a ledger that
// commits every transaction, and a verifier whose keys the test adds.
type sdServer struct {
	url    string
	c      *http.Client
	keys   *credential.StaticKeys
	reg    *issuer.Registry
	holder credential.KeySigner
	v      *verifier.Verifier
}

func newSDServer(t *testing.T, mutate func(*api.Config)) *sdServer {
	t.Helper()
	ks, err := keystore.Create(filepath.Join(t.TempDir(), "keys.json"), []byte("pass"), keystore.TestParams, keystore.WithRand(rand.NewChaCha8([32]byte{7})))
	if err != nil {
		t.Fatal(err)
	}
	s := &sdServer{keys: &credential.StaticKeys{}, reg: issuer.NewRegistry(ks)}
	now := func() time.Time { return sdNow }
	s.v = &verifier.Verifier{Keys: s.keys, Now: now}
	ledger := newFakeLedger()
	ledger.waitStatus = &node.TxStatus{Status: node.TxCommitted, Height: 1}
	ts, _, _ := limitServer(t, func(c *api.Config) {
		c.Ledger, c.Resolver, c.Issuers, c.Verifier, c.Now, c.Rand, c.VerifyRate = ledger, key.Resolver{}, s.reg, s.v, now, rand.NewChaCha8([32]byte{8}), -1
		c.APIToken = sdToken
		if mutate != nil {
			mutate(c)
		}
	})
	s.url, s.c = ts.URL, ts.Client()
	hk, err := keys.Generate(keys.Ed25519, rand.NewChaCha8([32]byte{9}))
	if err != nil {
		t.Fatal(err)
	}
	s.holder = credential.KeySigner{Key: hk}
	return s
}

// issuerNamed registers an issuer over HTTP and lets the verifier know
// its key (the test ledger resolves no did:idmesh).
func (s *sdServer) issuerNamed(t *testing.T, name string) api.IssuerResponse {
	t.Helper()
	a := post(t, s.c, s.url+"/v1/issuers", []byte(`{"name":"`+name+`"}`), "Authorization", "Bearer "+sdToken)
	var out api.IssuerResponse
	if a.status != http.StatusCreated || json.Unmarshal(a.body, &out) != nil {
		t.Fatalf("create issuer: %d %s", a.status, a.body)
	}
	iss, err := s.reg.Find(name)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := s.reg.Signer(iss)
	if err != nil {
		t.Fatal(err)
	}
	s.keys.Add(credential.VerificationKey{ID: signer.MethodID(), Controller: iss.DID, Public: signer.Public()}, credential.PurposeAssertion)
	return out
}

// issue posts an issue request to the issuer's dc+sd-jwt base.
func (s *sdServer) issue(t *testing.T, name string, req map[string]any) answer {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return post(t, s.c, s.url+"/issuers/"+name+"/dc+sd-jwt/credentials/issue", b, "Authorization", "Bearer "+sdToken)
}

// request is an issue request for claims bound to the test holder.
func (s *sdServer) request(claims map[string]any) map[string]any {
	return map[string]any{"credential": claims, "options": map[string]any{"holderKey": s.holder.Public().JWK()}}
}

func employment() map[string]any {
	return map[string]any{"vct": sdVCT, "jobTitle": "Engineer", "employer": map[string]any{"name": "Example Corp"}, "startDate": "2024-01-01"}
}

// MustCompact returns the compact SD-JWT of a 201 issue answer, checking
// the envelope.
func MustCompact(t *testing.T, a answer) string {
	t.Helper()
	var out struct {
		VC map[string]any `json:"verifiableCredential"`
	}
	if a.status != http.StatusCreated || json.Unmarshal(a.body, &out) != nil {
		t.Fatalf("issue: %d %s", a.status, a.body)
	}
	ctx, _ := out.VC["@context"].([]any)
	id, _ := out.VC["id"].(string)
	if len(out.VC) != 3 || len(ctx) != 1 || ctx[0] != credential.ContextV2 || out.VC["type"] != credential.TypeEnvelopedCredential ||
		!strings.HasPrefix(id, "data:application/dc+sd-jwt,") {
		t.Fatalf("envelope %v", out.VC)
	}
	return strings.TrimPrefix(id, "data:application/dc+sd-jwt,")
}

// present discloses ptrs with a KB-JWT for sdNonce and sdAudience by
// holder.
func present(t *testing.T, issued string, holder credential.Signer, ptrs ...string) string {
	t.Helper()
	p, err := sdjwt.Present(issued, sdjwt.PresentOptions{Disclose: ptrs, Holder: holder, Nonce: sdNonce, Audience: sdAudience, Now: sdNow})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// verifySD posts vc to /credentials/verify with options.
func (s *sdServer) verifySD(t *testing.T, vc any, options map[string]any) (int, verifier.Result) {
	t.Helper()
	b, err := json.Marshal(map[string]any{"verifiableCredential": vc, "options": options})
	if err != nil {
		t.Fatal(err)
	}
	a := post(t, s.c, s.url+"/credentials/verify", b)
	var res verifier.Result
	if err := json.Unmarshal(a.body, &res); err != nil {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	return a.status, res
}

var kbOptions = map[string]any{"challenge": sdNonce, "domain": sdAudience}

// TestSDJWTIssueVerify: an SD-JWT VC issued over the VC-API, presented
// with one claim and key binding, verifies over HTTP with the claim
// disclosed and the others absent from the bytes; the forgeries a
// holder or a thief could make are refused with their problem types.
func TestSDJWTIssueVerify(t *testing.T) {
	s := newSDServer(t, nil)
	created := s.issuerNamed(t, "acme")
	if created.Endpoints[issuer.FormatSDJWT] != "/issuers/acme/dc+sd-jwt" {
		t.Fatalf("endpoints %v", created.Endpoints)
	}
	issued := MustCompact(t, s.issue(t, "acme", s.request(employment())))
	pres := present(t, issued, s.holder, "/jobTitle")
	for _, secret := range []string{"Example Corp", "2024-01-01"} {
		if strings.Contains(pres, secret) || strings.Contains(decodeParts(t, pres), secret) {
			t.Fatalf("undisclosed %q in the presentation", secret)
		}
	}

	for name, vc := range map[string]any{"enveloped": jose.Envelope(pres, sdjwt.MediaType), "bare": pres} {
		status, res := s.verifySD(t, vc, kbOptions)
		if status != http.StatusOK || !res.Verified || res.Format != "dc+sd-jwt" || res.Issuer != created.DID || res.Disclosed == nil {
			t.Fatalf("%s: %d %+v", name, status, res)
		}
		d := res.Disclosed
		if !d.KeyBound || strings.Join(d.Disclosed, ",") != "/jobTitle" || d.Claims["jobTitle"] != "Engineer" || d.Claims["employer"] != nil || d.Claims["iss"] != created.DID {
			t.Fatalf("%s: disclosed %+v", name, d)
		}
	}
	// The issuer's own bytes (every Disclosure, no KB-JWT) verify without
	// a challenge, and are refused with one.
	if status, res := s.verifySD(t, jose.Envelope(issued, sdjwt.MediaType), nil); status != http.StatusOK || len(res.Disclosed.Disclosed) != 3 {
		t.Fatalf("issued: %d %+v", status, res)
	}

	other := MustCompact(t, s.issue(t, "acme", s.request(map[string]any{"vct": sdVCT, "jobTitle": "Director"})))
	jwt, _, _ := strings.Cut(pres, "~")
	disclosure := strings.Split(pres, "~")[1]
	flipped := []byte(disclosure)
	flipped[3] ^= 1
	sd := pres[:strings.LastIndexByte(pres, '~')+1]
	thief, _ := keys.Generate(keys.Ed25519, rand.NewChaCha8([32]byte{66}))
	for _, tc := range []struct {
		name, vc string
		options  map[string]any
		check    string
		code     credential.Code
	}{
		{"no key binding when asked", present(t, issued, nil, "/jobTitle"), kbOptions, verifier.CheckProof, credential.HolderBindingError},
		{"modified disclosure", jwt + "~" + string(flipped) + "~", nil, verifier.CheckProof, credential.CryptographicSecurityError},
		{"disclosure from another credential", jwt + "~" + strings.Split(other, "~")[1] + "~", nil, verifier.CheckProof, credential.CryptographicSecurityError},
		{"KB-JWT by another key", forgeKB(t, sd, credential.KeySigner{Key: thief}), kbOptions, verifier.CheckProof, credential.CryptographicSecurityError},
		{"wrong nonce", pres, map[string]any{"challenge": "another", "domain": sdAudience}, verifier.CheckProof, credential.InvalidChallengeError},
		{"wrong audience", pres, map[string]any{"challenge": sdNonce, "domain": "https://evil.example"}, verifier.CheckProof, credential.InvalidDomainError},
		{"KB-JWT replayed on other disclosures", present(t, issued, nil, "/startDate") + strings.Split(pres, "~")[2], kbOptions, verifier.CheckProof, credential.CryptographicSecurityError},
		{"unknown issuer key", strings.Replace(pres, jwt, forgeIssuerJWT(t, jwt), 1), nil, verifier.CheckProof, credential.CryptographicSecurityError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, res := s.verifySD(t, jose.Envelope(tc.vc, sdjwt.MediaType), tc.options)
			check, typ := failedCheck(res)
			if status != http.StatusBadRequest || res.Verified || check != tc.check || typ != tc.code.Type() {
				t.Fatalf("%d %s %s, want 400 %s %s: %+v", status, check, typ, tc.check, tc.code, res.ProblemDetails)
			}
		})
	}
}

// decodeParts returns the decoded Disclosures and JWT payload of an
// SD-JWT, to look for claims in them.
func decodeParts(t *testing.T, s string) string {
	t.Helper()
	var out strings.Builder
	for i, part := range strings.Split(s, "~") {
		if i == 0 {
			part = strings.Split(part, ".")[1]
		}
		if strings.Count(part, ".") == 2 {
			continue
		}
		b, _ := base64.RawURLEncoding.DecodeString(part)
		out.Write(b)
	}
	return out.String()
}

// forgeKB appends a well-formed KB-JWT signed by signer to sd.
func forgeKB(t *testing.T, sd string, signer credential.Signer) string {
	t.Helper()
	payload, _ := json.Marshal(map[string]any{"nonce": sdNonce, "aud": sdAudience, "iat": sdNow.Unix(), "sd_hash": sdjwt.Digest(sd)})
	kb, err := jose.SignCompact(payload, sdjwt.TypKB, "", signer, "")
	if err != nil {
		t.Fatal(err)
	}
	return sd + kb
}

// forgeIssuerJWT re-signs jwt's header and payload with a key the
// verifier does not know under the same kid.
func forgeIssuerJWT(t *testing.T, jwt string) string {
	t.Helper()
	k, _ := keys.Generate(keys.Ed25519, rand.NewChaCha8([32]byte{77}))
	parts := strings.Split(jwt, ".")
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var header map[string]any
	_ = json.Unmarshal(h, &header)
	p, _ := base64.RawURLEncoding.DecodeString(parts[1])
	out, err := jose.SignCompact(p, sdjwt.TypVC, header["kid"].(string)+"x", credential.KeySigner{Key: k}, "")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSDJWTIssueRefuses: bad issue requests get problem+json 400 with the
// credential problem types (404 for an unknown issuer, 401 without the
// token), and nothing is issued.
func TestSDJWTIssueRefuses(t *testing.T) {
	s := newSDServer(t, nil)
	s.issuerNamed(t, "acme")
	hk := s.holder.Public().JWK()
	priv := map[string]any{}
	for k, v := range hk {
		priv[k] = v
	}
	priv["d"] = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
	p384 := map[string]any{"kty": "EC", "crv": "P-384", "x": "AAAA", "y": "AAAA"}
	opts := func(o map[string]any) map[string]any { return map[string]any{"credential": employment(), "options": o} }
	with := func(k string, v any) map[string]any { c := employment(); c[k] = v; return s.request(c) }
	mal := credential.MalformedValueError.Type()
	for _, tc := range []struct {
		name string
		req  map[string]any
		typ  string
	}{
		{"no holder key", opts(map[string]any{}), mal},
		{"holder key not an object", opts(map[string]any{"holderKey": "did:key:z6Mk"}), mal},
		{"private holder key", opts(map[string]any{"holderKey": priv}), mal},
		{"P-384 holder key", opts(map[string]any{"holderKey": p384}), mal},
		{"holder key alg does not fit", opts(map[string]any{"holderKey": map[string]any{"kty": hk["kty"], "crv": hk["crv"], "x": hk["x"], "alg": "ES256"}}), mal},
		{"disclosable not an array", opts(map[string]any{"holderKey": hk, "disclosable": "/jobTitle"}), mal},
		{"disclosable not strings", opts(map[string]any{"holderKey": hk, "disclosable": []any{1}}), mal},
		{"disclosable names nothing", opts(map[string]any{"holderKey": hk, "disclosable": []any{"/nothing"}}), mal},
		{"disclosable vct", opts(map[string]any{"holderKey": hk, "disclosable": []any{"/vct"}}), mal},
		{"disclosable bad pointer", opts(map[string]any{"holderKey": hk, "disclosable": []any{"jobTitle"}}), mal},
		{"too many disclosable", opts(map[string]any{"holderKey": hk, "disclosable": make([]any, 1025)}), credential.LimitExceededError.Type()},
		{"no vct", s.request(map[string]any{"jobTitle": "Engineer"}), mal},
		{"iat set", with("iat", 1), mal},
		{"cnf set", with("cnf", map[string]any{"jwk": hk}), mal},
		{"status set", with("status", map[string]any{}), mal},
		{"another iss", with("iss", "did:example:other"), credential.IssuerMismatchError.Type()},
		{"reserved claim name", with("_sd", []any{}), mal},
		{"credential not an object", map[string]any{"credential": "x", "options": map[string]any{"holderKey": hk}}, api.ProblemInvalidCredential},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := problemOf(t, s.issue(t, "acme", tc.req), http.StatusBadRequest)
			if p.Type != tc.typ || p.Detail == "" {
				t.Fatalf("problem %+v, want %s", p, tc.typ)
			}
		})
	}
	p := problemOf(t, s.issue(t, "nobody", s.request(employment())), http.StatusNotFound)
	if p.Type != api.ProblemUnknownIssuer {
		t.Fatalf("unknown issuer: %+v", p)
	}
	b, _ := json.Marshal(s.request(employment()))
	problemOf(t, post(t, s.c, s.url+"/issuers/acme/dc+sd-jwt/credentials/issue", b), http.StatusUnauthorized)
	// The format named in options must be the path's.
	req := s.request(employment())
	req["options"].(map[string]any)["format"] = "vc+jwt"
	if p := problemOf(t, s.issue(t, "acme", req), http.StatusBadRequest); p.Type != api.ProblemInvalidParameter {
		t.Fatalf("format mismatch: %+v", p)
	}
}

// TestSDJWTIssueByFormat: POST /credentials/issue with options.format
// dc+sd-jwt names the issuer by the claims' iss.
func TestSDJWTIssueByFormat(t *testing.T) {
	s := newSDServer(t, nil)
	created := s.issuerNamed(t, "acme")
	c := employment()
	c["iss"] = created.DID
	req := s.request(c)
	req["options"].(map[string]any)["format"] = "dc+sd-jwt"
	b, _ := json.Marshal(req)
	issued := MustCompact(t, post(t, s.c, s.url+"/credentials/issue", b, "Authorization", "Bearer "+sdToken))
	if status, res := s.verifySD(t, issued, nil); status != http.StatusOK || res.Issuer != created.DID {
		t.Fatalf("%d %+v", status, res)
	}
	delete(c, "iss")
	b, _ = json.Marshal(req)
	if p := problemOf(t, post(t, s.c, s.url+"/credentials/issue", b, "Authorization", "Bearer "+sdToken), http.StatusBadRequest); p.Type != api.ProblemInvalidCredential {
		t.Fatalf("no iss: %+v", p)
	}
}

// TestSDJWTTokenStatus: with a TokenStatusAllocator the issued SD-JWT VC
// carries the status claim it returns for the credential's jti (a fresh
// urn:uuid, or the request's own), a repeated jti is refused, and the
// verifier's TokenStatusChecker decides the status check.
func TestSDJWTTokenStatus(t *testing.T) {
	alloc := &fakeAllocator{}
	s := newSDServer(t, func(c *api.Config) { c.TokenStatus = alloc })
	s.issuerNamed(t, "acme")
	issued := MustCompact(t, s.issue(t, "acme", s.request(employment())))
	res, err := sdjwt.VerifyWithKey(issued, keys.PublicKey{}, sdjwt.VerifyOptions{Now: sdNow})
	if err == nil {
		t.Fatalf("verified with no key: %+v", res)
	}
	_, vr := s.verifySD(t, issued, nil)
	claims := vr.Disclosed.Claims
	jti, _ := claims["jti"].(string)
	if len(alloc.ids) != 1 || jti != alloc.ids[0] || !strings.HasPrefix(jti, "urn:uuid:") {
		t.Fatalf("jti %q, allocated %v", jti, alloc.ids)
	}
	st, _ := json.Marshal(claims["status"])
	if string(st) != `{"status_list":{"idx":1,"uri":"https://node.example/status-lists/acme/token"}}` {
		t.Fatalf("status %s", st)
	}
	// No checker: the status is not checked (a warning).
	if !vr.Verified || len(vr.Warnings) != 1 || vr.Warnings[0].Type != credential.StatusRetrievalError.Type() {
		t.Fatalf("without a checker: %+v", vr)
	}
	for value, code := range map[uint8]credential.Code{1: credential.CredentialRevoked, 2: credential.CredentialSuspended, 3: credential.StatusVerificationError} {
		s.v.TokenStatus = fakeChecker{value}
		status, res := s.verifySD(t, present(t, issued, s.holder, "/jobTitle"), kbOptions)
		if check, typ := failedCheck(res); status != http.StatusBadRequest || check != verifier.CheckStatus || typ != code.Type() || res.StatusHeight != 9 {
			t.Fatalf("status %d: %d %s %s", value, status, check, typ)
		}
	}
	s.v.TokenStatus = fakeChecker{0}
	if status, res := s.verifySD(t, issued, nil); status != http.StatusOK || !res.Verified {
		t.Fatalf("valid: %d %+v", status, res.ProblemDetails)
	}
	s.v.TokenStatus = nil

	c := employment()
	c["jti"] = "urn:example:credential-1"
	MustCompact(t, s.issue(t, "acme", s.request(c)))
	if alloc.ids[1] != "urn:example:credential-1" {
		t.Fatalf("allocated %v", alloc.ids)
	}
	if p := problemOf(t, s.issue(t, "acme", s.request(c)), http.StatusBadRequest); p.Type != credential.MalformedValueError.Type() {
		t.Fatalf("repeated jti: %+v", p)
	}
	c["jti"] = 7
	problemOf(t, s.issue(t, "acme", s.request(c)), http.StatusBadRequest)
	// A request that cannot be issued takes no entry.
	n := len(alloc.ids)
	problemOf(t, s.issue(t, "acme", map[string]any{"credential": employment(), "options": map[string]any{"holderKey": s.holder.Public().JWK(), "disclosable": []any{"/none"}}}), http.StatusBadRequest)
	if len(alloc.ids) != n {
		t.Fatalf("an entry allocated for a refused request: %v", alloc.ids)
	}
	// The allocator's own failure is the node's: 500.
	alloc.err = errors.New("disk full")
	problemOf(t, s.issue(t, "acme", s.request(employment())), http.StatusInternalServerError)
}

// TestSDJWTVerifyBounds: oversized SD-JWT VCs over HTTP: a body over the
// server's bound is 413; one within it but over the SD-JWT bounds
// (bytes, Disclosures) is not verified, LIMIT_EXCEEDED_ERROR.
func TestSDJWTVerifyBounds(t *testing.T) {
	s := newSDServer(t, func(c *api.Config) { c.MaxBodyBytes = 4 << 20 })
	s.issuerNamed(t, "acme")
	issued := MustCompact(t, s.issue(t, "acme", s.request(employment())))
	for name, vc := range map[string]string{
		"over 1 MiB":               issued + strings.Repeat("A", sdjwt.DefaultMaxBytes),
		"too many disclosures":     issued + strings.Repeat(strings.Split(issued, "~")[1]+"~", sdjwt.DefaultMaxDisclosures),
		"over 1 MiB in a data URL": "data:application/dc+sd-jwt," + issued + strings.Repeat("A", sdjwt.DefaultMaxBytes),
	} {
		status, res := s.verifySD(t, vc, nil)
		if check, typ := failedCheck(res); status != http.StatusBadRequest || check != verifier.CheckParse || typ != credential.LimitExceededError.Type() {
			t.Errorf("%s: %d %s %s", name, status, check, typ)
		}
	}
	small := newSDServer(t, nil)
	b, _ := json.Marshal(map[string]any{"verifiableCredential": issued + strings.Repeat("A", 300<<10)})
	a := post(t, small.c, small.url+"/credentials/verify", b)
	if p := problemOf(t, a, http.StatusRequestEntityTooLarge); p.Type != api.ProblemBodyTooLarge {
		t.Fatalf("%+v", p)
	}
	// Many at once: each gets its own answer.
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			status, res := s.verifySD(t, present(t, issued, s.holder, "/jobTitle"), kbOptions)
			if status != http.StatusOK || !res.Verified {
				t.Errorf("concurrent: %d %+v", status, res.ProblemDetails)
			}
		})
	}
	wg.Wait()
}

// TestVCTMetadata: GET /vct/{name} serves the type metadata of each
// bundled schema with its vct under the public URL; an unknown type is
// a 404 problem.
func TestVCTMetadata(t *testing.T) {
	s := newSDServer(t, func(c *api.Config) { c.PublicURL = "https://node.example/" })
	resp, err := s.c.Get(s.url + "/vct/employment")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var md struct {
		VCT    string           `json:"vct"`
		Name   string           `json:"name"`
		Claims []map[string]any `json:"claims"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&md); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" || md.VCT != sdVCT || md.Name == "" || len(md.Claims) == 0 {
		t.Fatalf("%d %s %+v", resp.StatusCode, resp.Header.Get("Content-Type"), md)
	}
	resp, err = s.c.Get(s.url + "/vct/nothing")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(buf.String(), api.ProblemNotFound) {
		t.Fatalf("unknown type: %d %s", resp.StatusCode, buf.String())
	}
}
