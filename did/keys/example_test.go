package keys_test

import (
	"bytes"
	"fmt"

	"github.com/idmesh/idmesh/did/keys"
)

func ExampleGenerate() {
	// A fixed seed makes the example reproducible; use nil (crypto/rand)
	// in production.
	seed := bytes.Repeat([]byte{0}, 32)
	k, err := keys.Generate(keys.Ed25519, bytes.NewReader(seed))
	if err != nil {
		panic(err)
	}
	sig, _ := k.Sign([]byte("hello"))
	fmt.Println(k.Public().Multibase())
	fmt.Println(k.Public().Verify([]byte("hello"), sig))
	// Output:
	// z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp
	// true
}

func ExampleParseJWK() {
	pub, err := keys.ParseJWK(map[string]any{
		"kty": "OKP",
		"crv": "Ed25519",
		"x":   "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(pub.Type(), pub.Algorithm())
	fmt.Println(pub.Thumbprint())
	// Output:
	// Ed25519 EdDSA
	// kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k
}

func ExamplePublicKey_X25519() {
	pub, err := keys.ParseMultibase("z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")
	if err != nil {
		panic(err)
	}
	x, _ := pub.X25519()
	fmt.Println(x.Type(), x.Multibase())
	// Output: X25519 z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW
}
