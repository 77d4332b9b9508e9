package wallet_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/wallet"
)

// specOffer is the pre-authorized code offer of OpenID4VCI 1.0
// section 4.1.2 (the second example).
const specOffer = `{"credential_issuer":"https://credential-issuer.example.com","credential_configuration_ids":["org.iso.18013.5.1.mDL"],"grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{"pre-authorized_code":"oaKazRN8I0IbtZ0C7JuMn5","tx_code":{"input_mode":"text","description":"Please enter the serial number of your physical drivers license"}}}}`

func TestParseOfferURI(t *testing.T) {
	ref, err := wallet.ParseOfferURI("openid-credential-offer://?credential_offer=" + url.QueryEscape(specOffer))
	if err != nil {
		t.Fatal(err)
	}
	o := ref.Offer
	if o.CredentialIssuer != "https://credential-issuer.example.com" || !slices.Equal(o.CredentialConfigurationIDs, []string{"org.iso.18013.5.1.mDL"}) ||
		o.PreAuthorized.Code != "oaKazRN8I0IbtZ0C7JuMn5" || o.PreAuthorized.TxCode.InputMode != "text" || o.AuthorizationCode {
		t.Fatalf("%+v %+v", o, o.PreAuthorized)
	}
	ref, err = wallet.ParseOfferURI("openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fserver%2Eexample%2Ecom%2Fcredential-offer%2FGkurKxf5T0Y")
	if err != nil || ref.URI != "https://server.example.com/credential-offer/GkurKxf5T0Y" || ref.Offer != nil {
		t.Fatalf("by reference: %+v %v", ref, err)
	}
	// An empty tx_code object still requires a code, numeric by default.
	ref, err = wallet.ParseOfferURI("openid-credential-offer://?credential_offer=" + url.QueryEscape(`{"credential_issuer":"https://i.example","credential_configuration_ids":["a"],"grants":{"authorization_code":{},"urn:ietf:params:oauth:grant-type:pre-authorized_code":{"pre-authorized_code":"c","tx_code":{}}}}`))
	if err != nil || ref.Offer.PreAuthorized.TxCode == nil || ref.Offer.PreAuthorized.TxCode.InputMode != "numeric" || !ref.Offer.AuthorizationCode {
		t.Fatalf("empty tx_code: %+v %v", ref, err)
	}
	bad := []struct {
		name, uri string
		want      error
	}{
		{"no parameter", "openid-credential-offer://?x=1", wallet.ErrMalformed},
		{"both", "openid-credential-offer://?credential_offer=%7B%7D&credential_offer_uri=https://a", wallet.ErrMalformed},
		{"repeated", "openid-credential-offer://?credential_offer_uri=https://a&credential_offer_uri=https://b", wallet.ErrMalformed},
		{"reference not a URL", "openid-credential-offer://?credential_offer_uri=ftp://a", wallet.ErrMalformed},
		{"oversized", "openid-credential-offer://?credential_offer=" + strings.Repeat("a", wallet.MaxOfferBytes), wallet.ErrTooLarge},
		{"bad escape", "openid-credential-offer://?credential_offer=%zz", wallet.ErrMalformed},
	}
	for _, tt := range bad {
		if _, err := wallet.ParseOfferURI(tt.uri); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestParseOfferRefuses(t *testing.T) {
	for name, body := range map[string]string{
		"no issuer":           `{"credential_configuration_ids":["a"]}`,
		"issuer with query":   `{"credential_issuer":"https://i.example?x=1","credential_configuration_ids":["a"]}`,
		"issuer not https":    `{"credential_issuer":"ftp://i.example","credential_configuration_ids":["a"]}`,
		"no ids":              `{"credential_issuer":"https://i.example"}`,
		"empty ids":           `{"credential_issuer":"https://i.example","credential_configuration_ids":[]}`,
		"repeated id":         `{"credential_issuer":"https://i.example","credential_configuration_ids":["a","a"]}`,
		"id not a string":     `{"credential_issuer":"https://i.example","credential_configuration_ids":[1]}`,
		"repeated member":     `{"credential_issuer":"https://i.example","credential_issuer":"https://j.example","credential_configuration_ids":["a"]}`,
		"grant not an object": `{"credential_issuer":"https://i.example","credential_configuration_ids":["a"],"grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":"x"}}`,
		"no code":             `{"credential_issuer":"https://i.example","credential_configuration_ids":["a"],"grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{}}}`,
		"bad input_mode":      `{"credential_issuer":"https://i.example","credential_configuration_ids":["a"],"grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{"pre-authorized_code":"c","tx_code":{"input_mode":"emoji"}}}}`,
		"bad length":          `{"credential_issuer":"https://i.example","credential_configuration_ids":["a"],"grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{"pre-authorized_code":"c","tx_code":{"length":1.5}}}}`,
		"long description":    `{"credential_issuer":"https://i.example","credential_configuration_ids":["a"],"grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{"pre-authorized_code":"c","tx_code":{"description":"` + strings.Repeat("x", 301) + `"}}}}`,
		"not an object":       `["a"]`,
		"trailing data":       `{"credential_issuer":"https://i.example","credential_configuration_ids":["a"]} {}`,
	} {
		if _, err := wallet.ParseOffer([]byte(body)); !errors.Is(err, wallet.ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestParseIssuerMetadata: a metadata document of every field the
// wallet reads gives those fields; broken ones are refused.
func TestParseIssuerMetadata(t *testing.T) {
	md, err := wallet.ParseIssuerMetadata([]byte(`{
	 "credential_issuer":"https://issuer.example.com/tenant",
	 "authorization_servers":["https://as.example.com"],
	 "credential_endpoint":"https://issuer.example.com/tenant/credential",
	 "nonce_endpoint":"https://issuer.example.com/tenant/nonce",
	 "display":[{"name":"Example"}],
	 "credential_configurations_supported":{
	  "SD_JWT_VC_example_in_OpenID4VCI":{"format":"dc+sd-jwt","scope":"SD_JWT_VC_example_in_OpenID4VCI",
	   "cryptographic_binding_methods_supported":["jwk"],"credential_signing_alg_values_supported":["ES256"],
	   "proof_types_supported":{"jwt":{"proof_signing_alg_values_supported":["ES256"]}},
	   "vct":"SD_JWT_VC_example_in_OpenID4VCI",
	   "credential_metadata":{"display":[{"name":"IdentityCredential","locale":"en-US"}]}},
	  "UniversityDegree_JWT":{"format":"jwt_vc_json","credential_definition":{"type":["VerifiableCredential","UniversityDegreeCredential"]},
	   "proof_types_supported":{"jwt":{"proof_signing_alg_values_supported":["ES256"],"key_attestations_required":{}}}}}}`),
		"https://issuer.example.com/tenant")
	if err != nil {
		t.Fatal(err)
	}
	sd := md.Configurations["SD_JWT_VC_example_in_OpenID4VCI"]
	deg := md.Configurations["UniversityDegree_JWT"]
	if md.CredentialEndpoint != "https://issuer.example.com/tenant/credential" || md.NonceEndpoint == "" || len(md.AuthorizationServers) != 1 ||
		sd.Format != "dc+sd-jwt" || sd.VCT != "SD_JWT_VC_example_in_OpenID4VCI" || !slices.Equal(sd.ProofAlgs, []string{"ES256"}) ||
		!slices.Equal(sd.BindingMethods, []string{"jwk"}) || len(sd.Display) != 1 || sd.KeyAttestationsRequired ||
		!slices.Equal(deg.Types, []string{"VerifiableCredential", "UniversityDegreeCredential"}) || !deg.KeyAttestationsRequired {
		t.Fatalf("%+v", md)
	}
	for name, body := range map[string]string{
		"another issuer":      `{"credential_issuer":"https://issuer.example.com/other","credential_endpoint":"https://i/c","credential_configurations_supported":{}}`,
		"trailing slash":      `{"credential_issuer":"https://issuer.example.com/tenant/","credential_endpoint":"https://i/c","credential_configurations_supported":{}}`,
		"no endpoint":         `{"credential_issuer":"https://issuer.example.com/tenant","credential_configurations_supported":{}}`,
		"endpoint not a URL":  `{"credential_issuer":"https://issuer.example.com/tenant","credential_endpoint":"/c","credential_configurations_supported":{}}`,
		"no configurations":   `{"credential_issuer":"https://issuer.example.com/tenant","credential_endpoint":"https://i/c"}`,
		"no format":           `{"credential_issuer":"https://issuer.example.com/tenant","credential_endpoint":"https://i/c","credential_configurations_supported":{"a":{}}}`,
		"jwt without algs":    `{"credential_issuer":"https://issuer.example.com/tenant","credential_endpoint":"https://i/c","credential_configurations_supported":{"a":{"format":"dc+sd-jwt","proof_types_supported":{"jwt":{}}}}}`,
		"authorization_serve": `{"credential_issuer":"https://issuer.example.com/tenant","authorization_servers":"https://as","credential_endpoint":"https://i/c","credential_configurations_supported":{}}`,
	} {
		if _, err := wallet.ParseIssuerMetadata([]byte(body), "https://issuer.example.com/tenant"); !errors.Is(err, wallet.ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestWellKnownURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://issuer.example.com/tenant": "https://issuer.example.com/.well-known/openid-credential-issuer/tenant",
		"https://tenant.issuer.example.com": "https://tenant.issuer.example.com/.well-known/openid-credential-issuer",
		"http://127.0.0.1:8080":             "http://127.0.0.1:8080/.well-known/openid-credential-issuer",
	} {
		if got, err := wallet.WellKnownURL(in, wallet.IssuerMetadataPath); err != nil || got != want {
			t.Errorf("%s: %s %v", in, got, err)
		}
	}
}

func TestCheckURL(t *testing.T) {
	for u, ok := range map[string]bool{
		"https://issuer.example": true, "http://127.0.0.1:1": true, "http://127.9.9.9": true, "http://[::1]:80": true, "http://localhost:8080": true,
		"http://issuer.example": false, "http://192.168.1.1": false, "http://[::ffff:127.0.0.1]": true, "ftp://x": false, "https://": false,
		"http://localhost.evil.example": false, "file:///etc/passwd": false,
	} {
		if err := wallet.CheckURL(u); (err == nil) != ok || (err != nil && !errors.Is(err, wallet.ErrInsecureURL)) {
			t.Errorf("%s: %v", u, err)
		}
	}
}

func TestTokenAndCredentialMessages(t *testing.T) {
	f := wallet.TokenRequest("SplxlOBeZQQYbYS6WxSbIA", "493536")
	if f.Encode() != "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code=SplxlOBeZQQYbYS6WxSbIA&tx_code=493536" {
		t.Fatalf("token request %s", f.Encode())
	}
	if wallet.TokenRequest("c", "").Has("tx_code") {
		t.Fatal("tx_code without one")
	}
	tok, err := wallet.ParseTokenResponse([]byte(`{"access_token":"eyJ","token_type":"bearer","expires_in":86400,"extra":1}`))
	if err != nil || tok.AccessToken != "eyJ" || tok.ExpiresIn != 86400 {
		t.Fatalf("%+v %v", tok, err)
	}
	if _, err := wallet.ParseTokenResponse([]byte(`{"access_token":"a","token_type":"DPoP"}`)); !errors.Is(err, wallet.ErrUnsupported) {
		t.Fatalf("DPoP: %v", err)
	}
	if _, err := wallet.ParseTokenResponse([]byte(`{"access_token":"a\r\nX: y","token_type":"Bearer"}`)); !errors.Is(err, wallet.ErrMalformed) {
		t.Fatalf("header injection: %v", err)
	}
	if n, err := wallet.ParseNonceResponse([]byte(`{"c_nonce":"wKI4LT17ac15ES9bw8ac4"}`)); err != nil || n != "wKI4LT17ac15ES9bw8ac4" {
		t.Fatalf("nonce %q %v", n, err)
	}
	if got := string(wallet.CredentialRequest("Person", []string{"a.b.c"})); got != `{"credential_configuration_id":"Person","proofs":{"jwt":["a.b.c"]}}` {
		t.Fatalf("credential request %s", got)
	}
	r, err := wallet.ParseCredentialResponse([]byte(`{"credentials":[{"credential":"LUpixVCWJk0eOt4CXQe1NXK"},{"credential":{"@context":[],"type":"VerifiableCredential"}}],"notification_id":"3fwe98js"}`))
	if err != nil || len(r.Credentials) != 2 || r.Credentials[0] != "LUpixVCWJk0eOt4CXQe1NXK" || !strings.HasPrefix(r.Credentials[1], "{") || r.NotificationID != "3fwe98js" {
		t.Fatalf("%+v %v", r, err)
	}
	for name, body := range map[string]error{
		`{"transaction_id":"8xLOxBtZp8","interval":3600}`: wallet.ErrUnsupported,
		`{"credentials":[]}`:                              wallet.ErrMalformed,
		`{"credentials":["x"]}`:                           wallet.ErrMalformed,
		`{"credentials":[{"credential":""}]}`:             wallet.ErrMalformed,
		`{"credentials":[{"credential":1}]}`:              wallet.ErrMalformed,
		`{"credential":"x"}`:                              wallet.ErrMalformed,
		`{"credentials":[` + strings.Repeat(`{"credential":"x"},`, wallet.MaxCredentials) + `{"credential":"x"}]}`: wallet.ErrTooLarge,
	} {
		if _, err := wallet.ParseCredentialResponse([]byte(name)); !errors.Is(err, body) {
			t.Errorf("%s: %v", name, err)
		}
	}
	pe := wallet.ParseErrorResponse("credential", 400, []byte(`{"error":"invalid_proof","error_description":"bad \u0007 sig"}`))
	if pe.Code != "invalid_proof" || pe.Description != "" || pe.Status != 400 {
		t.Fatalf("%+v", pe)
	}
	if pe := wallet.ParseErrorResponse("token", 502, []byte(`<html>`)); pe.Code != "" || !strings.Contains(pe.Error(), "HTTP 502") {
		t.Fatalf("%+v", pe)
	}
}

// TestBuildProof: the proof JWT has the header and claims of section
// F.1 and verifies with the key in its header.
func TestBuildProof(t *testing.T) {
	for _, typ := range []keys.Type{keys.Ed25519, keys.P256} {
		h := mustHolder(t, typ, wallet.MethodJWK)
		alg, err := wallet.ProofAlg(h, []string{"ES256", "EdDSA"})
		if err != nil {
			t.Fatal(err)
		}
		p, err := wallet.BuildProof(h, alg, "https://issuer.example", "n-1", t0, false)
		if err != nil {
			t.Fatal(err)
		}
		c, err := jose.ParseCompact(p, wallet.ProofType, 0)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := keys.ParseJWK(c.Header["jwk"].(map[string]any))
		if err != nil || c.Header["kid"] != nil {
			t.Fatalf("header %v: %v", c.Header, err)
		}
		claims, err := c.Verify(pub)
		if err != nil {
			t.Fatal(err)
		}
		if claims["aud"] != "https://issuer.example" || claims["nonce"] != "n-1" || claims["iat"] != json.Number("1796385600") || claims["iss"] != nil {
			t.Fatalf("claims %v", claims)
		}
		p, _ = wallet.BuildProof(h, alg, "https://issuer.example", "", t0, true)
		c, _ = jose.ParseCompact(p, wallet.ProofType, 0)
		if c.Header["kid"] != h.ID || c.Header["jwk"] != nil {
			t.Fatalf("kid header %v", c.Header)
		}
		if pl, _ := c.Payload(); pl["nonce"] != nil {
			t.Fatalf("nonce without one: %v", pl)
		}
	}
	ed := mustHolder(t, keys.Ed25519, wallet.MethodKey)
	if alg, err := wallet.ProofAlg(ed, []string{"Ed25519"}); err != nil || alg != "Ed25519" {
		t.Fatalf("Ed25519 alg: %s %v", alg, err)
	}
	if _, err := wallet.ProofAlg(ed, []string{"ES256"}); !errors.Is(err, wallet.ErrNoHolderKey) {
		t.Fatalf("ES256 only: %v", err)
	}
	if _, err := wallet.BuildProof(wallet.HolderKey{}, "EdDSA", "https://i", "", t0, false); !errors.Is(err, wallet.ErrNoHolderKey) {
		t.Fatalf("no key: %v", err)
	}
	_ = time.Second
}

// TestSpecExamples: the specification's examples (testdata/openid4vci)
// parse, with the values they hold.
func TestSpecExamples(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile("testdata/openid4vci/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	md, err := wallet.ParseIssuerMetadata(read("credential_issuer_metadata_sd_jwt_long.json"), "https://credential-issuer.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if md.NonceEndpoint != "https://credential-issuer.example.com/nonce" || len(md.Configurations) == 0 {
		t.Fatalf("%+v", md)
	}
	for _, name := range []string{"credential_offer_multiple_credentials.json", "credential_offer_by_reference.json", "credential_offer_pre-authz_code.json"} {
		o, err := wallet.ParseOffer(read(name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if o.CredentialIssuer != "https://credential-issuer.example.com" || o.PreAuthorized == nil {
			t.Fatalf("%s: %+v", name, o)
		}
	}
}
