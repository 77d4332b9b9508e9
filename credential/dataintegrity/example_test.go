package dataintegrity_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/did/keys"
)

func Example() {
	// An issuer key; use a nil reader (crypto/rand) in production.
	k, _ := keys.Generate(keys.Ed25519, bytes.NewReader(make([]byte, 32)))
	mb := k.Public().Multibase()
	signer := credential.KeySigner{ID: "did:key:" + mb + "#" + mb, Key: k}

	vc := map[string]any{
		"@context":          []any{"https://www.w3.org/ns/credentials/v2"},
		"type":              []any{"VerifiableCredential"},
		"issuer":            "did:key:" + mb,
		"credentialSubject": map[string]any{"id": "did:example:alice"},
	}
	ctx := context.Background()
	created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	signed, err := dataintegrity.Sign(ctx, vc, signer, dataintegrity.SignOptions{
		Cryptosuite: dataintegrity.CryptosuiteJCS,
		Created:     created,
	})
	if err != nil {
		panic(err)
	}

	// The verifier looks keys up by verification method and purpose.
	var trusted credential.StaticKeys
	trusted.Add(credential.VerificationKey{ID: signer.ID, Public: k.Public()}, credential.PurposeAssertion)
	res, err := dataintegrity.Verify(ctx, signed, &trusted, dataintegrity.VerifyOptions{Now: created.Add(time.Hour)})
	fmt.Println(res.Verified(), err)
	fmt.Println(res.Proofs[0].Proof.Cryptosuite, res.Proofs[0].Proof.Created)

	// Any change to the claims breaks the proof.
	signed["credentialSubject"] = map[string]any{"id": "did:example:mallory"}
	_, err = dataintegrity.Verify(ctx, signed, &trusted, dataintegrity.VerifyOptions{})
	fmt.Println(credential.CodeOf(err, ""))
	// Output:
	// true <nil>
	// eddsa-jcs-2022 2025-01-01T00:00:00Z
	// PROOF_VERIFICATION_ERROR
}
