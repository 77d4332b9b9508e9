package jose_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did/keys"
)

// An issuer secures a credential as application/vc+jwt; a verifier checks
// it against the issuer's assertionMethod key.
func Example() {
	key, _ := keys.Generate(keys.Ed25519, bytes.NewReader(make([]byte, 32))) // use nil (crypto/rand) in production
	signer := credential.KeySigner{ID: "did:example:university#key-1", Key: key}

	cred := map[string]any{
		"@context":          []any{"https://www.w3.org/ns/credentials/v2"},
		"type":              []any{"VerifiableCredential"},
		"issuer":            "did:example:university",
		"credentialSubject": map[string]any{"id": "did:example:alice"},
	}
	token, err := jose.SignCredential(cred, signer, jose.SignOptions{})
	if err != nil {
		panic(err)
	}

	resolver := &credential.StaticKeys{}
	resolver.Add(credential.VerificationKey{ID: signer.ID, Controller: "did:example:university", Public: key.Public()}, credential.PurposeAssertion)
	payload, vk, err := jose.Verify(context.Background(), token, jose.MediaTypeVC, resolver, jose.VerifyOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.Count(token, "."), payload["issuer"], vk.ID)

	// Tampering is a CRYPTOGRAPHIC_SECURITY_ERROR.
	parts := strings.Split(token, ".")
	forged, _ := jose.SignCredential(map[string]any{"issuer": "did:example:university", "credentialSubject": map[string]any{"id": "did:example:mallory"}}, signer, jose.SignOptions{})
	_, _, err = jose.Verify(context.Background(), parts[0]+"."+strings.Split(forged, ".")[1]+"."+parts[2], jose.MediaTypeVC, resolver, jose.VerifyOptions{})
	fmt.Println(credential.CodeOf(err, ""))
	// Output:
	// 2 did:example:university did:example:university#key-1
	// CRYPTOGRAPHIC_SECURITY_ERROR
}

// A holder binds a presentation to the verifier's challenge and domain;
// the verifier checks them and then each enveloped credential.
func ExampleSignPresentation() {
	key, _ := keys.Generate(keys.Ed25519, bytes.NewReader(make([]byte, 32)))
	holder := credential.KeySigner{ID: "did:example:alice#key-1", Key: key}
	resolver := &credential.StaticKeys{}
	resolver.Add(credential.VerificationKey{ID: holder.ID, Controller: "did:example:alice", Public: key.Public()}, credential.PurposeAuthentication)

	pres := map[string]any{
		"@context":             []any{"https://www.w3.org/ns/credentials/v2"},
		"type":                 []any{"VerifiablePresentation"},
		"holder":               "did:example:alice",
		"verifiableCredential": []any{jose.Envelope("eyJ...credential...token", jose.MediaTypeVC)},
	}
	token, err := jose.SignPresentation(pres, holder, jose.SignOptions{Nonce: "c0ffee", Audience: "https://verifier.example"})
	if err != nil {
		panic(err)
	}
	payload, _, err := jose.Verify(context.Background(), token, jose.MediaTypeVP, resolver,
		jose.VerifyOptions{Nonce: "c0ffee", Audience: "https://verifier.example"})
	if err != nil {
		panic(err)
	}
	creds, err := jose.EnvelopedCredentials(payload)
	if err != nil {
		panic(err)
	}
	for _, c := range creds {
		fmt.Println(c.MediaType, c.Token) // verify each with jose.Verify(ctx, c.Token, c.MediaType, ...)
	}
	// Output:
	// application/vc+jwt eyJ...credential...token
}

func ExampleParseDataURL() {
	mt, data, err := jose.ParseDataURL("data:application/vc+jwt;base64,ZXlKaGJHY2lPaUpGWkVSVFFTSjk=")
	fmt.Println(mt, string(data), err)
	// Output:
	// application/vc+jwt eyJhbGciOiJFZERTQSJ9 <nil>
}
