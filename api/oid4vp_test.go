package api_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
)

// vpServer is an API server whose issuer "uni" is also the verifier's
// identity (the first live issuer), with a clock the test moves.
type vpServer struct {
	*sdServer
	clock *fakeClock
	did   string
}

func newVPServer(t *testing.T, mutate func(*api.Config)) *vpServer {
	t.Helper()
	clock := &fakeClock{t: sdNow}
	s := newSDServer(t, func(c *api.Config) {
		c.Now = clock.Now
		if mutate != nil {
			mutate(c)
		}
	})
	created := s.issuerNamed(t, "uni")
	return &vpServer{sdServer: s, clock: clock, did: created.DID}
}

// pidQuery asks for the age_over_18 claim of an SD-JWT VC of sdVCT.
func pidQuery() map[string]any {
	return map[string]any{"credentials": []any{map[string]any{"id": "pid", "format": "dc+sd-jwt",
		"meta": map[string]any{"vct_values": []any{sdVCT}}, "claims": []any{map[string]any{"path": []any{"age_over_18"}}}}}}
}

func pidClaims() map[string]any {
	return map[string]any{"vct": sdVCT, "given_name": "Alice", "family_name": "Wonderland", "age_over_18": true}
}

// create makes a presentation request over HTTP.
func (s *vpServer) create(t *testing.T, req map[string]any) api.VPRequestResponse {
	t.Helper()
	b, _ := json.Marshal(req)
	a := post(t, s.c, s.url+api.VerifierRequestsPath, b, "Authorization", "Bearer "+sdToken)
	var out api.VPRequestResponse
	if a.status != http.StatusCreated || json.Unmarshal(a.body, &out) != nil {
		t.Fatalf("create request: %d %s", a.status, a.body)
	}
	return out
}

// vpRequest is what a wallet reads of a request object.
type vpRequest struct {
	header map[string]any
	claims map[string]any
}

func (r vpRequest) str(name string) string { s, _ := r.claims[name].(string); return s }

// fetch GETs and verifies a request object the way a wallet does: typ,
// kid a DID URL of the client_id's DID, the signature by that key.
func (s *vpServer) fetch(t *testing.T, out api.VPRequestResponse) vpRequest {
	t.Helper()
	u, err := url.Parse(out.URI)
	if err != nil || u.Scheme != "openid4vp" || u.Query().Get("request_uri") != out.RequestURI || u.Query().Get("client_id") != "decentralized_identifier:"+s.did {
		t.Fatalf("uri %q", out.URI)
	}
	resp, err := s.c.Get(out.RequestURI)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/oauth-authz-req+jwt" {
		t.Fatalf("request object: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	parts := strings.Split(string(body), ".")
	if len(parts) != 3 {
		t.Fatalf("request object %q", body)
	}
	var r vpRequest
	for i, dst := range []*map[string]any{&r.header, &r.claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(b, dst) != nil {
			t.Fatalf("part %d: %v", i, err)
		}
	}
	iss, _ := s.reg.Find("uni")
	signer, _ := s.reg.Signer(iss)
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	if r.header["typ"] != "oauth-authz-req+jwt" || r.header["kid"] != signer.MethodID() || !strings.HasPrefix(signer.MethodID(), s.did+"#") ||
		!signer.Public().Verify([]byte(parts[0]+"."+parts[1]), sig) {
		t.Fatalf("request object header %v, or its signature does not verify", r.header)
	}
	if r.str("client_id") != "decentralized_identifier:"+s.did || r.str("aud") != "https://self-issued.me/v2" || r.str("response_type") != "vp_token" ||
		!strings.HasPrefix(r.str("response_uri"), s.url+"/verifier/responses/") || len(r.str("nonce")) < 22 || len(r.str("state")) < 22 || r.claims["dcql_query"] == nil {
		t.Fatalf("request object claims %v", r.claims)
	}
	return r
}

// presentSD presents the credential's ptrs to the request r, the KB-JWT
// signed by holder for nonce and aud.
func (s *vpServer) presentSD(t *testing.T, issued string, holder credential.Signer, nonce, aud string, ptrs ...string) string {
	t.Helper()
	p, err := sdjwt.Present(issued, sdjwt.PresentOptions{Disclose: ptrs, Holder: holder, Nonce: nonce, Audience: aud, Now: s.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// respond posts a form to the response URI.
func (s *vpServer) respond(t *testing.T, uri string, form url.Values) answer {
	t.Helper()
	return post(t, s.c, uri, []byte(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
}

func vpTokenForm(id string, pres any, state string) url.Values {
	b, _ := json.Marshal(map[string]any{id: []any{pres}})
	return url.Values{"vp_token": {string(b)}, "state": {state}}
}

// transaction reads a transaction over HTTP.
func (s *vpServer) transaction(t *testing.T, id string) (api.VPTransaction, []byte) {
	t.Helper()
	status, b := s.readTransaction(t, id, "")
	var v api.VPTransaction
	if status != http.StatusOK || json.Unmarshal(b, &v) != nil {
		t.Fatalf("transaction: %d %s", status, b)
	}
	return v, b
}

// readTransaction reads a transaction over HTTP with a response code
// (none when empty) and returns the status and body.
func (s *vpServer) readTransaction(t *testing.T, id, code string) (int, []byte) {
	t.Helper()
	u := s.url + api.VerifierTransactionsPath + id
	if code != "" {
		u += "?response_code=" + url.QueryEscape(code)
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+sdToken)
	resp, err := s.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// oauthError checks a 400 OAuth error answer and returns its description.
func vpOAuthError(t *testing.T, a answer) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
		Desc  string `json:"error_description"`
	}
	if a.status != http.StatusBadRequest || json.Unmarshal(a.body, &e) != nil || e.Error != "invalid_request" || e.Desc == "" {
		t.Fatalf("want an invalid_request error, got %d %s", a.status, a.body)
	}
	return e.Desc
}

// TestVPSDJWTDirectPost: a relying party asks for age_over_18 of an
// SD-JWT VC; the test wallet reads and verifies the signed request
// object, presents only that claim with a KB-JWT for the request's nonce
// and full client_id, and posts it; the transaction is verified and its
// result holds only the disclosed claim (checked on the bytes).
func TestVPSDJWTDirectPost(t *testing.T) {
	s := newVPServer(t, nil)
	issued := MustCompact(t, s.issue(t, "uni", s.request(pidClaims())))
	out := s.create(t, map[string]any{"dcql_query": pidQuery()})
	if v, _ := s.transaction(t, out.TransactionID); v.Status != api.VPPending || len(v.Credentials) != 0 || !v.Expires.Equal(sdNow.Add(5*time.Minute)) {
		t.Fatalf("new transaction %+v", v)
	}
	r := s.fetch(t, out)
	if r.str("response_mode") != "direct_post" || r.claims["client_metadata"].(map[string]any)["vp_formats_supported"] == nil {
		t.Fatalf("claims %v", r.claims)
	}
	pres := s.presentSD(t, issued, s.holder, r.str("nonce"), r.str("client_id"), "/age_over_18")
	if a := s.respond(t, r.str("response_uri"), vpTokenForm("pid", pres, r.str("state"))); a.status != http.StatusOK || strings.TrimSpace(string(a.body)) != "{}" {
		t.Fatalf("response: %d %s", a.status, a.body)
	}
	v, raw := s.transaction(t, out.TransactionID)
	if v.Status != api.VPVerified || len(v.Credentials) != 1 {
		t.Fatalf("transaction %s", raw)
	}
	c := v.Credentials[0]
	if c.ID != "pid" || c.Format != "dc+sd-jwt" || c.Issuer != s.did || c.VCT != sdVCT || c.Claims["age_over_18"] != true || len(c.Claims) != 1 ||
		!strings.HasPrefix(c.Holder, "urn:ietf:params:oauth:jwk-thumbprint:sha-256:") {
		t.Fatalf("credential %s", raw)
	}
	for _, secret := range []string{"Alice", "Wonderland", "given_name", "family_name"} {
		if strings.Contains(string(raw), secret) {
			t.Fatalf("undisclosed %q in the result %s", secret, raw)
		}
	}
	// Answered: the request object is no longer served, and the same
	// vp_token again is a replay.
	if resp, err := s.c.Get(out.RequestURI); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("request object after the answer: %v %v", resp, err)
	}
	if d := vpOAuthError(t, s.respond(t, r.str("response_uri"), vpTokenForm("pid", pres, r.str("state")))); !strings.Contains(d, "already answered") {
		t.Fatalf("replay: %s", d)
	}
	// The same presentation for another request fails the binding: its
	// nonce is the first request's.
	out2 := s.create(t, map[string]any{"dcql_query": pidQuery()})
	r2 := s.fetch(t, out2)
	if d := vpOAuthError(t, s.respond(t, r2.str("response_uri"), vpTokenForm("pid", pres, r2.str("state")))); !strings.Contains(d, "nonce") {
		t.Fatalf("replay on another request: %s", d)
	}
	if v, _ := s.transaction(t, out2.TransactionID); v.Status != api.VPFailed || !strings.Contains(v.Error, "nonce") {
		t.Fatalf("replayed transaction %+v", v)
	}
}

// TestVPRefusals: each refusal is a 400 invalid_request whose description
// names the cause, and the transaction records the failure: wrong nonce,
// wrong audience, a KB-JWT by another key, a revoked credential, a
// presentation without key binding, an unknown credential query id, the
// wallet declining. A wrong state is refused without spending the
// request, which then still takes the right answer.
func TestVPRefusals(t *testing.T) {
	s := newVPServer(t, func(c *api.Config) { c.TokenStatus = &fakeAllocator{} })
	issued := MustCompact(t, s.issue(t, "uni", s.request(pidClaims())))
	other := pidClaims()
	other["vct"] = "https://node.example/vct/other"
	otherVCT := MustCompact(t, s.issue(t, "uni", s.request(other)))
	thiefKey, _ := keys.Generate(keys.Ed25519, rand.NewChaCha8([32]byte{66}))
	thief := credential.KeySigner{Key: thiefKey}
	for _, tc := range []struct {
		name    string
		form    func(r vpRequest) url.Values
		revoked bool
		want    string
	}{
		{"wrong nonce", func(r vpRequest) url.Values {
			return vpTokenForm("pid", s.presentSD(t, issued, s.holder, "another-nonce", r.str("client_id"), "/age_over_18"), r.str("state"))
		}, false, "nonce"},
		{"wrong aud", func(r vpRequest) url.Values {
			return vpTokenForm("pid", s.presentSD(t, issued, s.holder, r.str("nonce"), strings.TrimPrefix(r.str("client_id"), "decentralized_identifier:"), "/age_over_18"), r.str("state"))
		}, false, "aud"},
		{"KB-JWT by another key", func(r vpRequest) url.Values {
			// The holder's presentation with its KB-JWT re-signed by the thief.
			p := s.presentSD(t, issued, s.holder, r.str("nonce"), r.str("client_id"), "/age_over_18")
			i := strings.LastIndexByte(p, '~')
			payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(p[i+1:], ".")[1])
			kb, err := jose.SignCompact(payload, "kb+jwt", "", thief, "")
			if err != nil {
				t.Fatal(err)
			}
			return vpTokenForm("pid", p[:i+1]+kb, r.str("state"))
		}, false, "proof"},
		{"no key binding", func(r vpRequest) url.Values {
			p, _ := sdjwt.Present(issued, sdjwt.PresentOptions{Disclose: []string{"/age_over_18"}})
			return vpTokenForm("pid", p, r.str("state"))
		}, false, "key-binding"},
		{"revoked", func(r vpRequest) url.Values {
			return vpTokenForm("pid", s.presentSD(t, issued, s.holder, r.str("nonce"), r.str("client_id"), "/age_over_18"), r.str("state"))
		}, true, "status"},
		{"unknown query id", func(r vpRequest) url.Values {
			return vpTokenForm("other", s.presentSD(t, issued, s.holder, r.str("nonce"), r.str("client_id"), "/age_over_18"), r.str("state"))
		}, false, "does not make"},
		{"missing claim", func(r vpRequest) url.Values {
			return vpTokenForm("pid", s.presentSD(t, issued, s.holder, r.str("nonce"), r.str("client_id"), "/given_name"), r.str("state"))
		}, false, "not satisfied"},
		{"wrong vct", func(r vpRequest) url.Values {
			return vpTokenForm("pid", s.presentSD(t, otherVCT, s.holder, r.str("nonce"), r.str("client_id"), "/age_over_18"), r.str("state"))
		}, false, "vct"},
		{"two presentations without multiple", func(r vpRequest) url.Values {
			p := s.presentSD(t, issued, s.holder, r.str("nonce"), r.str("client_id"), "/age_over_18")
			b, _ := json.Marshal(map[string]any{"pid": []any{p, p}})
			return url.Values{"vp_token": {string(b)}, "state": {r.str("state")}}
		}, false, "multiple"},
		{"SD-JWT given as an object", func(r vpRequest) url.Values {
			return vpTokenForm("pid", map[string]any{"vp": "x"}, r.str("state"))
		}, false, "string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.revoked {
				s.v.TokenStatus = fakeChecker{1}
				defer func() { s.v.TokenStatus = nil }()
			}
			out := s.create(t, map[string]any{"dcql_query": pidQuery()})
			r := s.fetch(t, out)
			if d := vpOAuthError(t, s.respond(t, r.str("response_uri"), tc.form(r))); !strings.Contains(strings.ToLower(d), tc.want) {
				t.Fatalf("description %q lacks %q", d, tc.want)
			}
			if v, raw := s.transaction(t, out.TransactionID); v.Status != api.VPFailed || v.Error == "" || len(v.Credentials) != 0 {
				t.Fatalf("transaction %s", raw)
			}
		})
	}
	t.Run("wrong state", func(t *testing.T) {
		out := s.create(t, map[string]any{"dcql_query": pidQuery()})
		r := s.fetch(t, out)
		pres := s.presentSD(t, issued, s.holder, r.str("nonce"), r.str("client_id"), "/age_over_18")
		for _, state := range []string{"", "forged", r.str("state") + "x"} {
			if d := vpOAuthError(t, s.respond(t, r.str("response_uri"), vpTokenForm("pid", pres, state))); !strings.Contains(d, "state") {
				t.Fatalf("state %q: %s", state, d)
			}
		}
		if v, _ := s.transaction(t, out.TransactionID); v.Status != api.VPPending {
			t.Fatalf("a wrong state spent the request: %+v", v)
		}
		if a := s.respond(t, r.str("response_uri"), vpTokenForm("pid", pres, r.str("state"))); a.status != http.StatusOK {
			t.Fatalf("right state after wrong ones: %d %s", a.status, a.body)
		}
	})
	t.Run("declined", func(t *testing.T) {
		out := s.create(t, map[string]any{"dcql_query": pidQuery()})
		r := s.fetch(t, out)
		a := s.respond(t, r.str("response_uri"), url.Values{"error": {"access_denied"}, "error_description": {"the user said no"}, "state": {r.str("state")}})
		if a.status != http.StatusOK {
			t.Fatalf("declined: %d %s", a.status, a.body)
		}
		if v, _ := s.transaction(t, out.TransactionID); v.Status != api.VPFailed || !strings.Contains(v.Error, "access_denied: the user said no") {
			t.Fatalf("declined transaction %+v", v)
		}
	})
}

// TestVPExpiryAndUnknown: an expired request is not served, its answer
// is refused and its transaction reads expired; unknown transactions and
// requests are 404 problems, an answer to one a 400.
func TestVPExpiryAndUnknown(t *testing.T) {
	s := newVPServer(t, nil)
	issued := MustCompact(t, s.issue(t, "uni", s.request(pidClaims())))
	out := s.create(t, map[string]any{"dcql_query": pidQuery()})
	r := s.fetch(t, out)
	pres := s.presentSD(t, issued, s.holder, r.str("nonce"), r.str("client_id"), "/age_over_18")
	s.clock.Add(5 * time.Minute)
	if resp, err := s.c.Get(out.RequestURI); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("expired request object: %v %v", resp, err)
	}
	if d := vpOAuthError(t, s.respond(t, r.str("response_uri"), vpTokenForm("pid", pres, r.str("state")))); !strings.Contains(d, "expired") {
		t.Fatalf("expired: %s", d)
	}
	if v, _ := s.transaction(t, out.TransactionID); v.Status != api.VPExpired {
		t.Fatalf("expired transaction %+v", v)
	}
	// Forgotten once its result time passed.
	s.clock.Add(api.DefaultVPResultTTL)
	req, _ := http.NewRequest(http.MethodGet, s.url+api.VerifierTransactionsPath+out.TransactionID, nil)
	req.Header.Set("Authorization", "Bearer "+sdToken)
	if resp, err := s.c.Do(req); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("forgotten transaction: %v %v", resp, err)
	}
	if resp, err := s.c.Get(s.url + api.VerifierRequestObjectsPath + "nope"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown request object: %v %v", resp, err)
	}
	if d := vpOAuthError(t, s.respond(t, s.url+api.VerifierResponsesPath+"nope", vpTokenForm("pid", pres, "s"))); !strings.Contains(d, "unknown") {
		t.Fatalf("unknown request: %s", d)
	}
	// The transaction endpoint needs the API token.
	if resp, err := s.c.Get(s.url + api.VerifierTransactionsPath + out.TransactionID); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("transaction without token: %v %v", resp, err)
	}
}

// TestVPCreateRefusals: creating a request needs the API token and a
// valid body: a DCQL query that parses, a known response mode, an https
// (or loopback http) webhook, no unknown member, within the byte bound.
func TestVPCreateRefusals(t *testing.T) {
	s := newVPServer(t, nil)
	problemOf(t, post(t, s.c, s.url+api.VerifierRequestsPath, []byte(`{"dcql_query":{}}`)), http.StatusUnauthorized)
	for name, tc := range map[string]struct {
		body   string
		status int
		typ    string
	}{
		"not JSON":              {`{`, http.StatusBadRequest, api.ProblemInvalidJSON},
		"no query":              {`{}`, http.StatusBadRequest, api.ProblemInvalidParameter},
		"invalid query":         {`{"dcql_query":{"credentials":[]}}`, http.StatusBadRequest, api.ProblemInvalidDCQL},
		"unknown member":        {`{"dcql_query":{},"nope":1}`, http.StatusBadRequest, api.ProblemInvalidParameter},
		"response mode":         {`{"dcql_query":{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["x"]}}]},"response_mode":"fragment"}`, http.StatusBadRequest, api.ProblemInvalidParameter},
		"http webhook":          {`{"dcql_query":{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["x"]}}]},"webhook":"http://rp.example/hook"}`, http.StatusBadRequest, api.ProblemInvalidParameter},
		"webhook userinfo":      {`{"dcql_query":{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["x"]}}]},"webhook":"https://u:p@rp.example/hook"}`, http.StatusBadRequest, api.ProblemInvalidParameter},
		"http redirect":         {`{"dcql_query":{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["x"]}}]},"redirect_uri":"http://rp.example/done"}`, http.StatusBadRequest, api.ProblemInvalidParameter},
		"redirect fragment":     {`{"dcql_query":{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["x"]}}]},"redirect_uri":"https://rp.example/done#x"}`, http.StatusBadRequest, api.ProblemInvalidParameter},
		"relative redirect":     {`{"dcql_query":{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["x"]}}]},"redirect_uri":"/done"}`, http.StatusBadRequest, api.ProblemInvalidParameter},
		"redirect not a string": {`{"dcql_query":{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["x"]}}]},"redirect_uri":1}`, http.StatusBadRequest, api.ProblemInvalidParameter},
		"long redirect":         {`{"dcql_query":{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["x"]}}]},"redirect_uri":"https://rp.example/` + strings.Repeat("a", api.MaxWebhookURLBytes) + `"}`, http.StatusBadRequest, api.ProblemInvalidParameter},
		"redirect and webhook":  {`{"dcql_query":{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["x"]}}]},"redirect_uri":"https://rp.example/done","webhook":"https://rp.example/hook"}`, http.StatusBadRequest, api.ProblemInvalidParameter},
		"oversized":             {`{"dcql_query":{"x":"` + strings.Repeat("a", api.MaxVPRequestBytes) + `"}}`, http.StatusRequestEntityTooLarge, api.ProblemBodyTooLarge},
	} {
		p := problemOf(t, post(t, s.c, s.url+api.VerifierRequestsPath, []byte(tc.body), "Authorization", "Bearer "+sdToken), tc.status)
		if p.Type != tc.typ {
			t.Errorf("%s: %+v", name, p)
		}
	}
}

// TestVPNoIdentity: a node without a live issuer has no verifier DID: 409
// no-verifier-identity, saying how to get one.
func TestVPNoIdentity(t *testing.T) {
	s := newSDServer(t, nil)
	b, _ := json.Marshal(map[string]any{"dcql_query": pidQuery()})
	p := problemOf(t, post(t, s.c, s.url+api.VerifierRequestsPath, b, "Authorization", "Bearer "+sdToken), http.StatusConflict)
	if p.Type != api.ProblemNoVerifierIdentity || !strings.Contains(p.Detail, "--verifier-did") {
		t.Fatalf("%+v", p)
	}
}

// TestVPOversizedResponse: a response body over the server's bound is
// refused (413) and spends nothing.
func TestVPOversizedResponse(t *testing.T) {
	s := newVPServer(t, func(c *api.Config) { c.MaxBodyBytes = 16 << 10 })
	out := s.create(t, map[string]any{"dcql_query": pidQuery()})
	r := s.fetch(t, out)
	form := vpTokenForm("pid", strings.Repeat("a", 20<<10), r.str("state"))
	if a := s.respond(t, r.str("response_uri"), form); a.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized: %d %s", a.status, a.body)
	}
	if v, _ := s.transaction(t, out.TransactionID); v.Status != api.VPPending {
		t.Fatalf("transaction %+v", v)
	}
}

// encryptTo encrypts payload to the request's client_metadata.jwks key
// with alg and enc.
func encryptTo(t *testing.T, r vpRequest, payload []byte, alg jwa.KeyEncryptionAlgorithm, key any) string {
	t.Helper()
	hdr := jwe.NewHeaders()
	if jwks, ok := r.claims["client_metadata"].(map[string]any)["jwks"].(map[string]any); ok {
		_ = hdr.Set("kid", jwks["keys"].([]any)[0].(map[string]any)["kid"])
	}
	out, err := jwe.Encrypt(payload, jwe.WithKey(alg, key), jwe.WithContentEncryption(jwa.A128GCM()), jwe.WithProtectedHeaders(hdr))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// requestKey is the P-256 public key of the request's jwks.
func requestKey(t *testing.T, r vpRequest) *ecdsa.PublicKey {
	t.Helper()
	meta := r.claims["client_metadata"].(map[string]any)
	if encs, _ := meta["encrypted_response_enc_values_supported"].([]any); len(encs) == 0 || encs[0] != "A128GCM" {
		t.Fatalf("client_metadata %v", meta)
	}
	k := meta["jwks"].(map[string]any)["keys"].([]any)[0].(map[string]any)
	if k["kty"] != "EC" || k["crv"] != "P-256" || k["alg"] != "ECDH-ES" || k["use"] != "enc" {
		t.Fatalf("jwk %v", k)
	}
	x, _ := base64.RawURLEncoding.DecodeString(k["x"].(string))
	y, _ := base64.RawURLEncoding.DecodeString(k["y"].(string))
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatalf("jwk %v: %v", k, err)
	}
	return pub
}

// TestVPDirectPostJWT: with direct_post.jwt the request carries a fresh
// P-256 key; a response encrypted to it (ECDH-ES, A128GCM) verifies;
// alg dir, another key, and a plain vp_token are refused.
func TestVPDirectPostJWT(t *testing.T) {
	s := newVPServer(t, nil)
	issued := MustCompact(t, s.issue(t, "uni", s.request(pidClaims())))
	mk := func() (api.VPRequestResponse, vpRequest, []byte) {
		out := s.create(t, map[string]any{"dcql_query": pidQuery(), "response_mode": "direct_post.jwt"})
		r := s.fetch(t, out)
		pres := s.presentSD(t, issued, s.holder, r.str("nonce"), r.str("client_id"), "/age_over_18")
		payload, _ := json.Marshal(map[string]any{"vp_token": map[string]any{"pid": []any{pres}}, "state": r.str("state")})
		return out, r, payload
	}
	out, r, payload := mk()
	if r.str("response_mode") != "direct_post.jwt" {
		t.Fatalf("response_mode %q", r.str("response_mode"))
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.NewChaCha8([32]byte{3}))
	for name, form := range map[string]url.Values{
		"alg dir":   {"response": {encryptTo(t, r, payload, jwa.DIRECT(), make([]byte, 16))}},
		"other key": {"response": {encryptTo(t, r, payload, jwa.ECDH_ES(), &other.PublicKey)}},
		"plain":     vpTokenForm("pid", "x~", r.str("state")),
		"not a JWE": {"response": {"a.b.c"}},
	} {
		if d := vpOAuthError(t, s.respond(t, r.str("response_uri"), form)); d == "" {
			t.Errorf("%s: accepted", name)
		}
	}
	if a := s.respond(t, r.str("response_uri"), url.Values{"response": {encryptTo(t, r, payload, jwa.ECDH_ES(), requestKey(t, r))}}); a.status != http.StatusOK {
		t.Fatalf("encrypted response: %d %s", a.status, a.body)
	}
	if v, raw := s.transaction(t, out.TransactionID); v.Status != api.VPVerified || v.Credentials[0].Claims["age_over_18"] != true || strings.Contains(string(raw), "Alice") {
		t.Fatalf("transaction %s", raw)
	}
	// A wallet that declines may answer a direct_post.jwt request in the
	// clear.
	out3, r3, _ := mk()
	if a := s.respond(t, r3.str("response_uri"), url.Values{"error": {"access_denied"}, "state": {r3.str("state")}}); a.status != http.StatusOK {
		t.Fatalf("clear error on direct_post.jwt: %d %s", a.status, a.body)
	}
	if v, _ := s.transaction(t, out3.TransactionID); v.Status != api.VPFailed || !strings.Contains(v.Error, "access_denied") {
		t.Fatalf("declined transaction %+v", v)
	}
	// A JWE on a direct_post request is refused.
	out2 := s.create(t, map[string]any{"dcql_query": pidQuery()})
	r2 := s.fetch(t, out2)
	if d := vpOAuthError(t, s.respond(t, r2.str("response_uri"), url.Values{"response": {"a.b.c.d.e"}})); !strings.Contains(d, "direct_post") {
		t.Fatalf("JWE on direct_post: %s", d)
	}
}

// TestVPLDPVC: an ldp_vc presentation signed by the holder with the
// request's nonce as challenge and client_id as domain verifies, and its
// result carries the credential's subject claims; with another domain it
// is refused.
func TestVPLDPVC(t *testing.T) {
	s := newVPServer(t, nil)
	hk, _ := keys.Generate(keys.Ed25519, rand.NewChaCha8([32]byte{21}))
	holderDID := key.New(hk.Public())
	holder := credential.KeySigner{ID: holderDID + "#" + hk.Public().Multibase(), Key: hk}
	s.keys.Add(credential.VerificationKey{ID: holder.ID, Controller: holderDID, Public: hk.Public()}, credential.PurposeAuthentication)
	b, _ := json.Marshal(map[string]any{"credential": map[string]any{"@context": []any{credential.ContextV2}, "type": []any{"VerifiableCredential"},
		"credentialSubject": map[string]any{"id": holderDID, "name": "Alice"}}})
	a := post(t, s.c, s.url+"/issuers/uni/eddsa-jcs-2022/credentials/issue", b, "Authorization", "Bearer "+sdToken)
	var issued struct {
		VC map[string]any `json:"verifiableCredential"`
	}
	if a.status != http.StatusCreated || json.Unmarshal(a.body, &issued) != nil {
		t.Fatalf("issue: %d %s", a.status, a.body)
	}
	query := map[string]any{"credentials": []any{map[string]any{"id": "deg", "format": "ldp_vc",
		"meta": map[string]any{"type_values": []any{[]any{"VerifiableCredential"}}}, "claims": []any{map[string]any{"path": []any{"credentialSubject", "name"}}}}}}
	for _, domain := range []string{"wrong", ""} {
		out := s.create(t, map[string]any{"dcql_query": query})
		r := s.fetch(t, out)
		if domain == "" {
			domain = r.str("client_id")
		}
		vp, err := dataintegrity.Sign(t.Context(), map[string]any{"@context": []any{credential.ContextV2}, "type": []any{"VerifiablePresentation"},
			"holder": holderDID, "verifiableCredential": []any{issued.VC}}, holder,
			dataintegrity.SignOptions{Cryptosuite: dataintegrity.CryptosuiteJCS, ProofPurpose: credential.PurposeAuthentication, Challenge: r.str("nonce"), Domain: domain, Created: s.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		a := s.respond(t, r.str("response_uri"), vpTokenForm("deg", vp, r.str("state")))
		if domain == "wrong" {
			vpOAuthError(t, a)
			continue
		}
		if a.status != http.StatusOK {
			t.Fatalf("ldp_vc response: %d %s", a.status, a.body)
		}
		v, raw := s.transaction(t, out.TransactionID)
		if v.Status != api.VPVerified || v.Credentials[0].Format != "ldp_vc" || v.Credentials[0].Claims["name"] != "Alice" || v.Credentials[0].Holder != holderDID {
			t.Fatalf("transaction %s", raw)
		}
	}
}

// TestVPWebhook: a completed transaction is posted to the webhook
// (loopback http in tests), signed with the secret given at creation.
func TestVPWebhook(t *testing.T) {
	s := newVPServer(t, nil)
	got := make(chan *http.Request, 1)
	bodies := make(chan []byte, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- b
	}))
	t.Cleanup(hook.Close)
	issued := MustCompact(t, s.issue(t, "uni", s.request(pidClaims())))
	out := s.create(t, map[string]any{"dcql_query": pidQuery(), "webhook": hook.URL + "/done"})
	if len(out.WebhookSecret) < 40 {
		t.Fatalf("webhook secret %q", out.WebhookSecret)
	}
	r := s.fetch(t, out)
	pres := s.presentSD(t, issued, s.holder, r.str("nonce"), r.str("client_id"), "/age_over_18")
	if a := s.respond(t, r.str("response_uri"), vpTokenForm("pid", pres, r.str("state"))); a.status != http.StatusOK {
		t.Fatalf("response: %d %s", a.status, a.body)
	}
	req, body := <-got, <-bodies
	key, _ := base64.RawURLEncoding.DecodeString(out.WebhookSecret)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(req.Header.Get(api.WebhookTimestampHeader) + "."))
	mac.Write(body)
	if req.URL.Path != "/done" || req.Header.Get(api.WebhookSignatureHeader) != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		t.Fatalf("webhook %s %q", req.URL.Path, req.Header.Get(api.WebhookSignatureHeader))
	}
	var v api.VPTransaction
	if json.Unmarshal(body, &v) != nil || v.TransactionID != out.TransactionID || v.Status != api.VPVerified || v.Credentials[0].Claims["age_over_18"] != true {
		t.Fatalf("webhook body %s", body)
	}
}

// TestVPJWTVCJSON: a jwt_vc_json presentation (a VP JWT by the holder,
// aud the client_id, nonce the request's, holding one jwt_vc_json
// credential about the holder) verifies; another audience, another
// nonce, a VP signed by someone else than its iss, and a credential about
// someone else are refused.
func TestVPJWTVCJSON(t *testing.T) {
	s := newVPServer(t, nil)
	hk, _ := keys.Generate(keys.Ed25519, rand.NewChaCha8([32]byte{31}))
	holderDID := key.New(hk.Public())
	holder := credential.KeySigner{ID: holderDID + "#" + hk.Public().Multibase(), Key: hk}
	s.keys.Add(credential.VerificationKey{ID: holder.ID, Controller: holderDID, Public: hk.Public()}, credential.PurposeAuthentication)
	iss, _ := s.reg.Find("uni")
	signer, _ := s.reg.Signer(iss)
	vcFor := func(subject string) string {
		cred := alumniV1(s.did, "2026-01-01T00:00:00Z", "2030-01-01T00:00:00Z")
		cred["credentialSubject"] = map[string]any{"id": subject, "alumniOf": "The School of Examples"}
		vc, err := jose.SignJWTVC(cred, signer, jose.SignOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return vc
	}
	query := map[string]any{"credentials": []any{map[string]any{"id": "alumni", "format": "jwt_vc_json",
		"meta": map[string]any{"type_values": []any{[]any{"ExampleAlumniCredential"}}}, "claims": []any{map[string]any{"path": []any{"credentialSubject", "alumniOf"}}}}}}
	vpJWT := func(r vpRequest, by credential.KeySigner, aud, nonce, vc string) string {
		b, _ := json.Marshal(map[string]any{"iss": holderDID, "aud": aud, "nonce": nonce, "iat": s.clock.Now().Unix(),
			"vp": map[string]any{"@context": []any{credential.ContextV1}, "type": []any{"VerifiablePresentation"}, "verifiableCredential": []any{vc}}})
		tok, err := jose.SignCompact(b, "JWT", by.ID, by, "")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tk, _ := keys.Generate(keys.Ed25519, rand.NewChaCha8([32]byte{32}))
	thief := credential.KeySigner{ID: holder.ID, Key: tk}
	for _, tc := range []struct {
		name string
		make func(r vpRequest) string
		want string
	}{
		{"another audience", func(r vpRequest) string {
			return vpJWT(r, holder, "https://rp.example", r.str("nonce"), vcFor(holderDID))
		}, "aud"},
		{"another nonce", func(r vpRequest) string { return vpJWT(r, holder, r.str("client_id"), "n", vcFor(holderDID)) }, "nonce"},
		{"forged signature", func(r vpRequest) string { return vpJWT(r, thief, r.str("client_id"), r.str("nonce"), vcFor(holderDID)) }, "signature"},
		{"someone else's credential", func(r vpRequest) string {
			return vpJWT(r, holder, r.str("client_id"), r.str("nonce"), vcFor("did:example:someone-else"))
		}, "holder binding"},
		{"ok", func(r vpRequest) string {
			return vpJWT(r, holder, r.str("client_id"), r.str("nonce"), vcFor(holderDID))
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := s.create(t, map[string]any{"dcql_query": query})
			r := s.fetch(t, out)
			a := s.respond(t, r.str("response_uri"), vpTokenForm("alumni", tc.make(r), r.str("state")))
			if tc.want != "" {
				if d := vpOAuthError(t, a); !strings.Contains(strings.ToLower(d), tc.want) {
					t.Fatalf("description %q lacks %q", d, tc.want)
				}
				return
			}
			if a.status != http.StatusOK {
				t.Fatalf("response: %d %s", a.status, a.body)
			}
			v, raw := s.transaction(t, out.TransactionID)
			if v.Status != api.VPVerified || v.Credentials[0].Format != "jwt_vc_json" || v.Credentials[0].Claims["alumniOf"] != "The School of Examples" ||
				v.Credentials[0].Holder != holderDID || v.Credentials[0].Issuer != s.did {
				t.Fatalf("transaction %s", raw)
			}
		})
	}
}

// TestVPConcurrentAnswers: the same valid response posted many times at
// once is accepted once; every other copy is refused as answered.
func TestVPConcurrentAnswers(t *testing.T) {
	s := newVPServer(t, nil)
	issued := MustCompact(t, s.issue(t, "uni", s.request(pidClaims())))
	out := s.create(t, map[string]any{"dcql_query": pidQuery()})
	r := s.fetch(t, out)
	form := vpTokenForm("pid", s.presentSD(t, issued, s.holder, r.str("nonce"), r.str("client_id"), "/age_over_18"), r.str("state"))
	const n = 8
	codes := make(chan int, n)
	for range n {
		go func() {
			req, _ := http.NewRequest(http.MethodPost, r.str("response_uri"), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Bearer "+sdToken) // exempt from the rate limit
			resp, err := s.c.Do(req)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	ok := 0
	for range n {
		switch c := <-codes; c {
		case http.StatusOK:
			ok++
		case http.StatusBadRequest:
		default:
			t.Errorf("status %d", c)
		}
	}
	if ok != 1 {
		t.Fatalf("%d answers accepted, want 1", ok)
	}
	if v, _ := s.transaction(t, out.TransactionID); v.Status != api.VPVerified {
		t.Fatalf("transaction %+v", v)
	}
}

// TestVPStoreBound: requests are bounded in bytes, not entries: past the
// bound creation is refused with 503 and Retry-After until expired
// transactions can be swept.
func TestVPStoreBound(t *testing.T) {
	s := newVPServer(t, func(c *api.Config) { c.VerifierStoreBytes = 16 << 10 })
	b, _ := json.Marshal(map[string]any{"dcql_query": pidQuery()})
	full := false
	for range 64 {
		a := post(t, s.c, s.url+api.VerifierRequestsPath, b, "Authorization", "Bearer "+sdToken)
		if a.status == http.StatusServiceUnavailable {
			if p := problemOf(t, a, http.StatusServiceUnavailable); p.Type != api.ProblemUnavailable || a.header.Get("Retry-After") == "" {
				t.Fatalf("full: %+v", p)
			}
			full = true
			break
		}
		if a.status != http.StatusCreated {
			t.Fatalf("create: %d %s", a.status, a.body)
		}
	}
	if !full {
		t.Fatal("64 requests fit in 16 KiB")
	}
	// Once the requests and their results' time passed, room is made.
	s.clock.Add(api.DefaultVPRequestTTL + api.DefaultVPResultTTL)
	s.create(t, map[string]any{"dcql_query": pidQuery()})
}

// TestVPVerifierDID: Config.VerifierDID picks the verifier's identity
// among the node's issuers (by name); one the node does not keep is a
// 409 naming it.
func TestVPVerifierDID(t *testing.T) {
	for _, tc := range []struct {
		name, verifier string
		status         int
	}{{"by name", "second", http.StatusCreated}, {"unknown", "nobody", http.StatusConflict}} {
		t.Run(tc.name, func(t *testing.T) {
			s := newVPServer(t, func(c *api.Config) { c.VerifierDID = tc.verifier })
			second := s.issuerNamed(t, "second")
			b, _ := json.Marshal(map[string]any{"dcql_query": pidQuery()})
			a := post(t, s.c, s.url+api.VerifierRequestsPath, b, "Authorization", "Bearer "+sdToken)
			if a.status != tc.status {
				t.Fatalf("create: %d %s", a.status, a.body)
			}
			if tc.status != http.StatusCreated {
				if p := problemOf(t, a, tc.status); p.Type != api.ProblemNoVerifierIdentity || !strings.Contains(p.Detail, "nobody") {
					t.Fatalf("%+v", p)
				}
				return
			}
			var out api.VPRequestResponse
			_ = json.Unmarshal(a.body, &out)
			if !strings.Contains(out.URI, url.QueryEscape("decentralized_identifier:"+second.DID)) {
				t.Fatalf("uri %s, want the DID of %s", out.URI, second.DID)
			}
		})
	}
}

// TestVPWebhookRetry: a webhook that fails is called again (after the
// first backoff) with the same signed body, and a failed transaction is
// delivered too.
func TestVPWebhookRetry(t *testing.T) {
	s := newVPServer(t, nil)
	calls := make(chan []byte, 4)
	n := 0
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		n++
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
		}
		calls <- b
	}))
	t.Cleanup(hook.Close)
	out := s.create(t, map[string]any{"dcql_query": pidQuery(), "webhook": hook.URL})
	r := s.fetch(t, out)
	if a := s.respond(t, r.str("response_uri"), url.Values{"error": {"access_denied"}, "state": {r.str("state")}}); a.status != http.StatusOK {
		t.Fatalf("declined: %d %s", a.status, a.body)
	}
	first, second := <-calls, <-calls
	var v api.VPTransaction
	if string(first) != string(second) || json.Unmarshal(second, &v) != nil || v.Status != api.VPFailed || v.TransactionID != out.TransactionID {
		t.Fatalf("webhook calls %s / %s", first, second)
	}
}

// TestVPRedirectResponseCode: a request made with a redirect_uri sends
// the wallet back there after its answer (OpenID4VP section 8.2) with a
// fresh response code in the fragment, whatever the outcome (verified,
// refused, declined); the result is read only with that code (403
// response-code without it or with another, another transaction's
// included, also after the request's answer window), while a pending
// transaction reads as before. The code is none of the values the
// request object gave out (state, nonce, its reference). A request
// without redirect_uri answers {} and needs no code.
func TestVPRedirectResponseCode(t *testing.T) {
	s := newVPServer(t, nil)
	issued := MustCompact(t, s.issue(t, "uni", s.request(pidClaims())))
	const front = "https://rp.example/done?session=1"
	var last vpRequest
	present := func(out api.VPRequestResponse) answer {
		last = s.fetch(t, out)
		pres := s.presentSD(t, issued, s.holder, last.str("nonce"), last.str("client_id"), "/age_over_18")
		return s.respond(t, last.str("response_uri"), vpTokenForm("pid", pres, last.str("state")))
	}
	read := func(id, code string) (int, []byte) { return s.readTransaction(t, id, code) }
	codeOf := func(a answer) string {
		t.Helper()
		var m map[string]string
		if a.status != http.StatusOK || json.Unmarshal(a.body, &m) != nil || len(m) != 1 || !strings.HasPrefix(m["redirect_uri"], front+"#response_code=") {
			t.Fatalf("response answer: %d %s", a.status, a.body)
		}
		code := strings.TrimPrefix(m["redirect_uri"], front+"#response_code=")
		if len(code) < 43 {
			t.Fatalf("response code %q: want 256 random bits", code)
		}
		return code
	}
	refused := func(id, code string) {
		t.Helper()
		status, b := read(id, code)
		var p api.Problem
		if status != http.StatusForbidden || json.Unmarshal(b, &p) != nil || p.Type != api.ProblemResponseCode ||
			strings.Contains(string(b), "age_over_18") || strings.Contains(string(b), `"status":"`) || strings.Contains(string(b), "untrusted") {
			t.Fatalf("read with code %q: %d %s", code, status, b)
		}
	}
	readWith := func(id, code string) api.VPTransaction {
		t.Helper()
		status, b := read(id, code)
		var v api.VPTransaction
		if status != http.StatusOK || json.Unmarshal(b, &v) != nil {
			t.Fatalf("read with the code: %d %s", status, b)
		}
		return v
	}

	out := s.create(t, map[string]any{"dcql_query": pidQuery(), "redirect_uri": front})
	if v, _ := s.transaction(t, out.TransactionID); v.Status != api.VPPending {
		t.Fatalf("pending transaction %+v", v)
	}
	code := codeOf(present(out))
	for _, given := range []string{last.str("state"), last.str("nonce"), strings.TrimPrefix(out.RequestURI, s.url+api.VerifierRequestObjectsPath), out.TransactionID} {
		if given == code {
			t.Fatalf("the response code is a value the request gave out: %q", code)
		}
	}
	for _, wrong := range []string{"", code[:len(code)-1], code + "A", strings.ToUpper(code), last.str("state")} {
		if wrong != code {
			refused(out.TransactionID, wrong)
		}
	}
	if v := readWith(out.TransactionID, code); v.Status != api.VPVerified || v.Credentials[0].Claims["age_over_18"] != true {
		t.Fatalf("verified result %+v", v)
	}
	// A second transaction's code is its own.
	out2 := s.create(t, map[string]any{"dcql_query": pidQuery(), "redirect_uri": front})
	code2 := codeOf(present(out2))
	if code2 == code {
		t.Fatal("two transactions got the same response code")
	}
	refused(out2.TransactionID, code)
	// A presentation the verifier refuses (an issuer the request does not
	// trust) sends the wallet back with a code all the same; its failure,
	// which names the issuer, reads only with the code.
	out5 := s.create(t, map[string]any{"dcql_query": pidQuery(), "redirect_uri": front, "trusted_issuers": []string{"did:example:other"}})
	code5 := codeOf(present(out5))
	refused(out5.TransactionID, "")
	if v := readWith(out5.TransactionID, code5); v.Status != api.VPFailed || !strings.Contains(v.Error, "untrusted issuer") {
		t.Fatalf("refused presentation %+v", v)
	}
	// A declined request: the same.
	out3 := s.create(t, map[string]any{"dcql_query": pidQuery(), "redirect_uri": front})
	r3 := s.fetch(t, out3)
	code3 := codeOf(s.respond(t, r3.str("response_uri"), url.Values{"error": {"access_denied"}, "state": {r3.str("state")}}))
	refused(out3.TransactionID, "")
	if v := readWith(out3.TransactionID, code3); v.Status != api.VPFailed || !strings.Contains(v.Error, "access_denied") {
		t.Fatalf("declined transaction %+v", v)
	}
	// Without redirect_uri: {} and the result reads without a code.
	out4 := s.create(t, map[string]any{"dcql_query": pidQuery()})
	if a := present(out4); a.status != http.StatusOK || strings.TrimSpace(string(a.body)) != "{}" {
		t.Fatalf("answer without redirect_uri: %d %s", a.status, a.body)
	}
	if v, _ := s.transaction(t, out4.TransactionID); v.Status != api.VPVerified {
		t.Fatalf("transaction without redirect_uri %+v", v)
	}
	// Past the request's answer window (results stay 10 minutes): still
	// only with the code.
	s.clock.Add(6 * time.Minute)
	refused(out.TransactionID, "")
	if v := readWith(out.TransactionID, code); v.Status != api.VPVerified {
		t.Fatalf("verified result after the window %+v", v)
	}
}
