package wallet_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/wallet"
)

// ageQuery asks for one SD-JWT VC's given_name.
const ageQuery = `{"credentials":[{"id":"person","format":"dc+sd-jwt","meta":{"vct_values":["https://example.com/PersonCredential"]},"claims":[{"path":["given_name"]}]}]}`

func at(tm time.Time) wallet.Options {
	return wallet.Options{Now: func() time.Time { return tm }, Timeout: 10 * time.Second}
}

func TestParseRequestURI(t *testing.T) {
	ok := []struct {
		in   string
		want wallet.RequestRef
	}{
		{"openid4vp://?client_id=decentralized_identifier%3Adid%3Akey%3Az6Mk&request_uri=https%3A%2F%2Frp.example%2Fr%2F1",
			wallet.RequestRef{ClientID: "decentralized_identifier:did:key:z6Mk", RequestURI: "https://rp.example/r/1"}},
		{"openid4vp://?client_id=x&request_uri=https%3A%2F%2Frp.example%2Fr&request_uri_method=post",
			wallet.RequestRef{ClientID: "x", RequestURI: "https://rp.example/r"}},
		{"https://wallet.example/?client_id=x&request_uri=http%3A%2F%2F127.0.0.1%3A9%2Fr",
			wallet.RequestRef{ClientID: "x", RequestURI: "http://127.0.0.1:9/r"}},
		{"  https://rp.example/request-objects/1  ", wallet.RequestRef{RequestURI: "https://rp.example/request-objects/1"}},
	}
	for _, c := range ok {
		got, err := wallet.ParseRequestURI(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseRequestURI(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	bad := []struct {
		in   string
		want error
	}{
		{"openid4vp://?client_id=x", wallet.ErrUnsupported},
		{"openid4vp://?client_id=x&request=eyJ", wallet.ErrUnsupported},
		{"openid4vp://?client_id=x&response_type=vp_token&dcql_query=%7B%7D", wallet.ErrUnsupported},
		{"openid4vp://?request_uri=https%3A%2F%2Frp.example%2Fr", wallet.ErrMalformed},
		{"openid4vp://?client_id=x&request_uri=https%3A%2F%2Frp.example%2Fr&request_uri=https%3A%2F%2Fevil.example%2Fr", wallet.ErrMalformed},
		{"openid4vp://?client_id=x&request_uri=https%3A%2F%2Frp.example%2Fr&request_uri_method=PUT", wallet.ErrMalformed},
		{"openid4vp://?client_id=x&request_uri=ftp%3A%2F%2Frp.example%2Fr", wallet.ErrMalformed},
		{"openid4vp://?client_id=x&request_uri=https%3A%2F%2Fu%3Ap%40rp.example%2Fr", wallet.ErrMalformed},
		{"openid4vp://?client_id=x&request_uri=%2Fr", wallet.ErrMalformed},
		{"openid4vp://", wallet.ErrMalformed},
		{"openid4vp://?client_id=x&request_uri=https%3A%2F%2Frp.example%2F" + strings.Repeat("a", wallet.MaxRequestURIBytes), wallet.ErrTooLarge},
		{"openid4vp://?%zz", wallet.ErrMalformed},
	}
	for _, c := range bad {
		if _, err := wallet.ParseRequestURI(c.in); !errors.Is(err, c.want) {
			t.Errorf("ParseRequestURI(%.80q) = %v, want %v", c.in, err, c.want)
		}
	}
}

func TestFetchRequest(t *testing.T) {
	v := newFakeVerifier(t, ageQuery)
	r, err := wallet.FetchRequest(context.Background(), v.uri(), testResolver, at(t0.Add(time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	if r.ClientID != v.ClientID() || r.DID != v.did || r.KeyID != v.signer.ID || r.Nonce != "n-0S6_WzA2Mj" || r.State != "st-1" ||
		r.ResponseMode != wallet.ResponseModeDirectPost || r.ResponseURI != v.srv.URL+"/response/1" || r.Alg != "EdDSA" {
		t.Fatalf("request %+v", r)
	}
	if r.Metadata.Name != "Example Bar" || r.Metadata.VPFormats["dc+sd-jwt"] == nil {
		t.Fatalf("metadata %+v", r.Metadata)
	}
	if !r.Expires.Equal(t0.Add(5*time.Minute)) || !bytes.Contains(r.DCQLQuery, []byte(`"given_name"`)) {
		t.Fatalf("exp %v, query %s", r.Expires, r.DCQLQuery)
	}
	// The request_uri alone works too (no client_id to compare).
	if _, err := wallet.FetchRequest(context.Background(), v.srv.URL+"/request/1", testResolver, at(t0)); err != nil {
		t.Fatal(err)
	}
}

// TestFetchRequestRefused: each forged, stale or unsafe request object
// is refused with its own error.
func TestFetchRequestRefused(t *testing.T) {
	other := MustIssuer(t, 77)
	p256, err := keys.Generate(keys.P256, seeded(78))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		setup  func(v *fakeVerifier)
		uri    func(v *fakeVerifier) string
		now    time.Time
		want   error
		detail string
	}{
		{name: "unsigned, alg none", want: wallet.ErrMalformed, detail: "none", setup: func(v *fakeVerifier) {
			v.object = []byte(b64j(`{"alg":"none","typ":"oauth-authz-req+jwt","kid":"`+v.signer.ID+`"}`) + "." + b64j(`{"client_id":"`+v.ClientID()+`"}`) + ".")
		}},
		{name: "wrong typ", want: wallet.ErrMalformed, detail: "typ", setup: func(v *fakeVerifier) {
			v.object = signRequest(t, v.claims, v.signer, "JWT")
		}},
		{name: "kid of another DID", want: wallet.ErrUntrustedRequest, detail: "not a DID URL of a verification method of " + "did:key", setup: func(v *fakeVerifier) {
			v.object = signRequest(t, v.claims, other.signer, wallet.RequestObjectType)
		}},
		{name: "signed by another key under the verifier's kid", want: wallet.ErrUntrustedRequest, detail: "signature", setup: func(v *fakeVerifier) {
			v.object = signRequest(t, v.claims, credential.KeySigner{ID: v.signer.ID, Key: other.signer.Key}, wallet.RequestObjectType)
		}},
		{name: "alg that does not fit the key", want: wallet.ErrUntrustedRequest, detail: "alg", setup: func(v *fakeVerifier) {
			v.object = signRequest(t, v.claims, credential.KeySigner{ID: v.signer.ID, Key: p256}, wallet.RequestObjectType)
		}},
		{name: "kid of a method the DID does not have", want: wallet.ErrUntrustedRequest, detail: "#key-9", setup: func(v *fakeVerifier) {
			v.object = signRequest(t, v.claims, credential.KeySigner{ID: v.did + "#key-9", Key: v.signer.Key}, wallet.RequestObjectType)
		}},
		{name: "client_id differs between URI and object", want: wallet.ErrUntrustedRequest, detail: "is not the request URI's", uri: func(v *fakeVerifier) string {
			return "openid4vp://?client_id=" + url.QueryEscape(wallet.ClientIDPrefixDID+other.did) + "&request_uri=" + url.QueryEscape(v.srv.URL+"/request/1")
		}},
		{name: "client_id prefix x509_hash", want: wallet.ErrUnsupported, detail: `"x509_hash:"`, setup: func(v *fakeVerifier) {
			v.claims["client_id"] = "x509_hash:Uvo3HtuIxuhC92rShpgqcT3YXwrqRxWEviRiA0OZszk"
		}, uri: func(v *fakeVerifier) string { return v.srv.URL + "/request/1" }},
		{name: "expired", want: wallet.ErrExpired, now: t0.Add(6 * time.Minute), detail: "exp"},
		{name: "issued in the future", want: wallet.ErrMalformed, now: t0.Add(-time.Hour), detail: "iat"},
		{name: "http response_uri off loopback", want: wallet.ErrInsecureURL, detail: "loopback", setup: func(v *fakeVerifier) {
			v.claims["response_uri"] = "http://rp.example/response"
		}},
		{name: "redirect_uri with direct_post", want: wallet.ErrMalformed, detail: "redirect_uri", setup: func(v *fakeVerifier) {
			v.claims["redirect_uri"] = "https://rp.example/cb"
		}},
		{name: "response_mode fragment", want: wallet.ErrUnsupported, detail: "fragment", setup: func(v *fakeVerifier) {
			v.claims["response_mode"] = "fragment"
		}},
		{name: "no nonce", want: wallet.ErrMalformed, detail: "nonce", setup: func(v *fakeVerifier) { delete(v.claims, "nonce") }},
		{name: "nonce with unsafe characters", want: wallet.ErrMalformed, detail: "nonce", setup: func(v *fakeVerifier) { v.claims["nonce"] = "a b\n" }},
		{name: "transaction_data", want: wallet.ErrUnsupported, detail: "transaction_data", setup: func(v *fakeVerifier) {
			v.claims["transaction_data"] = []any{"e30"}
		}},
		{name: "aud of another wallet", want: wallet.ErrMalformed, detail: "aud", setup: func(v *fakeVerifier) { v.claims["aud"] = "https://other-wallet.example" }},
		{name: "scope instead of dcql_query", want: wallet.ErrUnsupported, detail: "scope", setup: func(v *fakeVerifier) {
			delete(v.claims, "dcql_query")
			v.claims["scope"] = "com.example.pid"
		}},
		{name: "direct_post.jwt without a key", want: wallet.ErrUnsupported, detail: "ECDH-ES", setup: func(v *fakeVerifier) {
			v.claims["response_mode"] = "direct_post.jwt"
		}},
		{name: "direct_post.jwt with an enc the wallet lacks", want: wallet.ErrUnsupported, detail: "A256CBC", setup: func(v *fakeVerifier) {
			v.encrypting("A256CBC-HS512")
		}},
		{name: "a claim repeated (two nonces)", want: wallet.ErrMalformed, detail: "nonce", setup: func(v *fakeVerifier) {
			in := b64j(`{"alg":"EdDSA","kid":"`+v.signer.ID+`","typ":"oauth-authz-req+jwt"}`) + "." +
				b64j(`{"client_id":"`+v.ClientID()+`","response_type":"vp_token","response_mode":"direct_post","response_uri":"`+v.srv.URL+`/response/1","nonce":"a","nonce":"b","dcql_query":{}}`)
			sig, err := v.signer.Sign([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			v.object = []byte(in + "." + b64j(string(sig)))
		}},
		{name: "oversized request object", want: wallet.ErrTooLarge, detail: "over", setup: func(v *fakeVerifier) {
			v.object = bytes.Repeat([]byte("a"), wallet.MaxRequestObjectBytes+10)
		}},
		{name: "encrypted request object", want: wallet.ErrUnsupported, detail: "JWE", setup: func(v *fakeVerifier) {
			v.object = []byte("eyJhbGciOiJFQ0RILUVTIn0..aaaa.bbbb.cccc")
		}},
		{name: "too many keys", want: wallet.ErrTooLarge, detail: "keys", setup: func(v *fakeVerifier) {
			ks := make([]any, wallet.MaxVerifierKeys+1)
			for i := range ks {
				ks[i] = map[string]any{"kty": "EC"}
			}
			v.claims["client_metadata"] = map[string]any{"jwks": map[string]any{"keys": ks}}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newFakeVerifier(t, ageQuery)
			if c.setup != nil {
				c.setup(v)
			}
			now := c.now
			if now.IsZero() {
				now = t0.Add(time.Minute)
			}
			uri := v.uri()
			if c.uri != nil {
				uri = c.uri(v)
			}
			_, err := wallet.FetchRequest(context.Background(), uri, testResolver, at(now))
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.detail) {
				t.Fatalf("err = %v, want it to mention %q", err, c.detail)
			}
		})
	}
}

// TestFetchRequestNoRedirect: the wallet does not follow a redirect of
// the request_uri, not even to the same host.
func TestFetchRequestNoRedirect(t *testing.T) {
	v := newFakeVerifier(t, ageQuery)
	uri := "openid4vp://?client_id=" + url.QueryEscape(v.ClientID()) + "&request_uri=" + url.QueryEscape(v.srv.URL+"/request/redirect")
	v.srv.Config.Handler.(interface {
		HandleFunc(string, func(w http.ResponseWriter, r *http.Request))
	}).HandleFunc("GET /request/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/request/1", http.StatusFound)
	})
	_, err := wallet.FetchRequest(context.Background(), uri, testResolver, at(t0))
	if !errors.Is(err, wallet.ErrInsecureURL) || !strings.Contains(err.Error(), "redirect") {
		t.Fatalf("err = %v", err)
	}
}

// TestFetchRequestP256DIDJWK: a verifier identified by a did:jwk with a
// P-256 key signs with ES256.
func TestFetchRequestP256DIDJWK(t *testing.T) {
	h, err := wallet.NewHolderKey(keys.P256, wallet.MethodJWK, seeded(90))
	if err != nil {
		t.Fatal(err)
	}
	v := newFakeVerifier(t, ageQuery)
	v.signer, v.did = credential.KeySigner{ID: h.ID, Key: h.Key}, h.DID
	v.claims["client_id"] = v.ClientID()
	r, err := wallet.FetchRequest(context.Background(), v.uri(), testResolver, at(t0))
	if err != nil {
		t.Fatal(err)
	}
	if r.Alg != "ES256" || r.DID != h.DID {
		t.Fatalf("request %+v", r)
	}
}

// TestFetchRequestTimeout: a request_uri that never answers is given up
// after the timeout.
func TestFetchRequestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	opts := wallet.Options{Timeout: 50 * time.Millisecond}
	_, err := wallet.FetchRequest(context.Background(), srv.URL+"/r", testResolver, opts)
	var te interface{ Timeout() bool }
	if !errors.As(err, &te) || !te.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
}
