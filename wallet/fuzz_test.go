package wallet_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/wallet"
)

// FuzzParseOffer: offer URIs and offer objects never panic, and what
// parses keeps the invariants the flow relies on.
func FuzzParseOffer(f *testing.F) {
	f.Add("openid-credential-offer://?credential_offer=" + url.QueryEscape(specOffer))
	f.Add("openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fserver.example.com%2Fo")
	f.Add(specOffer)
	f.Add(`{"credential_issuer":"https://i","credential_configuration_ids":["a"],"grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{"pre-authorized_code":"c","tx_code":{"length":4}}}}`)
	f.Fuzz(func(t *testing.T, s string) {
		if ref, err := wallet.ParseOfferURI(s); err == nil {
			if (ref.Offer == nil) == (ref.URI == "") {
				t.Fatalf("neither or both: %+v", ref)
			}
			if ref.Offer != nil {
				checkOffer(t, ref.Offer)
			}
		}
		if o, err := wallet.ParseOffer([]byte(s)); err == nil {
			checkOffer(t, o)
		}
	})
}

func checkOffer(t *testing.T, o *wallet.Offer) {
	if len(o.CredentialConfigurationIDs) == 0 || o.CredentialIssuer == "" {
		t.Fatalf("incomplete offer %+v", o)
	}
	if _, err := wallet.WellKnownURL(o.CredentialIssuer, wallet.IssuerMetadataPath); err != nil {
		t.Fatalf("issuer %q has no metadata URL: %v", o.CredentialIssuer, err)
	}
	if p := o.PreAuthorized; p != nil && (p.Code == "" || (p.TxCode != nil && p.TxCode.InputMode != "numeric" && p.TxCode.InputMode != "text")) {
		t.Fatalf("grant %+v", p)
	}
}

// FuzzParseIssuerMetadata: issuer and authorization server metadata
// never panic; what parses names the issuer asked and has a credential
// endpoint.
func FuzzParseIssuerMetadata(f *testing.F) {
	f.Add(`{"credential_issuer":"https://i","credential_endpoint":"https://i/c","nonce_endpoint":"https://i/n","credential_configurations_supported":{"a":{"format":"dc+sd-jwt","vct":"v","cryptographic_binding_methods_supported":["jwk"],"proof_types_supported":{"jwt":{"proof_signing_alg_values_supported":["ES256"]}}}}}`)
	f.Add(`{"issuer":"https://i","token_endpoint":"https://i/t","pre-authorized_grant_anonymous_access_supported":true}`)
	f.Add(`{"credential_issuer":"https://i","credential_endpoint":"https://i/c","credential_configurations_supported":{"a":{"format":"ldp_vc","credential_definition":{"type":["VerifiableCredential"]},"display":[{}]}}}`)
	f.Fuzz(func(t *testing.T, s string) {
		if md, err := wallet.ParseIssuerMetadata([]byte(s), "https://i"); err == nil {
			if md.CredentialIssuer != "https://i" || md.CredentialEndpoint == "" || md.Configurations == nil {
				t.Fatalf("%+v", md)
			}
			for id, c := range md.Configurations {
				if c.Format == "" {
					t.Fatalf("configuration %q without format", id)
				}
			}
		}
		if as, err := wallet.ParseAuthServerMetadata([]byte(s), "https://i"); err == nil && (as.Issuer != "https://i" || as.TokenEndpoint == "") {
			t.Fatalf("%+v", as)
		}
	})
}

// FuzzParseCredentialResponse: credential, token, nonce and error
// responses never panic; a parsed credential response holds between 1
// and MaxCredentials non-empty credentials, and an error response's code
// and description are printable ASCII. Each credential then goes
// through Detect and Decode, which must not panic either.
func FuzzParseCredentialResponse(f *testing.F) {
	f.Add(`{"credentials":[{"credential":"eyJhbGciOiJFZERTQSJ9.eyJ2Y3QiOiJ4In0.c2ln~WyJzIiwibiIsInYiXQ~"}],"notification_id":"n"}`)
	f.Add(`{"credentials":[{"credential":{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"issuer":"did:example:1"}}]}`)
	f.Add(`{"transaction_id":"t","interval":5}`)
	f.Add(`{"error":"invalid_proof","error_description":"bad"}`)
	f.Add(`{"access_token":"a","token_type":"Bearer","c_nonce":"n"}`)
	f.Fuzz(func(t *testing.T, s string) {
		if r, err := wallet.ParseCredentialResponse([]byte(s)); err == nil {
			if len(r.Credentials) == 0 || len(r.Credentials) > wallet.MaxCredentials {
				t.Fatalf("%d credentials", len(r.Credentials))
			}
			for _, c := range r.Credentials {
				if c == "" {
					t.Fatal("empty credential")
				}
				if d, err := wallet.Detect([]byte(c)); err == nil {
					_, _ = wallet.Decode(d)
				}
			}
		}
		pe := wallet.ParseErrorResponse("credential", 400, []byte(s))
		for _, r := range pe.Code + pe.Description {
			if r < 0x20 || r > 0x7e {
				t.Fatalf("unprintable %q", pe.Error())
			}
		}
		_, _ = wallet.ParseTokenResponse([]byte(s))
		_, _ = wallet.ParseNonceResponse([]byte(s))
	})
}

// FuzzDetect: import's format detection and display never panic.
func FuzzDetect(f *testing.F) {
	iss := MustIssuer(f, 50)
	f.Add(MustSDJWT(f, iss, keys.PublicKey{}))
	f.Add(MustVCJWT(f, iss))
	f.Add(MustJWTVCJSON(f, iss))
	f.Add(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"VerifiableCredential","issuer":{"id":"did:example:1"}}`)
	f.Add("data:application/vc+jwt,a.b.c")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := wallet.Detect([]byte(s))
		if err != nil {
			return
		}
		if c.Format == "" || c.Raw == "" {
			t.Fatalf("%+v", c)
		}
		_, _ = wallet.Decode(c)
	})
}

// FuzzParseRequestURI: request URIs never panic, and what parses names
// an absolute http(s) request_uri.
func FuzzParseRequestURI(f *testing.F) {
	f.Add("openid4vp://?client_id=decentralized_identifier%3Adid%3Akey%3Az6Mk&request_uri=https%3A%2F%2Frp.example%2Fr%2F1")
	f.Add("openid4vp://?client_id=x&request_uri=https%3A%2F%2Frp.example%2Fr&request_uri_method=post")
	f.Add("https://rp.example/request-objects/1")
	f.Add("openid4vp://?client_id=x&request=eyJ")
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := wallet.ParseRequestURI(s)
		if err != nil {
			return
		}
		u, err := url.Parse(ref.RequestURI)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
			t.Fatalf("request_uri %q", ref.RequestURI)
		}
	})
}

// FuzzParseRequestObject: request objects never panic, and what parses
// keeps the invariants the wallet relies on before it checks the
// signature: a decentralized_identifier: client_id whose DID the kid
// belongs to, a response mode it answers, an http(s) response_uri, a
// URL-safe nonce and a dcql_query object.
func FuzzParseRequestObject(f *testing.F) {
	signer := MustIssuer(f, 60)
	claims := `{"client_id":"decentralized_identifier:` + signer.did + `","response_type":"vp_token","response_mode":"direct_post","response_uri":"https://rp.example/r","nonce":"n-1","state":"s","dcql_query":{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["v"]}}]},"client_metadata":{"jwks":{"keys":[{"kty":"EC","crv":"P-256","alg":"ECDH-ES","x":"YO4epjifD-KWeq1sL2tNmm36BhXnkJ0He-WqMYrp9Fk","y":"Hekpm0zfK7C-YccH5iBjcIXgf6YdUvNUac_0At55Okk"}]},"encrypted_response_enc_values_supported":["A256GCM"]},"exp":1900000000}`
	tok, err := jose.SignCompact([]byte(claims), wallet.RequestObjectType, signer.signer.ID, signer.signer, "")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok)
	f.Add(b64j(`{"alg":"none","typ":"oauth-authz-req+jwt"}`) + "." + b64j(claims) + ".")
	f.Add(b64j(`{"alg":"EdDSA","typ":"oauth-authz-req+jwt","kid":"`+signer.signer.ID+`"}`) + "." + b64j(strings.Replace(claims, "direct_post", "direct_post.jwt", 1)) + ".AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := wallet.ParseRequestObject([]byte(s))
		if err != nil {
			return
		}
		if !strings.HasPrefix(r.ClientID, wallet.ClientIDPrefixDID) || !strings.HasPrefix(r.KeyID, r.DID+"#") || r.Nonce == "" {
			t.Fatalf("request %+v", r)
		}
		if r.ResponseMode != wallet.ResponseModeDirectPost && r.ResponseMode != wallet.ResponseModeDirectPostJWT {
			t.Fatalf("response mode %q", r.ResponseMode)
		}
		if u, err := url.Parse(r.ResponseURI); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			t.Fatalf("response_uri %q", r.ResponseURI)
		}
		if r.DCQLQuery[0] != '{' {
			t.Fatalf("dcql_query %s", r.DCQLQuery)
		}
	})
}
