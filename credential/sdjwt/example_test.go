package sdjwt_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/did/keys"
)

// An issuer makes an SD-JWT VC with two disclosable claims, the holder
// presents one of them with key binding, and the verifier sees that one.
func Example() {
	seed := func(b byte) *bytes.Reader { return bytes.NewReader(bytes.Repeat([]byte{b}, 32)) }
	issuerKey, _ := keys.Generate(keys.Ed25519, seed(1))
	holderKey, _ := keys.Generate(keys.Ed25519, seed(2))
	issuer := credential.KeySigner{ID: "did:example:issuer#key-1", Key: issuerKey}
	resolver := &credential.StaticKeys{}
	resolver.Add(credential.VerificationKey{ID: issuer.ID, Controller: "did:example:issuer", Public: issuerKey.Public()}, credential.PurposeAssertion)
	issuedAt := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

	issued, err := sdjwt.Issue(map[string]any{
		"vct":        "https://idmesh.dev/vct/AgeCredential",
		"given_name": "Alice",
		"age_over":   map[string]any{"18": true, "65": false},
	}, issuer, sdjwt.IssueOptions{
		Disclosable: []string{"/given_name", "/age_over/18", "/age_over/65"},
		Decoys:      1,
		Random:      rand.NewChaCha8([32]byte{3}), // for a stable example; an issuer leaves it nil (crypto/rand)
		IssuedAt:    issuedAt,
		HolderKey:   holderKey.Public(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	now := issuedAt.Add(time.Hour)
	presented, err := sdjwt.Present(issued, sdjwt.PresentOptions{
		Disclose: []string{"/age_over/18"},
		Holder:   credential.KeySigner{Key: holderKey},
		Nonce:    "8f3a", Audience: "https://shop.example", Now: now,
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	res, err := sdjwt.Verify(context.Background(), presented, resolver, sdjwt.VerifyOptions{
		Now: now, Nonce: "8f3a", Audience: "https://shop.example",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Issuer, res.VCT, res.KeyBound)
	fmt.Println(res.Disclosed, res.Claims["age_over"], res.Claims["given_name"])
	// Output:
	// did:example:issuer https://idmesh.dev/vct/AgeCredential true
	// [/age_over/18] map[18:true] <nil>
}
