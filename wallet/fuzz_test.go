package wallet_test

import (
	"net/url"
	"testing"

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
