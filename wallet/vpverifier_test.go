package wallet_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did"
	didjwk "github.com/idmesh/idmesh/did/jwk"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/wallet"
)

// testResolver resolves did:key and did:jwk locally, as the CLI does.
var testResolver = did.Methods{"key": key.Resolver{}, "jwk": didjwk.Resolver{}}

// fakeVerifier is an OpenID4VP verifier for these tests only: it
// serves a request object signed with a did:key (Ed25519) and records
// the responses posted to its response_uri, decrypting direct_post.jwt
// responses with its ephemeral P-256 key.
type fakeVerifier struct {
	t      *testing.T
	srv    *httptest.Server
	signer credential.KeySigner
	did    string
	encKey *ecdsa.PrivateKey

	// claims are the request object's claims; header overrides replace
	// the header's typ/kid/alg when set (tests of forged objects).
	mu     sync.Mutex
	claims map[string]any
	// object, when set, is served instead of the signed claims.
	object []byte
	// answer is the response endpoint's answer (status and body).
	status int
	answer string
	// posted are the raw bodies posted to the response endpoint.
	posted []string
	// decrypted are the payloads of direct_post.jwt responses.
	decrypted []map[string]any
	// jweHeaders are their protected headers.
	jweHeaders []map[string]any
}

func (f *fakeVerifier) ClientID() string { return wallet.ClientIDPrefixDID + f.did }

func newFakeVerifier(t *testing.T, dcqlQuery string) *fakeVerifier {
	iss := MustIssuer(t, 40)
	ek, err := ecdsa.GenerateKey(elliptic.P256(), seededReader(41))
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeVerifier{t: t, signer: iss.signer, did: iss.did, encKey: ek, status: http.StatusOK, answer: `{"redirect_uri":"https://rp.example/done#code=1"}`}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /request/1", f.requestObject)
	mux.HandleFunc("POST /response/1", f.response)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	var q any
	if err := json.Unmarshal([]byte(dcqlQuery), &q); err != nil {
		t.Fatal(err)
	}
	f.claims = map[string]any{
		"client_id":     f.ClientID(),
		"response_type": "vp_token",
		"response_mode": "direct_post",
		"response_uri":  f.srv.URL + "/response/1",
		"nonce":         "n-0S6_WzA2Mj",
		"state":         "st-1",
		"aud":           wallet.SelfIssuedAudience,
		"iat":           t0.Unix(),
		"exp":           t0.Add(5 * time.Minute).Unix(),
		"dcql_query":    q,
		"client_metadata": map[string]any{
			"client_name":          "Example Bar",
			"vp_formats_supported": map[string]any{"dc+sd-jwt": map[string]any{}},
		},
	}
	return f
}

// encrypting switches the request to direct_post.jwt with the
// verifier's ephemeral key.
func (f *fakeVerifier) encrypting(enc ...string) {
	pub, err := jwk.Import(&f.encKey.PublicKey)
	if err != nil {
		f.t.Fatal(err)
	}
	b, _ := json.Marshal(pub)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["kid"], m["use"], m["alg"] = "enc-1", "enc", "ECDH-ES"
	f.claims["response_mode"] = "direct_post.jwt"
	md := f.claims["client_metadata"].(map[string]any)
	md["jwks"] = map[string]any{"keys": []any{map[string]any{"kty": "OKP", "crv": "X25519", "x": "WPX7wnwq10hFNK9aDSyG1QlLswE_CJY14LdhcFUIVVc", "alg": "ECDH-ES", "kid": "x"}, m}}
	if len(enc) > 0 {
		md["encrypted_response_enc_values_supported"] = enc
	}
}

// sign returns the request object of claims, signed by signer.
func signRequest(t *testing.T, claims map[string]any, signer credential.KeySigner, typ string) []byte {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jose.SignCompact(b, typ, signer.ID, signer, "")
	if err != nil {
		t.Fatal(err)
	}
	return []byte(tok)
}

func (f *fakeVerifier) requestObject(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Accept") != wallet.RequestObjectMediaType {
		http.Error(w, "bad accept", http.StatusNotAcceptable)
		return
	}
	obj := f.object
	if obj == nil {
		obj = signRequest(f.t, f.claims, f.signer, wallet.RequestObjectType)
	}
	w.Header().Set("Content-Type", wallet.RequestObjectMediaType)
	_, _ = w.Write(obj)
}

func (f *fakeVerifier) response(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	form, err := url.ParseQuery(string(b))
	f.mu.Lock()
	defer f.mu.Unlock()
	f.posted = append(f.posted, string(b))
	if err != nil || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"invalid_request","error_description":"not a form"}`)
		return
	}
	if resp := form.Get("response"); resp != "" {
		msg, err := jwe.Parse([]byte(resp))
		if err != nil {
			f.t.Errorf("parse JWE: %v", err)
		} else {
			hb, _ := json.Marshal(msg.ProtectedHeaders())
			var h map[string]any
			_ = json.Unmarshal(hb, &h)
			f.jweHeaders = append(f.jweHeaders, h)
		}
		plain, err := jwe.Decrypt([]byte(resp), jwe.WithKey(jwa.ECDH_ES(), f.encKey))
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"invalid_request","error_description":"cannot decrypt"}`)
			return
		}
		var m map[string]any
		_ = json.Unmarshal(plain, &m)
		f.decrypted = append(f.decrypted, m)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.status)
	_, _ = io.WriteString(w, f.answer)
}

// uri is the request URI that points at the verifier's request object.
func (f *fakeVerifier) uri() string {
	return "openid4vp://?client_id=" + url.QueryEscape(f.ClientID()) + "&request_uri=" + url.QueryEscape(f.srv.URL+"/request/1")
}

// seededReader adapts seeded to io.Reader for crypto key generation.
func seededReader(seed uint64) io.Reader { return seeded(seed) }
