package wallet_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"unicode"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/wallet"
)

// hasControl reports whether s holds a control or format character
// (what could drive a terminal).
func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			return true
		}
	}
	return false
}

// TestRequestErrorsQuoted (review 16 finding 2): values of a request
// object that reach an error are quoted and bounded, both before the
// signature is checked (aud, enc values, response_mode, client_id
// prefix) and after (client_id against the request URI's), so that no
// control character and no megabyte of text reaches the holder's
// terminal.
func TestRequestErrorsQuoted(t *testing.T) {
	esc := "\x1b]0;pwned\x07\x1b[2K\u202e"
	long := esc + strings.Repeat("A", 100<<10)
	forge := func(v *fakeVerifier) {
		other := MustIssuer(t, 99)
		v.object = signRequest(t, v.claims, credential.KeySigner{ID: v.signer.ID, Key: other.signer.Key}, wallet.RequestObjectType)
	}
	cases := []struct {
		name   string
		setup  func(v *fakeVerifier)
		uri    func(v *fakeVerifier) string
		want   error
		detail string
	}{
		{name: "aud, forged signature", want: wallet.ErrMalformed, detail: `aud "\x1b]0;pwned\a`, setup: func(v *fakeVerifier) {
			v.claims["aud"] = esc
			forge(v)
		}},
		{name: "aud array, long", want: wallet.ErrMalformed, detail: `aud "[\x1b]0;pwned`, setup: func(v *fakeVerifier) {
			v.claims["aud"] = []any{long, 7}
			forge(v)
		}},
		{name: "enc values", want: wallet.ErrUnsupported, detail: `"\x1b[31mA999GCM"`, setup: func(v *fakeVerifier) {
			v.encrypting("\x1b[31mA999GCM", long, "x", "y", "z", "w")
			forge(v)
		}},
		{name: "response_mode", want: wallet.ErrUnsupported, detail: `response_mode "\x1b]0;`, setup: func(v *fakeVerifier) {
			v.claims["response_mode"] = long
			forge(v)
		}},
		{name: "response_type", want: wallet.ErrUnsupported, detail: `response_type "\x1b]0;`, setup: func(v *fakeVerifier) {
			v.claims["response_type"] = long
			forge(v)
		}},
		{name: "client_id prefix", want: wallet.ErrUnsupported, detail: `prefix "\x1b]0;`, setup: func(v *fakeVerifier) {
			v.claims["client_id"] = long + ":x"
			forge(v)
		}, uri: func(v *fakeVerifier) string { return v.srv.URL + "/request/1" }},
		{name: "client_id of the URI, signed", want: wallet.ErrUntrustedRequest, detail: `is not the request URI's "\x1b]0;`, uri: func(v *fakeVerifier) string {
			return "openid4vp://?client_id=" + url.QueryEscape(esc+strings.Repeat("B", 4000)) + "&request_uri=" + url.QueryEscape(v.srv.URL+"/request/1")
		}},
		{name: "iat not a date", want: wallet.ErrMalformed, detail: "iat", setup: func(v *fakeVerifier) {
			v.claims["iat"] = -1
			forge(v)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newFakeVerifier(t, ageQuery)
			if c.setup != nil {
				c.setup(v)
			}
			uri := v.uri()
			if c.uri != nil {
				uri = c.uri(v)
			}
			_, err := wallet.FetchRequest(context.Background(), uri, testResolver, at(t0.Add(1)))
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			msg := err.Error()
			if hasControl(msg) {
				t.Fatalf("error holds control characters: %q", msg)
			}
			if len(msg) > 2048 {
				t.Fatalf("error of %d bytes: %.300q", len(msg), msg)
			}
			if want := strings.NewReplacer("\x1b", `\x1b`, "\a", `\a`).Replace(c.detail); !strings.Contains(msg, want) {
				t.Fatalf("err = %q, want it to name %q", msg, want)
			}
		})
	}
}

// TestVerifierURLPolicy (review 16 finding 6): the wallet never sends
// to, nor fetches from, the unspecified address or a private,
// link-local or other non-public address literal; a loopback
// response_uri only when the request came from loopback; nothing is
// connected to.
func TestVerifierURLPolicy(t *testing.T) {
	for _, u := range []string{"https://0.0.0.0:8443/cb", "https://[::]/cb", "http://0.0.0.0:80/cb", "https://[::ffff:0.0.0.0]/cb"} {
		if err := wallet.CheckURL(u); !errors.Is(err, wallet.ErrInsecureURL) {
			t.Errorf("CheckURL(%s) = %v, want ErrInsecureURL", u, err)
		}
	}
	for _, u := range []string{"https://0.0.0.0:1/cb", "https://[::]:1/cb", "https://10.1.2.3/cb", "https://192.168.1.1/cb", "https://169.254.169.254/latest", "https://[fe80::1]/cb", "https://[fd00::1]/cb", "https://100.64.0.1/cb"} {
		t.Run("response_uri "+u, func(t *testing.T) {
			v := newFakeVerifier(t, ageQuery)
			v.claims["response_uri"] = u
			_, err := wallet.FetchRequest(context.Background(), v.uri(), testResolver, at(t0))
			if !errors.Is(err, wallet.ErrInsecureURL) || hasControl(err.Error()) {
				t.Fatalf("err = %v, want ErrInsecureURL", err)
			}
		})
		t.Run("request_uri "+u, func(t *testing.T) {
			uri := "openid4vp://?client_id=x&request_uri=" + url.QueryEscape(u)
			_, err := wallet.FetchRequest(context.Background(), uri, testResolver, at(t0))
			if !errors.Is(err, wallet.ErrInsecureURL) || !strings.Contains(err.Error(), "request_uri") {
				t.Fatalf("err = %v, want ErrInsecureURL for the request_uri", err)
			}
		})
	}
	// A loopback request_uri may name a loopback response_uri (local
	// testing), but also there 0.0.0.0 is refused.
	v := newFakeVerifier(t, ageQuery)
	_, port, _ := net.SplitHostPort(v.srv.Listener.Addr().String())
	v.claims["response_uri"] = "http://localhost:" + port + "/response/1"
	if _, err := wallet.FetchRequest(context.Background(), v.uri(), testResolver, at(t0)); err != nil {
		t.Fatalf("loopback to localhost: %v", err)
	}
	v.claims["response_uri"] = "http://0.0.0.0:" + port + "/response/1"
	if _, err := wallet.FetchRequest(context.Background(), v.uri(), testResolver, at(t0)); !errors.Is(err, wallet.ErrInsecureURL) {
		t.Fatalf("0.0.0.0 from loopback: err = %v", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.posted) != 0 {
		t.Fatalf("the wallet posted %d responses", len(v.posted))
	}
}

// TestPlanJWTVCShowsWholeJWT (review 16 finding 9): for jwt_vc_json the
// plan shows the issuer JWT's header and every top-level claim (sub,
// jti, nbf, ...), which all reach the verifier, not only vc.
func TestPlanJWTVCShowsWholeJWT(t *testing.T) {
	hw := newHolderWallet(t)
	cred := map[string]any{
		"@context":          []any{"https://www.w3.org/2018/credentials/v1"},
		"type":              []any{"VerifiableCredential", "UniversityDegreeCredential"},
		"issuer":            hw.iss.did,
		"issuanceDate":      "2026-01-01T00:00:00Z",
		"credentialSubject": map[string]any{"id": hw.h.DID, "degree": "BSc"},
	}
	raw, err := jose.SignJWTVC(cred, hw.iss.signer, jose.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := hw.w.Import([]byte(raw), "")
	if err != nil {
		t.Fatal(err)
	}
	v := newFakeVerifier(t, `{"credentials":[{"id":"d","format":"jwt_vc_json","meta":{"type_values":[["UniversityDegreeCredential"]]},"claims":[{"path":["credentialSubject","degree"]}]}]}`)
	r, p := mustPlan(t, hw, v)
	pl := p.Credentials[0]
	if pl.Credential.ID != c.ID || !pl.Whole {
		t.Fatalf("planned %+v", pl)
	}
	parts := strings.Split(raw, ".")
	header, payload := decodedSegments(parts[0]), decodedSegments(parts[1])
	h, _ := pl.Shown["header"].(map[string]any)
	claims, _ := pl.Shown["payload"].(map[string]any)
	if h == nil || claims == nil || h["alg"] == nil || h["kid"] == nil {
		t.Fatalf("shown %v", pl.Shown)
	}
	// Every member the JWT carries is shown.
	for _, name := range []string{"iss", "sub", "nbf", "vc"} {
		if strings.Contains(payload, `"`+name+`"`) && claims[name] == nil {
			t.Fatalf("%s is sent (%s) but not shown: %v", name, payload, claims)
		}
	}
	if !strings.Contains(header, `"kid"`) || claims["vc"] == nil {
		t.Fatalf("shown %v for header %s", pl.Shown, header)
	}
	// And what is built holds that very JWT.
	token, err := p.Build(context.Background(), r, t0)
	if err != nil {
		t.Fatal(err)
	}
	vp, err := jose.ParseCompact(token["d"][0].(string), "JWT", 0)
	if err != nil {
		t.Fatal(err)
	}
	vc, err := vp.Payload()
	if err != nil || vc["vp"].(map[string]any)["verifiableCredential"].([]any)[0] != raw {
		t.Fatalf("VP %v, %v", vc, err)
	}
}

// TestPresentWithoutHolderBindingUsesHeldKey (interop): a query that
// does not require holder binding still gets a key-binding JWT for an
// SD-JWT and a VP JWT for jwt_vc_json when the wallet holds the key the
// credential is bound to, bound to the nonce and the full client_id, as
// verifiers that always check binding (idmesh's) need.
func TestPresentWithoutHolderBindingUsesHeldKey(t *testing.T) {
	hw := newHolderWallet(t)
	jc, err := wallet.Detect([]byte(MustJWTVCJSON(t, hw.iss)))
	if err != nil {
		t.Fatal(err)
	}
	jc.Holder = hw.h.ID
	if _, err := hw.w.Put(jc); err != nil {
		t.Fatal(err)
	}
	v := newFakeVerifier(t, `{"credentials":[
		{"id":"p","format":"dc+sd-jwt","require_cryptographic_holder_binding":false,"meta":{"vct_values":["https://example.com/PersonCredential"]},"claims":[{"path":["given_name"]}]},
		{"id":"d","format":"jwt_vc_json","require_cryptographic_holder_binding":false,"meta":{"type_values":[["UniversityDegreeCredential"]]}}]}`)
	r, p := mustPlan(t, hw, v)
	for _, pl := range p.Credentials {
		if pl.Holder != hw.h.ID {
			t.Fatalf("planned %s without the held key: %q", pl.Query, pl.Holder)
		}
	}
	token, err := p.Build(context.Background(), r, t0)
	if err != nil {
		t.Fatal(err)
	}
	sd := token["p"][0].(string)
	if strings.HasSuffix(sd, "~") || strings.Count(sd, "~") != 2 {
		t.Fatalf("SD-JWT %q: want one Disclosure and a KB-JWT", sd)
	}
	res, err := sdjwt.VerifyWithKey(sd, hw.iss.signer.Key.Public(), sdjwt.VerifyOptions{Nonce: r.Nonce, Audience: v.ClientID(), Now: t0, RequireKeyBinding: true})
	if err != nil || res.Claims["given_name"] != "Erika" {
		t.Fatalf("verify %v: %v", res, err)
	}
	c, err := jose.ParseCompact(token["d"][0].(string), "JWT", 0)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := c.Verify(hw.h.Key.Public())
	if err != nil || claims["aud"] != v.ClientID() || claims["nonce"] != r.Nonce {
		t.Fatalf("VP JWT %v: %v", claims, err)
	}
}
