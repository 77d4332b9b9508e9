package wallet_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/wallet"
)

// fakeIssuer is a minimal OpenID4VCI 1.0 Credential Issuer and
// Authorization Server, for these tests only: issuer metadata, AS
// metadata, an offer by reference, the token endpoint (pre-authorized
// code, single use, optional transaction code), the nonce endpoint
// (single-use nonces) and the credential endpoint, which checks the
// proof JWT (typ, alg, jwk, signature, aud, iat, nonce) and issues an
// SD-JWT VC bound to the proof's key.
type fakeIssuer struct {
	t   *testing.T
	srv *httptest.Server
	iss issuerKey

	mu      sync.Mutex
	codes   map[string]string // pre-authorized code → tx code ("" for none)
	tokens  map[string]bool
	nonces  map[string]bool
	nonceN  int
	proofs  []map[string]any // headers of the proofs received
	staleOn int              // answer invalid_nonce to the first staleOn requests

	// mutate, when set, rewrites a response: endpoint, status, body.
	mutate func(endpoint string, w http.ResponseWriter) bool
	// binding is cryptographic_binding_methods_supported.
	binding []string
}

func newFakeIssuer(t *testing.T) *fakeIssuer {
	f := &fakeIssuer{t: t, iss: MustIssuer(t, 30), codes: map[string]string{}, tokens: map[string]bool{}, nonces: map[string]bool{}, binding: []string{"jwk", "did:key"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-credential-issuer", f.issuerMetadata)
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", f.asMetadata)
	mux.HandleFunc("GET /offers/{code}", f.offer)
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("POST /nonce", f.nonce)
	mux.HandleFunc("POST /credential", f.credential)
	// Assigned before the server starts: handlers read f.srv.
	f.srv = httptest.NewUnstartedServer(mux)
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIssuer) write(w http.ResponseWriter, endpoint string, status int, v any) {
	if f.mutate != nil && f.mutate(endpoint, w) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeIssuer) fail(w http.ResponseWriter, endpoint string, status int, code, desc string) {
	f.write(w, endpoint, status, map[string]string{"error": code, "error_description": desc})
}

func (f *fakeIssuer) issuerMetadata(w http.ResponseWriter, _ *http.Request) {
	u := f.srv.URL
	f.write(w, "metadata", http.StatusOK, map[string]any{
		"credential_issuer":   u,
		"credential_endpoint": u + "/credential",
		"nonce_endpoint":      u + "/nonce",
		"display":             []any{map[string]any{"name": "Fake University"}},
		"credential_configurations_supported": map[string]any{
			"Person_SDJWT": map[string]any{
				"format": "dc+sd-jwt",
				"vct":    "https://example.com/PersonCredential",
				"cryptographic_binding_methods_supported": f.binding,
				"proof_types_supported":                   map[string]any{"jwt": map[string]any{"proof_signing_alg_values_supported": []string{"EdDSA", "ES256"}}},
				"credential_metadata":                     map[string]any{"display": []any{map[string]any{"name": "Person"}}},
			},
			"Degree_JWT": map[string]any{
				"format":                "jwt_vc_json",
				"credential_definition": map[string]any{"type": []string{"VerifiableCredential", "UniversityDegreeCredential"}},
			},
		},
	})
}

func (f *fakeIssuer) asMetadata(w http.ResponseWriter, _ *http.Request) {
	f.write(w, "metadata", http.StatusOK, map[string]any{
		"issuer": f.srv.URL, "token_endpoint": f.srv.URL + "/token",
		"pre-authorized_grant_anonymous_access_supported": true,
	})
}

// newOffer makes a pre-authorized code and returns the offer object.
func (f *fakeIssuer) newOffer(config, txCode string) map[string]any {
	f.mu.Lock()
	code := fmt.Sprintf("code-%d", len(f.codes))
	f.codes[code] = txCode
	f.mu.Unlock()
	grant := map[string]any{"pre-authorized_code": code}
	if txCode != "" {
		grant["tx_code"] = map[string]any{"input_mode": "numeric", "length": len(txCode), "description": "sent by mail"}
	}
	return map[string]any{
		"credential_issuer":            f.srv.URL,
		"credential_configuration_ids": []string{config},
		"grants":                       map[string]any{wallet.GrantPreAuthorizedCode: grant},
	}
}

// offerURI returns an offer by value.
func (f *fakeIssuer) offerURI(config, txCode string) string {
	b, _ := json.Marshal(f.newOffer(config, txCode))
	return wallet.OfferScheme + "://?credential_offer=" + url.QueryEscape(string(b))
}

func (f *fakeIssuer) offer(w http.ResponseWriter, r *http.Request) {
	f.write(w, "offer", http.StatusOK, f.newOffer("Person_SDJWT", r.PathValue("code")[len("tx"):]))
}

func (f *fakeIssuer) token(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		f.fail(w, "token", 400, "invalid_request", "form expected")
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != wallet.GrantPreAuthorizedCode {
		f.fail(w, "token", 400, "unsupported_grant_type", "")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	code := r.PostForm.Get("pre-authorized_code")
	tx, ok := f.codes[code]
	switch {
	case !ok:
		f.fail(w, "token", 400, "invalid_grant", "unknown or used pre-authorized code")
		return
	case tx != "" && !r.PostForm.Has("tx_code"):
		f.fail(w, "token", 400, "invalid_request", "tx_code missing")
		return
	case tx != r.PostForm.Get("tx_code"):
		f.fail(w, "token", 400, "invalid_grant", "wrong transaction code")
		return
	}
	delete(f.codes, code) // single use
	tok := fmt.Sprintf("token-%d", len(f.tokens))
	f.tokens[tok] = true
	f.write(w, "token", 200, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 300})
}

func (f *fakeIssuer) nonce(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	f.nonceN++
	n := fmt.Sprintf("nonce-%d", f.nonceN)
	f.nonces[n] = true
	f.mu.Unlock()
	f.write(w, "nonce", 200, map[string]string{"c_nonce": n})
}

func (f *fakeIssuer) credential(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	valid := ok && f.tokens[tok]
	f.mu.Unlock()
	if !valid {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var req struct {
		ConfigurationID string `json:"credential_configuration_id"`
		Proofs          struct {
			JWT []string `json:"jwt"`
		} `json:"proofs"`
	}
	if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&req) != nil {
		f.fail(w, "credential", 400, "invalid_credential_request", "")
		return
	}
	if req.ConfigurationID == "Degree_JWT" {
		f.write(w, "credential", 200, map[string]any{"credentials": []any{map[string]any{"credential": MustJWTVCJSON(f.t, f.iss)}}})
		return
	}
	if req.ConfigurationID != "Person_SDJWT" {
		f.fail(w, "credential", 400, "unknown_credential_configuration", "")
		return
	}
	if len(req.Proofs.JWT) != 1 {
		f.fail(w, "credential", 400, "invalid_proof", "one jwt proof expected")
		return
	}
	c, err := jose.ParseCompact(req.Proofs.JWT[0], wallet.ProofType, 0)
	if err != nil {
		f.fail(w, "credential", 400, "invalid_proof", err.Error())
		return
	}
	f.mu.Lock()
	f.proofs = append(f.proofs, c.Header)
	f.mu.Unlock()
	var holder keys.PublicKey
	if j, ok := c.Header["jwk"].(map[string]any); ok {
		holder, err = keys.ParseJWK(j)
	} else if kid, ok := c.Header["kid"].(string); ok && strings.HasPrefix(kid, "did:key:") {
		holder, err = keys.ParseMultibase(strings.SplitN(strings.TrimPrefix(kid, "did:key:"), "#", 2)[0])
	} else {
		err = errors.New("no jwk or kid")
	}
	if err != nil {
		f.fail(w, "credential", 400, "invalid_proof", err.Error())
		return
	}
	claims, err := c.Verify(holder)
	if err != nil {
		f.fail(w, "credential", 400, "invalid_proof", "signature")
		return
	}
	if claims["aud"] != f.srv.URL || claims["iat"] == nil {
		f.fail(w, "credential", 400, "invalid_proof", "aud or iat")
		return
	}
	n, _ := claims["nonce"].(string)
	f.mu.Lock()
	fresh := f.nonces[n]
	delete(f.nonces, n)
	stale := f.staleOn > 0
	if stale {
		f.staleOn--
	}
	f.mu.Unlock()
	if !fresh || stale {
		f.fail(w, "credential", 400, "invalid_nonce", "c_nonce unknown or used")
		return
	}
	f.write(w, "credential", 200, map[string]any{"credentials": []any{map[string]any{"credential": MustSDJWT(f.t, f.iss, holder)}}, "notification_id": "n1"})
}

func mustHolder(t *testing.T, typ keys.Type, method string) wallet.HolderKey {
	t.Helper()
	h, err := wallet.NewHolderKey(typ, method, seeded(40))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestReceivePreAuthorized: the whole flow against the fake issuer, by
// value and by reference, with and without a transaction code, for
// both key types and DID methods; the credential is bound to the
// holder's key and described for storing.
func TestReceivePreAuthorized(t *testing.T) {
	f := newFakeIssuer(t)
	for _, tt := range []struct {
		name   string
		typ    keys.Type
		method string
		tx     string
		byRef  bool
	}{
		{"Ed25519 did:key", keys.Ed25519, wallet.MethodKey, "", false},
		{"P-256 did:jwk with tx_code", keys.P256, wallet.MethodJWK, "493536", false},
		{"by reference with tx_code", keys.Ed25519, wallet.MethodJWK, "1234", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := mustHolder(t, tt.typ, tt.method)
			uri := f.offerURI("Person_SDJWT", tt.tx)
			if tt.byRef {
				uri = "openid-credential-offer://?credential_offer_uri=" + url.QueryEscape(f.srv.URL+"/offers/tx"+tt.tx)
			}
			creds, err := wallet.Receive(t.Context(), uri, h, tt.tx, wallet.Options{Now: func() time.Time { return t0 }})
			if err != nil {
				t.Fatal(err)
			}
			if len(creds) != 1 {
				t.Fatalf("%d credentials", len(creds))
			}
			c := creds[0]
			if c.Format != wallet.FormatSDJWT || c.Issuer != f.iss.did || c.Holder != h.ID || c.Source != f.srv.URL || c.ConfigurationID != "Person_SDJWT" {
				t.Fatalf("%+v", c)
			}
			f.mu.Lock()
			last := f.proofs[len(f.proofs)-1]
			f.mu.Unlock()
			if last["typ"] != wallet.ProofType || last["jwk"] == nil || last["kid"] != nil || last["alg"] != h.Key.Public().Algorithm() {
				t.Fatalf("proof header %v", last)
			}
		})
	}
}

// TestReceiveUnboundJWT: a configuration without proofs gets no proof
// and a jwt_vc_json credential.
func TestReceiveUnboundJWT(t *testing.T) {
	f := newFakeIssuer(t)
	creds, err := wallet.Receive(t.Context(), f.offerURI("Degree_JWT", ""), wallet.HolderKey{}, "", wallet.Options{})
	if err != nil || len(creds) != 1 || creds[0].Format != wallet.FormatJWTVCJSON || creds[0].Holder != "" {
		t.Fatalf("%+v %v", creds, err)
	}
}

// TestReceiveStaleNonceRetried: an invalid_nonce answer makes the
// wallet fetch a new c_nonce and try once more, and only once.
func TestReceiveStaleNonceRetried(t *testing.T) {
	f := newFakeIssuer(t)
	h := mustHolder(t, keys.Ed25519, wallet.MethodKey)
	f.staleOn = 1
	if _, err := wallet.Receive(t.Context(), f.offerURI("Person_SDJWT", ""), h, "", wallet.Options{}); err != nil {
		t.Fatalf("one stale nonce: %v", err)
	}
	f.staleOn = 2
	_, err := wallet.Receive(t.Context(), f.offerURI("Person_SDJWT", ""), h, "", wallet.Options{})
	var pe *wallet.ProtocolError
	if !errors.As(err, &pe) || pe.Code != "invalid_nonce" || pe.Endpoint != "credential" {
		t.Fatalf("two stale nonces: %v", err)
	}
}

// TestReceiveProtocolErrors: the issuer's errors reach the caller with
// their specification names.
func TestReceiveProtocolErrors(t *testing.T) {
	f := newFakeIssuer(t)
	h := mustHolder(t, keys.Ed25519, wallet.MethodKey)
	ctx := t.Context()
	code := func(err error) string {
		var pe *wallet.ProtocolError
		if !errors.As(err, &pe) {
			return "not a protocol error: " + fmt.Sprint(err)
		}
		return pe.Code
	}
	// A reused pre-authorized code.
	uri := f.offerURI("Person_SDJWT", "")
	if _, err := wallet.Receive(ctx, uri, h, "", wallet.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := wallet.Receive(ctx, uri, h, "", wallet.Options{}); code(err) != "invalid_grant" {
		t.Fatalf("reused code: %v", err)
	}
	// A wrong transaction code; a missing one is refused before sending.
	if _, err := wallet.Receive(ctx, f.offerURI("Person_SDJWT", "1111"), h, "2222", wallet.Options{}); code(err) != "invalid_grant" {
		t.Fatalf("wrong tx_code: %v", err)
	}
	if _, err := wallet.Receive(ctx, f.offerURI("Person_SDJWT", "1111"), h, "", wallet.Options{}); !errors.Is(err, wallet.ErrMalformed) {
		t.Fatalf("missing tx_code: %v", err)
	}
	if _, err := wallet.Receive(ctx, f.offerURI("Person_SDJWT", "1111"), h, "12a4", wallet.Options{}); !errors.Is(err, wallet.ErrMalformed) {
		t.Fatalf("non-numeric tx_code: %v", err)
	}
	if _, err := wallet.Receive(ctx, f.offerURI("Person_SDJWT", ""), h, "1234", wallet.Options{}); !errors.Is(err, wallet.ErrMalformed) {
		t.Fatalf("unasked tx_code: %v", err)
	}
	// Errors of the credential endpoint, and the bearer error of the header.
	for _, ec := range []string{"invalid_proof", "credential_request_denied", "invalid_token"} {
		f.mutate = func(endpoint string, w http.ResponseWriter) bool {
			if endpoint != "credential" {
				return false
			}
			if ec == "invalid_token" {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="expired"`)
				w.WriteHeader(401)
				return true
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"error":%q,"error_description":"no\u001b[31m"}`, ec)
			return true
		}
		_, err := wallet.Receive(ctx, f.offerURI("Person_SDJWT", ""), h, "", wallet.Options{})
		if code(err) != ec {
			t.Fatalf("%s: %v", ec, err)
		}
		if strings.ContainsRune(err.Error(), 0x1b) {
			t.Fatalf("%s: control character in %q", ec, err)
		}
	}
	f.mutate = nil
	// No key, or one whose alg the issuer does not take.
	if _, err := wallet.Receive(ctx, f.offerURI("Person_SDJWT", ""), wallet.HolderKey{}, "", wallet.Options{}); !errors.Is(err, wallet.ErrNoHolderKey) {
		t.Fatalf("no key: %v", err)
	}
	// A did:idmesh key, for an issuer that binds to jwk and did:key only.
	idm := h
	idm.ID, idm.DID = "did:idmesh:abc#key-1", "did:idmesh:abc"
	if _, err := wallet.Receive(ctx, f.offerURI("Person_SDJWT", ""), idm, "", wallet.Options{}); !errors.Is(err, wallet.ErrUnsupported) {
		t.Fatalf("did:idmesh key: %v", err)
	}
	// An issuer binding to did:key only gets a kid.
	f.binding = []string{"did:key"}
	if _, err := wallet.Receive(ctx, f.offerURI("Person_SDJWT", ""), h, "", wallet.Options{}); err != nil {
		t.Fatal(err)
	}
	if last := f.proofs[len(f.proofs)-1]; last["kid"] != h.ID || last["jwk"] != nil {
		t.Fatalf("did:key binding: %v", last)
	}
}

// TestReceiveRefusesTransport: http:// beyond loopback, redirects to
// another host, oversized answers, a deferred answer, an offer for
// another configuration, an issuer whose metadata names another
// issuer, and a credential bound to another key.
func TestReceiveRefusesTransport(t *testing.T) {
	f := newFakeIssuer(t)
	h := mustHolder(t, keys.Ed25519, wallet.MethodKey)
	ctx := t.Context()
	offerFor := func(issuer string) string {
		o := f.newOffer("Person_SDJWT", "")
		o["credential_issuer"] = issuer
		b, _ := json.Marshal(o)
		return "openid-credential-offer://?credential_offer=" + url.QueryEscape(string(b))
	}
	for _, u := range []string{"http://example.com", "http://10.0.0.1:8080", "http://[::ffff:8.8.8.8]", "http://localhost.example.com"} {
		if _, err := wallet.Receive(ctx, offerFor(u), h, "", wallet.Options{}); !errors.Is(err, wallet.ErrInsecureURL) {
			t.Errorf("%s: %v", u, err)
		}
	}
	if _, err := wallet.Receive(ctx, "openid-credential-offer://?credential_offer_uri="+url.QueryEscape("http://example.com/offer"), h, "", wallet.Options{}); !errors.Is(err, wallet.ErrInsecureURL) {
		t.Errorf("offer by reference over http: %v", err)
	}
	// A redirect to another host (a second server on loopback).
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the wallet followed a redirect to %s", r.URL)
	}))
	defer other.Close()
	f.mutate = func(endpoint string, w http.ResponseWriter) bool {
		if endpoint != "token" {
			return false
		}
		w.Header().Set("Location", other.URL+"/token")
		w.WriteHeader(http.StatusTemporaryRedirect)
		return true
	}
	if _, err := wallet.Receive(ctx, f.offerURI("Person_SDJWT", ""), h, "", wallet.Options{}); !errors.Is(err, wallet.ErrInsecureURL) {
		t.Errorf("redirect: %v", err)
	}
	// Issuer metadata that points the endpoints the wallet POSTs to at
	// another origin (here another server on loopback): refused before
	// any request goes there (security review 2, finding 3).
	for _, field := range []string{"credential_endpoint", "nonce_endpoint"} {
		f.mutate = func(endpoint string, w http.ResponseWriter) bool {
			if endpoint != "metadata" {
				return false
			}
			md := map[string]any{"credential_issuer": f.srv.URL, "credential_endpoint": f.srv.URL + "/credential", "nonce_endpoint": f.srv.URL + "/nonce",
				"credential_configurations_supported": map[string]any{"Person_SDJWT": map[string]any{"format": "dc+sd-jwt", "vct": "https://example.com/PersonCredential",
					"cryptographic_binding_methods_supported": []string{"jwk"}}}}
			md[field] = other.URL + "/steal"
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(md)
			return true
		}
		if _, err := wallet.Receive(ctx, f.offerURI("Person_SDJWT", ""), h, "", wallet.Options{}); !errors.Is(err, wallet.ErrMalformed) {
			t.Errorf("%s on another origin: %v", field, err)
		}
	}
	// Oversized answers: metadata and a credential response.
	for _, ep := range []string{"metadata", "credential"} {
		f.mutate = func(endpoint string, w http.ResponseWriter) bool {
			if endpoint != ep {
				return false
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"x":"`+strings.Repeat("a", wallet.MaxCredentialResponseBytes)+`"}`)
			return true
		}
		if _, err := wallet.Receive(ctx, f.offerURI("Person_SDJWT", ""), h, "", wallet.Options{}); !errors.Is(err, wallet.ErrTooLarge) {
			t.Errorf("oversized %s: %v", ep, err)
		}
	}
	// Deferred issuance.
	f.mutate = func(endpoint string, w http.ResponseWriter) bool {
		if endpoint != "credential" {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"transaction_id":"8xLOxBtZp8","interval":3600}`)
		return true
	}
	if _, err := wallet.Receive(ctx, f.offerURI("Person_SDJWT", ""), h, "", wallet.Options{}); !errors.Is(err, wallet.ErrUnsupported) || !strings.Contains(err.Error(), "deferred") {
		t.Errorf("deferred: %v", err)
	}
	// A credential bound to another key.
	f.mutate = func(endpoint string, w http.ResponseWriter) bool {
		if endpoint != "credential" {
			return false
		}
		other := mustHolder(t, keys.P256, wallet.MethodKey)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"credentials": []any{map[string]any{"credential": MustSDJWT(t, f.iss, other.Key.Public())}}})
		return true
	}
	if _, err := wallet.Receive(ctx, f.offerURI("Person_SDJWT", ""), h, "", wallet.Options{}); !errors.Is(err, wallet.ErrMalformed) {
		t.Errorf("bound to another key: %v", err)
	}
	f.mutate = nil
	// Metadata naming another issuer.
	f.mutate = func(endpoint string, w http.ResponseWriter) bool {
		if endpoint != "metadata" {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"credential_issuer":"https://evil.example","credential_endpoint":"https://evil.example/c","credential_configurations_supported":{}}`)
		return true
	}
	if _, err := wallet.Receive(ctx, f.offerURI("Person_SDJWT", ""), h, "", wallet.Options{}); !errors.Is(err, wallet.ErrMalformed) {
		t.Errorf("metadata of another issuer: %v", err)
	}
	f.mutate = nil
	// A configuration the offer does not offer.
	if _, err := wallet.Receive(ctx, f.offerURI("Person_SDJWT", ""), h, "", wallet.Options{ConfigurationID: "Degree_JWT"}); !errors.Is(err, wallet.ErrNotFound) {
		t.Errorf("other configuration: %v", err)
	}
}

// TestReceiveTimeout: an issuer that does not answer fails the flow in
// the time given, not later.
func TestReceiveTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	o, _ := json.Marshal(map[string]any{"credential_issuer": srv.URL, "credential_configuration_ids": []string{"x"},
		"grants": map[string]any{wallet.GrantPreAuthorizedCode: map[string]any{"pre-authorized_code": "c"}}})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	_, err := wallet.Receive(ctx, "openid-credential-offer://?credential_offer="+url.QueryEscape(string(o)), wallet.HolderKey{}, "", wallet.Options{Timeout: 50 * time.Millisecond})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "Timeout") {
		t.Fatalf("no timeout: %v", err)
	}
}
