package wallet_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/didkeys"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/wallet"
)

// holderWallet is a wallet with one Ed25519 holder key and an SD-JWT VC
// bound to it (given_name, address, nationalities[1] disclosable).
type holderWallet struct {
	w      *wallet.Wallet
	h      wallet.HolderKey
	iss    issuerKey
	sdjwt  wallet.Credential
	issued string
}

func newHolderWallet(t *testing.T) *holderWallet {
	t.Helper()
	w, _, _ := MustWallet(t)
	h, err := wallet.NewHolderKey(keys.Ed25519, wallet.MethodJWK, seeded(50))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SaveKey(h); err != nil {
		t.Fatal(err)
	}
	iss := MustIssuer(t, 51)
	raw := MustSDJWT(t, iss, h.Key.Public())
	c, err := w.Import([]byte(raw), "")
	if err != nil {
		t.Fatal(err)
	}
	return &holderWallet{w: w, h: h, iss: iss, sdjwt: c, issued: raw}
}

func mustPlan(t *testing.T, hw *holderWallet, v *fakeVerifier) (*wallet.Request, *wallet.Plan) {
	t.Helper()
	r, err := wallet.FetchRequest(context.Background(), v.uri(), testResolver, at(t0))
	if err != nil {
		t.Fatal(err)
	}
	p, err := hw.w.Plan(r)
	if err != nil {
		t.Fatal(err)
	}
	return r, p
}

// decodedSegments returns the base64url-decoded text of every "."- and
// "~"-separated segment of a compact SD-JWT: what a verifier can read.
func decodedSegments(s string) string {
	var sb strings.Builder
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '~' || r == '.' }) {
		b, err := base64.RawURLEncoding.DecodeString(part)
		if err == nil {
			sb.Write(b)
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// TestPresentSDJWTDisclosesOnlyRequested: the plan shows exactly the
// one claim asked for, and the bytes the verifier receives hold it and
// none of the undisclosed claims' names or values, with a key-binding
// JWT for the full client_id and the nonce.
func TestPresentSDJWTDisclosesOnlyRequested(t *testing.T) {
	hw := newHolderWallet(t)
	v := newFakeVerifier(t, ageQuery)
	r, p := mustPlan(t, hw, v)
	if p.Verifier != v.did || p.ClientID != v.ClientID() || p.Name != "Example Bar" || len(p.Credentials) != 1 {
		t.Fatalf("plan %+v", p)
	}
	pl := p.Credentials[0]
	if pl.Query != "person" || pl.Credential.ID != hw.sdjwt.ID || pl.Holder != hw.h.ID || pl.Whole {
		t.Fatalf("planned %+v", pl)
	}
	if len(pl.Disclosed) != 1 || pl.Disclosed[0].Pointer != "/given_name" || pl.Disclosed[0].Value != "Erika" {
		t.Fatalf("disclosed %+v", pl.Disclosed)
	}
	if pl.Shown["given_name"] != "Erika" || pl.Shown["address"] != nil || pl.Shown["vct"] == nil {
		t.Fatalf("shown %v", pl.Shown)
	}
	if got := pl.Requested; len(got) != 1 || got[0] != `["given_name"]` {
		t.Fatalf("requested %v", got)
	}
	res, err := p.Present(context.Background(), r, at(t0.Add(10*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	if res.RedirectURI != "https://rp.example/done#code=1" {
		t.Fatalf("redirect %q", res.RedirectURI)
	}
	if len(v.posted) != 1 {
		t.Fatalf("%d posts", len(v.posted))
	}
	form, err := url.ParseQuery(v.posted[0])
	if err != nil {
		t.Fatal(err)
	}
	if form.Get("state") != "st-1" {
		t.Fatalf("state %q", form.Get("state"))
	}
	var token map[string][]string
	if err := json.Unmarshal([]byte(form.Get("vp_token")), &token); err != nil {
		t.Fatal(err)
	}
	if len(token) != 1 || len(token["person"]) != 1 {
		t.Fatalf("vp_token %v", token)
	}
	pres := token["person"][0]
	seen := decodedSegments(pres) + v.posted[0]
	for _, secret := range []string{"Berlin", "locality", "address", `"FR"`, "country"} {
		if strings.Contains(seen, secret) {
			t.Errorf("the verifier received %q, which was not requested", secret)
		}
	}
	if !strings.Contains(seen, "Erika") {
		t.Error("given_name is not in what was posted")
	}
	vr, err := sdjwt.VerifyWithKey(pres, hw.iss.signer.Key.Public(), sdjwt.VerifyOptions{
		Now: t0.Add(10 * time.Second), Nonce: r.Nonce, Audience: v.ClientID(), RequireKeyBinding: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !vr.KeyBound || len(vr.Disclosed) != 1 || vr.Disclosed[0] != "/given_name" {
		t.Fatalf("verified %+v", vr)
	}
	// Bound to this request: another audience fails.
	if _, err := sdjwt.VerifyWithKey(pres, hw.iss.signer.Key.Public(), sdjwt.VerifyOptions{Now: t0, Nonce: r.Nonce, Audience: v.did}); err == nil {
		t.Fatal("a KB-JWT for the bare DID verified: aud must be the full client_id")
	}
}

// TestPresentNestedAndArrayClaims: asking for address.locality and
// every nationality discloses the address Disclosure (the parent), the
// locality and the FR element, and nothing else.
func TestPresentNestedAndArrayClaims(t *testing.T) {
	hw := newHolderWallet(t)
	v := newFakeVerifier(t, `{"credentials":[{"id":"p","format":"dc+sd-jwt","meta":{"vct_values":["https://example.com/PersonCredential"]},"claims":[{"path":["address","locality"]},{"path":["nationalities",null]}]}]}`)
	_, p := mustPlan(t, hw, v)
	var ptrs []string
	for _, d := range p.Credentials[0].Disclosed {
		ptrs = append(ptrs, d.Pointer)
	}
	if strings.Join(ptrs, " ") != "/address /address/locality /nationalities/1" {
		t.Fatalf("disclosed %v", ptrs)
	}
	if p.Credentials[0].Shown["given_name"] != nil {
		t.Fatal("given_name shown")
	}
}

// TestPresentEncrypted: direct_post.jwt posts only a JWE that the
// verifier decrypts with its key: ECDH-ES, the key's kid, the enc it
// prefers among the wallet's; the payload holds vp_token and state.
func TestPresentEncrypted(t *testing.T) {
	for _, enc := range [][]string{nil, {"A256GCM", "A128GCM"}, {"A128CBC-HS256", "A256GCM"}} {
		hw := newHolderWallet(t)
		v := newFakeVerifier(t, ageQuery)
		v.encrypting(enc...)
		r, p := mustPlan(t, hw, v)
		if _, err := p.Present(context.Background(), r, at(t0)); err != nil {
			t.Fatal(err)
		}
		form, _ := url.ParseQuery(v.posted[0])
		if len(form) != 1 || form.Get("response") == "" {
			t.Fatalf("posted %v", form)
		}
		if strings.Contains(v.posted[0], "vp_token") || strings.Contains(decodedSegments(form.Get("response")), "Erika") {
			t.Fatal("the encrypted response leaks its contents")
		}
		if len(v.decrypted) != 1 {
			t.Fatal("not decrypted")
		}
		d := v.decrypted[0]
		if d["state"] != "st-1" || d["vp_token"].(map[string]any)["person"] == nil {
			t.Fatalf("payload %v", d)
		}
		h := v.jweHeaders[0]
		want := "A128GCM"
		if len(enc) > 0 && enc[0] != "A128GCM" {
			want = "A256GCM"
		}
		if h["alg"] != "ECDH-ES" || h["enc"] != want || h["kid"] != "enc-1" {
			t.Fatalf("JWE header %v, want enc %s", h, want)
		}
	}
}

func TestPlanUnsatisfiable(t *testing.T) {
	hw := newHolderWallet(t)
	for _, c := range []struct{ query, detail string }{
		{`{"credentials":[{"id":"age","format":"dc+sd-jwt","meta":{"vct_values":["https://example.com/PersonCredential"]},"claims":[{"path":["age_over_18"]}]}]}`, `["age_over_18"]`},
		{`{"credentials":[{"id":"age","format":"dc+sd-jwt","meta":{"vct_values":["https://example.com/Other"]}}]}`, "vct"},
		{`{"credentials":[{"id":"deg","format":"ldp_vc","meta":{"type_values":[["UniversityDegreeCredential"]]}}]}`, "deg"},
		{`{"credentials":[{"id":"p","format":"dc+sd-jwt","meta":{"vct_values":["https://example.com/PersonCredential"]},"claims":[{"path":["given_name"],"values":["Max"]}]}]}`, "values"},
	} {
		v := newFakeVerifier(t, c.query)
		r, err := wallet.FetchRequest(context.Background(), v.uri(), testResolver, at(t0))
		if err != nil {
			t.Fatal(err)
		}
		_, err = hw.w.Plan(r)
		if !errors.Is(err, wallet.ErrUnsatisfiable) || !strings.Contains(err.Error(), c.detail) {
			t.Errorf("Plan(%s) = %v, want ErrUnsatisfiable naming %q", c.query, err, c.detail)
		}
		if strings.Contains(c.detail, "age_over_18") && !strings.Contains(err.Error(), "credential "+hw.sdjwt.ID+" (dc+sd-jwt, https://example.com/PersonCredential)") {
			t.Errorf("Plan: %v does not name the stored credential", err)
		}
	}
	// A credential bound to a key the wallet does not hold cannot bind.
	w2, _, _ := MustWallet(t)
	if _, err := w2.Import([]byte(hw.issued), ""); err != nil {
		t.Fatal(err)
	}
	v := newFakeVerifier(t, ageQuery)
	r, _ := wallet.FetchRequest(context.Background(), v.uri(), testResolver, at(t0))
	if _, err := w2.Plan(r); !errors.Is(err, wallet.ErrUnsatisfiable) || !strings.Contains(err.Error(), "holder binding") {
		t.Fatalf("err = %v", err)
	}
	// An invalid query is the verifier's fault.
	v = newFakeVerifier(t, `{"credentials":[]}`)
	r, _ = wallet.FetchRequest(context.Background(), v.uri(), testResolver, at(t0))
	if _, err := hw.w.Plan(r); !errors.Is(err, wallet.ErrMalformed) {
		t.Fatalf("err = %v", err)
	}
}

// TestPresentJWTVCAndLDP: a jwt_vc_json credential goes as a VP JWT and
// an ldp_vc as a Data Integrity VP, both signed by the holder key and
// bound to the nonce and the full client_id.
func TestPresentJWTVCAndLDP(t *testing.T) {
	hw := newHolderWallet(t)
	jc, err := wallet.Detect([]byte(MustJWTVCJSON(t, hw.iss)))
	if err != nil {
		t.Fatal(err)
	}
	jc.Holder = hw.h.ID
	if _, err := hw.w.Put(jc); err != nil {
		t.Fatal(err)
	}
	cred := degree(hw.iss.did)
	cred["@context"] = []any{credential.ContextV2, "https://www.w3.org/ns/credentials/examples/v2"}
	ldp, err := dataintegrity.Sign(context.Background(), cred, hw.iss.signer, dataintegrity.SignOptions{Created: t0})
	if err != nil {
		t.Fatal(err)
	}
	lb, _ := json.Marshal(ldp)
	lc, err := wallet.Detect(lb)
	if err != nil {
		t.Fatal(err)
	}
	lc.Holder = hw.h.ID
	if _, err := hw.w.Put(lc); err != nil {
		t.Fatal(err)
	}
	v := newFakeVerifier(t, `{"credentials":[
		{"id":"jwt","format":"jwt_vc_json","meta":{"type_values":[["UniversityDegreeCredential"]]},"claims":[{"path":["credentialSubject","degree"]}]},
		{"id":"ldp","format":"ldp_vc","meta":{"type_values":[["https://www.w3.org/2018/credentials#VerifiableCredential","UniversityDegreeCredential"]]}}]}`)
	r, p := mustPlan(t, hw, v)
	for _, pl := range p.Credentials {
		if !pl.Whole || pl.Holder != hw.h.ID {
			t.Fatalf("planned %+v", pl)
		}
	}
	token, err := p.Build(context.Background(), r, t0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := jose.ParseCompact(token["jwt"][0].(string), "JWT", 0)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := c.Verify(hw.h.Key.Public())
	if err != nil {
		t.Fatal(err)
	}
	vp := claims["vp"].(map[string]any)
	if claims["aud"] != v.ClientID() || claims["nonce"] != r.Nonce || claims["iss"] != hw.h.DID || c.Header["kid"] != hw.h.ID || vp["verifiableCredential"].([]any)[0] != jc.Raw {
		t.Fatalf("VP JWT %v %v", c.Header, claims)
	}
	doc := token["ldp"][0].(map[string]any)
	keysOf := didkeys.DIDKeys{Resolver: testResolver}
	if _, err := dataintegrity.Verify(context.Background(), doc, keysOf, dataintegrity.VerifyOptions{
		ExpectedProofPurpose: credential.PurposeAuthentication, Challenge: r.Nonce, Domain: v.ClientID(),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := dataintegrity.Verify(context.Background(), doc, keysOf, dataintegrity.VerifyOptions{
		ExpectedProofPurpose: credential.PurposeAuthentication, Challenge: "other", Domain: v.ClientID(),
	}); err == nil {
		t.Fatal("verified with another challenge")
	}
}

// TestRespondErrors: the verifier's OAuth error is a ProtocolError
// naming the verifier; a decline posts access_denied with the state.
func TestRespondErrors(t *testing.T) {
	hw := newHolderWallet(t)
	v := newFakeVerifier(t, ageQuery)
	r, p := mustPlan(t, hw, v)
	v.status, v.answer = http.StatusBadRequest, `{"error":"invalid_request","error_description":"nonce mismatch\u001b[2J"}`
	_, err := p.Present(context.Background(), r, at(t0))
	var pe *wallet.ProtocolError
	if !errors.As(err, &pe) || pe.Code != "invalid_request" || pe.Description != "" || !strings.Contains(err.Error(), "verifier's response endpoint") {
		t.Fatalf("err = %v (%+v)", err, pe)
	}
	v.status, v.answer = http.StatusOK, `{}`
	res, err := wallet.Decline(context.Background(), r, "", "the holder declined", at(t0))
	if err != nil || res.RedirectURI != "" {
		t.Fatalf("decline: %v, %+v", err, res)
	}
	form, _ := url.ParseQuery(v.posted[len(v.posted)-1])
	if form.Get("error") != "access_denied" || form.Get("state") != "st-1" || form.Has("vp_token") {
		t.Fatalf("decline posted %v", form)
	}
	// An answer that is not JSON, or too large, is refused.
	v.answer = "<html>"
	if _, err := wallet.Decline(context.Background(), r, "", "", at(t0)); !errors.Is(err, wallet.ErrMalformed) {
		t.Fatalf("err = %v", err)
	}
	v.answer = `{"x":"` + strings.Repeat("a", wallet.MaxSmallResponseBytes) + `"}`
	if _, err := wallet.Decline(context.Background(), r, "", "", at(t0)); !errors.Is(err, wallet.ErrTooLarge) {
		t.Fatalf("err = %v", err)
	}
}

// TestPresentWithoutHolderBinding: a query that does not require holder
// binding, answered by a wallet that does not hold the key the
// credentials are bound to, gets the SD-JWT with only the needed
// Disclosures and no KB-JWT, and a jwt_vc_json credential as issued.
// (With the key held, the wallet binds anyway:
// TestPresentWithoutHolderBindingUsesHeldKey.)
func TestPresentWithoutHolderBinding(t *testing.T) {
	hw := newHolderWallet(t)
	// The same credentials in a wallet without the holder key.
	w2, _, _ := MustWallet(t)
	if _, err := w2.Import([]byte(hw.issued), ""); err != nil {
		t.Fatal(err)
	}
	hw.w = w2
	jwtvc := MustJWTVCJSON(t, hw.iss)
	if _, err := hw.w.Import([]byte(jwtvc), ""); err != nil {
		t.Fatal(err)
	}
	v := newFakeVerifier(t, `{"credentials":[
		{"id":"p","format":"dc+sd-jwt","require_cryptographic_holder_binding":false,"meta":{"vct_values":["https://example.com/PersonCredential"]},"claims":[{"path":["given_name"]}]},
		{"id":"d","format":"jwt_vc_json","require_cryptographic_holder_binding":false,"meta":{"type_values":[["UniversityDegreeCredential"]]}}]}`)
	r, p := mustPlan(t, hw, v)
	token, err := p.Build(context.Background(), r, t0)
	if err != nil {
		t.Fatal(err)
	}
	sd := token["p"][0].(string)
	if !strings.HasSuffix(sd, "~") || strings.Count(sd, "~") != 2 {
		t.Fatalf("SD-JWT %q: want one Disclosure and no KB-JWT", sd)
	}
	if token["d"][0] != jwtvc {
		t.Fatalf("jwt_vc_json %v", token["d"][0])
	}
	for _, pl := range p.Credentials {
		if pl.Holder != "" {
			t.Fatalf("holder %q without holder binding", pl.Holder)
		}
	}
}

// TestPlanCredentialSets: with credential_sets the wallet answers the
// first option it can satisfy, and an optional set it cannot satisfy is
// left out.
func TestPlanCredentialSets(t *testing.T) {
	hw := newHolderWallet(t)
	v := newFakeVerifier(t, `{"credentials":[
		{"id":"pid","format":"dc+sd-jwt","meta":{"vct_values":["https://example.com/PID"]}},
		{"id":"person","format":"dc+sd-jwt","meta":{"vct_values":["https://example.com/PersonCredential"]},"claims":[{"path":["nationalities"]}]},
		{"id":"extra","format":"ldp_vc","meta":{"type_values":[["Nope"]]}}],
		"credential_sets":[{"options":[["pid"],["person"]]},{"options":[["extra"]],"required":false}]}`)
	r, p := mustPlan(t, hw, v)
	if len(p.Credentials) != 1 || p.Credentials[0].Query != "person" {
		t.Fatalf("plan %+v", p.Credentials)
	}
	// nationalities is in the clear with one disclosable element: asking
	// for the array discloses that element too.
	if d := p.Credentials[0].Disclosed; len(d) != 1 || d[0].Pointer != "/nationalities/1" || d[0].Value != "FR" {
		t.Fatalf("disclosed %+v", d)
	}
	if _, err := p.Present(context.Background(), r, at(t0)); err != nil {
		t.Fatal(err)
	}
}

// TestPresentConcurrently: many requests planned and answered at once
// from one wallet (run with -race).
func TestPresentConcurrently(t *testing.T) {
	hw := newHolderWallet(t)
	v := newFakeVerifier(t, ageQuery)
	errs := make(chan error, 16)
	for range 16 {
		go func() {
			r, err := wallet.FetchRequest(context.Background(), v.uri(), testResolver, at(t0))
			if err == nil {
				var p *wallet.Plan
				if p, err = hw.w.Plan(r); err == nil {
					_, err = p.Present(context.Background(), r, at(t0))
				}
			}
			errs <- err
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.posted) != 16 {
		t.Fatalf("%d responses", len(v.posted))
	}
}
