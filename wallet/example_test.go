package wallet_test

import (
	"fmt"

	"github.com/idmesh/idmesh/wallet"
)

// ExampleParseOfferURI reads a credential offer by value, as a QR code
// carries it.
func ExampleParseOfferURI() {
	ref, err := wallet.ParseOfferURI("openid-credential-offer://?credential_offer=" +
		"%7B%22credential_issuer%22%3A%22https%3A%2F%2Fissuer.example%22%2C%22credential_configuration_ids%22%3A%5B%22Person%22%5D%2C" +
		"%22grants%22%3A%7B%22urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code%22%3A%7B%22pre-authorized_code%22%3A%22c1%22%2C%22tx_code%22%3A%7B%22length%22%3A4%7D%7D%7D%7D")
	if err != nil {
		fmt.Println(err)
		return
	}
	o := ref.Offer
	fmt.Println(o.CredentialIssuer, o.CredentialConfigurationIDs, o.PreAuthorized.Code, o.PreAuthorized.TxCode.InputMode, o.PreAuthorized.TxCode.Length)
	u, _ := wallet.WellKnownURL(o.CredentialIssuer, wallet.IssuerMetadataPath)
	fmt.Println(u)
	// Output:
	// https://issuer.example [Person] c1 numeric 4
	// https://issuer.example/.well-known/openid-credential-issuer
}

// ExampleParseRequestURI reads an OpenID4VP request passed by
// reference, as a verifier's QR code carries it.
func ExampleParseRequestURI() {
	ref, err := wallet.ParseRequestURI("openid4vp://?client_id=decentralized_identifier%3Adid%3Akey%3Az6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK" +
		"&request_uri=https%3A%2F%2Fverifier.example%2Fverifier%2Frequest-objects%2F7")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ref.ClientID)
	fmt.Println(ref.RequestURI)
	d, _ := wallet.ClientDID(ref.ClientID)
	fmt.Println(d)
	_, err = wallet.ClientDID("x509_hash:Uvo3HtuIxuhC92rShpgqcT3YXwrqRxWEviRiA0OZszk")
	fmt.Println(err)
	// Output:
	// decentralized_identifier:did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK
	// https://verifier.example/verifier/request-objects/7
	// did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK
	// wallet: unsupported: client identifier prefix "x509_hash:"; the wallet only accepts verifiers identified by a DID (decentralized_identifier:)
}
