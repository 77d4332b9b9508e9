package api_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/wallet"
)

// vciServer is an API server with one issuer, "uni", and a clock the
// test moves.
type vciServer struct {
	*sdServer
	clock *fakeClock
	seed  byte
}

func newVCIServer(t *testing.T) *vciServer {
	t.Helper()
	clock := &fakeClock{t: sdNow}
	s := newSDServer(t, func(c *api.Config) { c.Now = clock.Now })
	s.issuerNamed(t, "uni")
	return &vciServer{sdServer: s, clock: clock}
}

// offer makes an offer over HTTP and returns the answer.
func (s *vciServer) offer(t *testing.T, req map[string]any) api.OfferResponse {
	t.Helper()
	b, _ := json.Marshal(req)
	a := post(t, s.c, s.url+"/issuers/uni/offers", b, "Authorization", "Bearer "+sdToken)
	var out api.OfferResponse
	if a.status != http.StatusCreated || json.Unmarshal(a.body, &out) != nil {
		t.Fatalf("offer: %d %s", a.status, a.body)
	}
	return out
}

func degreeClaims() map[string]any {
	return map[string]any{"name": "Alice", "degree": map[string]any{"type": "BachelorDegree", "name": "Bachelor of Science"}}
}

func (s *vciServer) holder(t *testing.T, method string) wallet.HolderKey {
	t.Helper()
	return s.holderOf(t, keys.Ed25519, method)
}

func (s *vciServer) holderOf(t *testing.T, kt keys.Type, method string) wallet.HolderKey {
	t.Helper()
	s.seed++
	h, err := wallet.NewHolderKey(kt, method, rand.NewChaCha8([32]byte{s.seed}))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (s *vciServer) walletOptions() wallet.Options {
	return wallet.Options{Client: s.c, Now: s.clock.Now}
}

// TestOID4VCIMetadata: both metadata documents parse with the wallet's
// parsers, name this server as the issuer, and list a configuration per
// schema and format plus the generic one.
func TestOID4VCIMetadata(t *testing.T) {
	s := newVCIServer(t)
	resp, err := s.c.Get(s.url + api.IssuerMetadataPath)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	md, err := wallet.ParseIssuerMetadata(b, s.url)
	if err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if md.CredentialEndpoint != s.url+"/credential" || md.NonceEndpoint != s.url+"/nonce" || len(md.Display) == 0 {
		t.Errorf("metadata %+v", md)
	}
	for id, want := range map[string]string{api.GenericConfiguration: "dc+sd-jwt", "university-degree_sd_jwt": "dc+sd-jwt",
		"university-degree_jwt_vc_json": "jwt_vc_json", "employment_ldp_vc": "ldp_vc", "product-origin_sd_jwt": "dc+sd-jwt"} {
		c, ok := md.Configurations[id]
		if !ok || c.Format != want || len(c.ProofAlgs) != 2 || len(c.BindingMethods) == 0 {
			t.Errorf("configuration %s: %+v", id, c)
		}
	}
	if vct := md.Configurations["university-degree_sd_jwt"].VCT; vct != s.url+"/vct/university-degree" {
		t.Errorf("vct %q", vct)
	}
	if ty := md.Configurations["university-degree_ldp_vc"].Types; len(ty) != 2 || ty[1] != "UniversityDegreeCredential" {
		t.Errorf("types %v", ty)
	}
	resp, err = s.c.Get(s.url + api.AuthServerMetadataPath)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	as, err := wallet.ParseAuthServerMetadata(b, s.url)
	if err != nil || as.TokenEndpoint != s.url+"/token" || !as.AnonymousPreAuthorized {
		t.Errorf("authorization server metadata %+v %v", as, err)
	}
}

// TestOID4VCIReceive: the wallet redeems offers (by reference and by
// value, with and without a transaction code) in every format; each
// credential is bound to the holder (cnf.jwk, or credentialSubject.id
// the holder's DID) and carries the offer's claims.
func TestOID4VCIReceive(t *testing.T) {
	s := newVCIServer(t)
	for _, tc := range []struct {
		config, format, method string
		claims                 map[string]any
		byValue                bool
		tx                     string
		p256                   bool
	}{
		{api.GenericConfiguration, wallet.FormatSDJWT, wallet.MethodKey, map[string]any{"name": "Alice", "member": true, "level": 3}, false, "", false},
		{"university-degree_sd_jwt", wallet.FormatSDJWT, wallet.MethodJWK, degreeClaims(), true, "493817", false},
		{"university-degree_jwt_vc_json", wallet.FormatJWTVCJSON, wallet.MethodKey, degreeClaims(), false, "", false},
		{"university-degree_ldp_vc", wallet.FormatLDPVC, wallet.MethodJWK, degreeClaims(), false, "1212", false},
		{"university-degree_ldp_vc", wallet.FormatLDPVC, wallet.MethodKey, degreeClaims(), true, "", false},
		{api.GenericConfiguration, wallet.FormatSDJWT, wallet.MethodJWK, map[string]any{"name": "Alice"}, false, "", true},
		{"employment_jwt_vc_json", wallet.FormatJWTVCJSON, wallet.MethodKey, map[string]any{"name": "Alice", "jobTitle": "Engineer",
			"employer": map[string]any{"name": "Example Corp"}, "startDate": "2024-01-01"}, false, "", true},
	} {
		t.Run(tc.config+"/"+tc.method, func(t *testing.T) {
			req := map[string]any{"credential_configuration_id": tc.config, "claims": tc.claims, "by_value": tc.byValue}
			if tc.tx != "" {
				req["tx_code"] = tc.tx
			}
			o := s.offer(t, req)
			if want := "openid-credential-offer://?credential_offer"; !strings.HasPrefix(o.URI, want) || !o.ExpiresAt.Equal(sdNow.Add(api.DefaultOfferTTL)) {
				t.Errorf("offer %+v", o)
			}
			if strings.Contains(o.URI, "credential_offer_uri=") == tc.byValue {
				t.Errorf("by_value %v: %s", tc.byValue, o.URI)
			}
			kt := keys.Ed25519
			if tc.p256 {
				kt = keys.P256
			}
			h := s.holderOf(t, kt, tc.method)
			creds, err := wallet.Receive(t.Context(), o.URI, h, tc.tx, s.walletOptions())
			if err != nil {
				t.Fatal(err)
			}
			if len(creds) != 1 || creds[0].Format != tc.format {
				t.Fatalf("credentials %+v", creds)
			}
			c, err := wallet.Decode(creds[0])
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			switch tc.format {
			case wallet.FormatSDJWT:
				cnf, _ := c.Claims["cnf"].(map[string]any)
				k, err := keys.ParseJWK(cnf["jwk"].(map[string]any))
				if err != nil || !k.Equal(h.Key.Public()) {
					t.Errorf("cnf %v", cnf)
				}
				got = c.Claims
			case wallet.FormatJWTVCJSON:
				vc, _ := c.Claims["vc"].(map[string]any)
				got, _ = vc["credentialSubject"].(map[string]any)
			default:
				got, _ = c.Claims["credentialSubject"].(map[string]any)
			}
			if tc.format != wallet.FormatSDJWT && got["id"] != h.DID {
				t.Errorf("credentialSubject.id %v, want %s", got["id"], h.DID)
			}
			if got["name"] != "Alice" {
				t.Errorf("claims %v", got)
			}
			// The offer is spent: by reference it is gone, and its code
			// redeems nothing.
			if _, err := wallet.Receive(t.Context(), o.URI, h, tc.tx, s.walletOptions()); err == nil {
				t.Error("an offer redeemed twice")
			}
		})
	}
}

// tokenFor redeems an offer's code by hand and returns the access token.
func (s *vciServer) tokenFor(t *testing.T, o api.OfferResponse) string {
	t.Helper()
	code := s.code(t, o)
	a := postForm(t, s.c, s.url+"/token", url.Values{"grant_type": {api.GrantPreAuthorizedCode}, "pre-authorized_code": {code}})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if a.status != http.StatusOK || json.Unmarshal(a.body, &tok) != nil {
		t.Fatalf("token: %d %s", a.status, a.body)
	}
	return tok.AccessToken
}

// code fetches an offer by reference and returns its pre-authorized code.
func (s *vciServer) code(t *testing.T, o api.OfferResponse) string {
	t.Helper()
	resp, err := s.c.Get(o.CredentialOfferURI)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	off, err := wallet.ParseOffer(b)
	if err != nil || off.PreAuthorized == nil {
		t.Fatalf("offer %s: %v", b, err)
	}
	return off.PreAuthorized.Code
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values) answer {
	t.Helper()
	a := post(t, c, u, []byte(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
	if a.status != http.StatusOK && !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
		t.Errorf("error answered as %s", a.header.Get("Content-Type"))
	}
	return a
}

// oauthError returns the error member of an error answer.
func oauthError(t *testing.T, a answer) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(a.body, &e); err != nil {
		t.Fatalf("%d %s", a.status, a.body)
	}
	return e.Error
}

// TestOID4VCITokenRefusals: the token endpoint refuses, with the RFC
// 6749 error codes in JSON bodies, reused and expired codes, wrong
// transaction codes (the third burns the code, so that the right one
// fails after it), other grant types, repeated and missing parameters,
// other media types and oversized bodies.
func TestOID4VCITokenRefusals(t *testing.T) {
	s := newVCIServer(t)
	tok := func(form url.Values) answer { return postForm(t, s.c, s.url+"/token", form) }
	grant := func(code string, tx ...string) url.Values {
		v := url.Values{"grant_type": {api.GrantPreAuthorizedCode}, "pre-authorized_code": {code}}
		if len(tx) > 0 {
			v.Set("tx_code", tx[0])
		}
		return v
	}
	claims := map[string]any{"name": "Alice"}
	generic := map[string]any{"credential_configuration_id": api.GenericConfiguration, "claims": claims}

	t.Run("reused", func(t *testing.T) {
		code := s.code(t, s.offer(t, generic))
		if a := tok(grant(code)); a.status != http.StatusOK {
			t.Fatalf("%d %s", a.status, a.body)
		}
		if a := tok(grant(code)); a.status != http.StatusBadRequest || oauthError(t, a) != "invalid_grant" {
			t.Errorf("reused code: %d %s", a.status, a.body)
		}
	})
	t.Run("expired", func(t *testing.T) {
		o := s.offer(t, generic)
		code := s.code(t, o)
		s.clock.Add(api.DefaultOfferTTL)
		if a := tok(grant(code)); a.status != http.StatusBadRequest || oauthError(t, a) != "invalid_grant" {
			t.Errorf("expired code: %d %s", a.status, a.body)
		}
		if resp, err := s.c.Get(o.CredentialOfferURI); err != nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("expired offer served: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}
	})
	t.Run("tx code", func(t *testing.T) {
		req := map[string]any{"credential_configuration_id": api.GenericConfiguration, "claims": claims, "tx_code": "1234"}
		code := s.code(t, s.offer(t, req))
		for _, wrong := range []string{"", "4321"} {
			if a := tok(grant(code, wrong)); a.status != http.StatusBadRequest || oauthError(t, a) != "invalid_grant" {
				t.Errorf("tx_code %q: %d %s", wrong, a.status, a.body)
			}
		}
		if a := tok(grant(code, "1234")); a.status != http.StatusOK {
			t.Errorf("right tx_code after 2 wrong: %d %s", a.status, a.body)
		}
		code = s.code(t, s.offer(t, req))
		for range api.MaxTxCodeAttempts {
			tok(grant(code, "0000"))
		}
		if a := tok(grant(code, "1234")); a.status != http.StatusBadRequest || oauthError(t, a) != "invalid_grant" {
			t.Errorf("right tx_code after the code was burnt: %d %s", a.status, a.body)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		for name, tc := range map[string]struct {
			body, ctype, want string
		}{
			"grant type":    {"grant_type=authorization_code&code=x", "application/x-www-form-urlencoded", "unsupported_grant_type"},
			"no grant type": {"pre-authorized_code=x", "application/x-www-form-urlencoded", "invalid_request"},
			"no code":       {"grant_type=" + url.QueryEscape(api.GrantPreAuthorizedCode), "application/x-www-form-urlencoded", "invalid_request"},
			"repeated":      {"grant_type=" + url.QueryEscape(api.GrantPreAuthorizedCode) + "&pre-authorized_code=a&pre-authorized_code=b", "application/x-www-form-urlencoded", "invalid_request"},
			"json":          {`{"grant_type":"x"}`, "application/json", "invalid_request"},
			"oversized":     {"grant_type=" + strings.Repeat("a", api.MaxTokenRequestBytes), "application/x-www-form-urlencoded", "invalid_request"},
			"unknown code":  {"grant_type=" + url.QueryEscape(api.GrantPreAuthorizedCode) + "&pre-authorized_code=forged", "application/x-www-form-urlencoded", "invalid_grant"},
		} {
			a := post(t, s.c, s.url+"/token", []byte(tc.body), "Content-Type", tc.ctype)
			if a.status != http.StatusBadRequest || oauthError(t, a) != tc.want || a.header.Get("Content-Type") != "application/json" {
				t.Errorf("%s: %d %s %s", name, a.status, a.header.Get("Content-Type"), a.body)
			}
		}
	})
}

// TestOID4VCIOfferRefusals: offers are refused (problem+json) without
// the API token, for unknown issuers and configurations, and for claims
// that are reserved, nested in the generic configuration, oversized, or
// break the schema.
func TestOID4VCIOfferRefusals(t *testing.T) {
	s := newVCIServer(t)
	for name, tc := range map[string]struct {
		path   string
		body   map[string]any
		token  string
		status int
	}{
		"no token":            {"/issuers/uni/offers", map[string]any{"credential_configuration_id": api.GenericConfiguration, "claims": map[string]any{"a": 1}}, "", 401},
		"unknown issuer":      {"/issuers/nobody/offers", map[string]any{"credential_configuration_id": api.GenericConfiguration, "claims": map[string]any{"a": 1}}, sdToken, 404},
		"unknown config":      {"/issuers/uni/offers", map[string]any{"credential_configuration_id": "nope", "claims": map[string]any{"a": 1}}, sdToken, 400},
		"reserved claim":      {"/issuers/uni/offers", map[string]any{"credential_configuration_id": api.GenericConfiguration, "claims": map[string]any{"cnf": 1}}, sdToken, 400},
		"nested generic":      {"/issuers/uni/offers", map[string]any{"credential_configuration_id": api.GenericConfiguration, "claims": map[string]any{"a": map[string]any{}}}, sdToken, 400},
		"schema broken":       {"/issuers/uni/offers", map[string]any{"credential_configuration_id": "university-degree_ldp_vc", "claims": map[string]any{"name": "A"}}, sdToken, 400},
		"oversized":           {"/issuers/uni/offers", map[string]any{"credential_configuration_id": api.GenericConfiguration, "claims": map[string]any{"a": strings.Repeat("x", api.MaxOfferClaimsBytes)}}, sdToken, 400},
		"tx code letters":     {"/issuers/uni/offers", map[string]any{"credential_configuration_id": api.GenericConfiguration, "claims": map[string]any{"a": 1}, "tx_code": "12a"}, sdToken, 400},
		"tx code of 3 digits": {"/issuers/uni/offers", map[string]any{"credential_configuration_id": api.GenericConfiguration, "claims": map[string]any{"a": 1}, "tx_code": "123"}, sdToken, 400},
		"unknown member":      {"/issuers/uni/offers", map[string]any{"credential_configuration_id": api.GenericConfiguration, "claims": map[string]any{"a": 1}, "pin": "1"}, sdToken, 400},
	} {
		b, _ := json.Marshal(tc.body)
		var hdr []string
		if tc.token != "" {
			hdr = []string{"Authorization", "Bearer " + tc.token}
		}
		a := post(t, s.c, s.url+tc.path, b, hdr...)
		if a.status != tc.status || a.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s", name, a.status, a.body)
		}
	}
}

// signJWT signs a JWT with header and claims by k.
func signJWT(t *testing.T, k keys.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	hb, _ := json.Marshal(header)
	cb, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	sig, err := k.Sign([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// TestOID4VCIProofRefusals: the credential endpoint refuses hand-made
// proofs: a wrong or replayed nonce (invalid_nonce, with a fresh
// c_nonce), a wrong audience, a key other than its jwk, alg none, an
// alg that does not match the key, a stale iat, a wrong typ, and
// requests without a valid access token; a refused proof leaves the
// token usable, and an issued credential spends it.
func TestOID4VCIProofRefusals(t *testing.T) {
	s := newVCIServer(t)
	h := s.holder(t, wallet.MethodKey)
	other := s.holder(t, wallet.MethodJWK)
	o := s.offer(t, map[string]any{"credential_configuration_id": api.GenericConfiguration, "claims": map[string]any{"name": "Alice"}})
	tok := s.tokenFor(t, o)
	nonce := func() string {
		a := post(t, s.c, s.url+"/nonce", nil)
		var n struct {
			CNonce string `json:"c_nonce"`
		}
		if a.status != http.StatusOK || json.Unmarshal(a.body, &n) != nil || a.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("nonce: %d %s", a.status, a.body)
		}
		return n.CNonce
	}
	hdr := func() map[string]any {
		return map[string]any{"alg": "EdDSA", "typ": api.ProofTypeJWT, "jwk": h.Key.Public().JWK()}
	}
	cl := func(n string) map[string]any { return map[string]any{"aud": s.url, "iat": sdNow.Unix(), "nonce": n} }
	request := func(token, proof string) answer {
		body := map[string]any{"credential_configuration_id": api.GenericConfiguration, "proofs": map[string]any{"jwt": []string{proof}}}
		b, _ := json.Marshal(body)
		return post(t, s.c, s.url+"/credential", b, "Authorization", "Bearer "+token)
	}
	spent := nonce()
	replayed := signJWT(t, h.Key, hdr(), cl(spent))
	for name, tc := range map[string]struct {
		proof func() string
		want  string
	}{
		"forged nonce": {func() string { return signJWT(t, h.Key, hdr(), cl("forged")) }, "invalid_nonce"},
		"no nonce": {func() string {
			c := cl("")
			delete(c, "nonce")
			return signJWT(t, h.Key, hdr(), c)
		}, "invalid_nonce"},
		"wrong aud": {func() string {
			c := cl(nonce())
			c["aud"] = "https://evil.example"
			return signJWT(t, h.Key, hdr(), c)
		}, "invalid_proof"},
		"key other than jwk": {func() string { return signJWT(t, other.Key, hdr(), cl(nonce())) }, "invalid_proof"},
		"alg none": {func() string {
			hd := hdr()
			hd["alg"] = "none"
			return signJWT(t, h.Key, hd, cl(nonce()))
		}, "invalid_proof"},
		"alg mismatch": {func() string {
			hd := hdr()
			hd["alg"] = "ES256"
			return signJWT(t, h.Key, hd, cl(nonce()))
		}, "invalid_proof"},
		"stale iat": {func() string {
			c := cl(nonce())
			c["iat"] = sdNow.Add(-time.Hour).Unix()
			return signJWT(t, h.Key, hdr(), c)
		}, "invalid_proof"},
		"future iat": {func() string {
			c := cl(nonce())
			c["iat"] = sdNow.Add(time.Hour).Unix()
			return signJWT(t, h.Key, hdr(), c)
		}, "invalid_proof"},
		"wrong typ": {func() string {
			hd := hdr()
			hd["typ"] = "JWT"
			return signJWT(t, h.Key, hd, cl(nonce()))
		}, "invalid_proof"},
		"jwk and kid": {func() string {
			hd := hdr()
			hd["kid"] = h.ID
			return signJWT(t, h.Key, hd, cl(nonce()))
		}, "invalid_proof"},
		"kid of another key": {func() string {
			hd := hdr()
			delete(hd, "jwk")
			hd["kid"] = other.ID
			return signJWT(t, h.Key, hd, cl(nonce()))
		}, "invalid_proof"},
	} {
		a := request(tok, tc.proof())
		if a.status != http.StatusBadRequest || oauthError(t, a) != tc.want {
			t.Errorf("%s: %d %s", name, a.status, a.body)
		}
		if tc.want == "invalid_nonce" && !bytes.Contains(a.body, []byte(`"c_nonce"`)) {
			t.Errorf("%s: no fresh c_nonce: %s", name, a.body)
		}
	}
	// The right proof issues; its nonce and the token are then spent.
	if a := request(tok, replayed); a.status != http.StatusOK {
		t.Fatalf("good proof: %d %s", a.status, a.body)
	}
	if a := request(tok, signJWT(t, h.Key, hdr(), cl(nonce()))); a.status != http.StatusUnauthorized || oauthError(t, a) != "invalid_token" ||
		!strings.Contains(a.header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("token reused: %d %s", a.status, a.body)
	}
	tok2 := s.tokenFor(t, s.offer(t, map[string]any{"credential_configuration_id": api.GenericConfiguration, "claims": map[string]any{"name": "Bob"}}))
	if a := request(tok2, replayed); a.status != http.StatusBadRequest || oauthError(t, a) != "invalid_nonce" {
		t.Errorf("replayed nonce: %d %s", a.status, a.body)
	}
	// A nonce expires.
	n := nonce()
	s.clock.Add(api.DefaultNonceTTL)
	tok2 = s.tokenFor(t, s.offer(t, map[string]any{"credential_configuration_id": api.GenericConfiguration, "claims": map[string]any{"name": "Carol"}}))
	c := cl(n)
	c["iat"] = s.clock.Now().Unix()
	if a := request(tok2, signJWT(t, h.Key, hdr(), c)); a.status != http.StatusBadRequest || oauthError(t, a) != "invalid_nonce" {
		t.Errorf("expired nonce: %d %s", a.status, a.body)
	}
	// Malformed requests.
	for name, body := range map[string]string{
		"other configuration": `{"credential_configuration_id":"university-degree_sd_jwt","proofs":{"jwt":["a.b.c"]}}`,
		"two proofs":          `{"credential_configuration_id":"generic_sd_jwt","proofs":{"jwt":["a.b.c","a.b.c"]}}`,
		"singular proof":      `{"credential_configuration_id":"generic_sd_jwt","proof":{"proof_type":"jwt","jwt":"a.b.c"}}`,
		"repeated member":     `{"credential_configuration_id":"generic_sd_jwt","credential_configuration_id":"generic_sd_jwt","proofs":{"jwt":["a.b.c"]}}`,
		"oversized":           `{"credential_configuration_id":"generic_sd_jwt","proofs":{"jwt":["` + strings.Repeat("a", api.MaxCredentialRequestBytes) + `"]}}`,
	} {
		a := post(t, s.c, s.url+"/credential", []byte(body), "Authorization", "Bearer "+tok2)
		if a.status != http.StatusBadRequest || !strings.HasPrefix(oauthError(t, a), "invalid_credential_request") && oauthError(t, a) != "unknown_credential_configuration" {
			t.Errorf("%s: %d %s", name, a.status, a.body)
		}
	}
	for name, token := range map[string]string{"no token": "", "forged token": "forged"} {
		a := request(token, replayed)
		if a.status != http.StatusUnauthorized || oauthError(t, a) != "invalid_token" {
			t.Errorf("%s: %d %s", name, a.status, a.body)
		}
	}
	// An access token expires.
	s.clock.Add(api.DefaultAccessTokenTTL)
	if a := request(tok2, replayed); a.status != http.StatusUnauthorized {
		t.Errorf("expired token: %d %s", a.status, a.body)
	}
}

// TestOID4VCIWalletRefusals: the wallet reports the issuer's refusals
// as protocol errors with the specification's codes: a wrong
// transaction code and a reused offer.
func TestOID4VCIWalletRefusals(t *testing.T) {
	s := newVCIServer(t)
	h := s.holder(t, wallet.MethodKey)
	o := s.offer(t, map[string]any{"credential_configuration_id": api.GenericConfiguration, "claims": map[string]any{"name": "Alice"}, "tx_code": "2468", "by_value": true})
	_, err := wallet.Receive(t.Context(), o.URI, h, "1357", s.walletOptions())
	var pe *wallet.ProtocolError
	if !errors.As(err, &pe) || pe.Code != "invalid_grant" || pe.Endpoint != "token" {
		t.Fatalf("wrong tx code: %v", err)
	}
	if _, err := wallet.Receive(t.Context(), o.URI, h, "2468", s.walletOptions()); err != nil {
		t.Fatal(err)
	}
	_, err = wallet.Receive(t.Context(), o.URI, h, "2468", s.walletOptions())
	if !errors.As(err, &pe) || pe.Code != "invalid_grant" {
		t.Fatalf("reused offer: %v", err)
	}
}

// TestOID4VCIConcurrentRedeem: of 16 token requests racing with one
// pre-authorized code, exactly one gets an access token (no-store), and
// of 8 credential requests racing with one access token, exactly one
// gets a credential.
func TestOID4VCIConcurrentRedeem(t *testing.T) {
	s := newVCIServer(t)
	o := s.offer(t, map[string]any{"credential_configuration_id": api.GenericConfiguration, "claims": map[string]any{"name": "Alice"}})
	code := s.code(t, o)
	form := url.Values{"grant_type": {api.GrantPreAuthorizedCode}, "pre-authorized_code": {code}}
	answers := make(chan answer, 16)
	for range 16 {
		go func() {
			answers <- post(t, s.c, s.url+"/token", []byte(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
		}()
	}
	var tok string
	for range 16 {
		a := <-answers
		if a.status == http.StatusOK {
			if tok != "" {
				t.Fatal("one code redeemed twice")
			}
			var out struct {
				AccessToken string `json:"access_token"`
			}
			if json.Unmarshal(a.body, &out) != nil || a.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("token answer %s %v", a.body, a.header)
			}
			tok = out.AccessToken
		}
	}
	if tok == "" {
		t.Fatal("no redemption succeeded")
	}
	h := s.holder(t, wallet.MethodKey)
	for range 8 {
		go func() {
			a := post(t, s.c, s.url+"/nonce", nil)
			var n struct {
				CNonce string `json:"c_nonce"`
			}
			_ = json.Unmarshal(a.body, &n)
			p, err := wallet.BuildProof(h, "EdDSA", s.url, n.CNonce, s.clock.Now(), false)
			if err != nil {
				t.Error(err)
			}
			answers <- post(t, s.c, s.url+"/credential", wallet.CredentialRequest(api.GenericConfiguration, []string{p}), "Authorization", "Bearer "+tok)
		}()
	}
	issued := 0
	for range 8 {
		if a := <-answers; a.status == http.StatusOK {
			issued++
		} else if a.status != http.StatusUnauthorized {
			t.Errorf("%d %s", a.status, a.body)
		}
	}
	if issued != 1 {
		t.Errorf("%d credentials for one access token", issued)
	}
}
