package jwk_test

import (
	"context"
	"fmt"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/jwk"
	"github.com/idmesh/idmesh/did/keys"
)

func ExampleNew() {
	pub, err := keys.ParseJWK(map[string]any{
		"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(jwk.New(pub))
	// Output: did:jwk:eyJjcnYiOiJFZDI1NTE5Iiwia3R5IjoiT0tQIiwieCI6IjExcVlBWUt4Q3JmVlNfN1R5V1FIT2c3aGN2UGFwaU1scndJYWFQY0hVUm8ifQ
}

func ExampleResolver() {
	d := "did:jwk:eyJjcnYiOiJFZDI1NTE5Iiwia3R5IjoiT0tQIiwieCI6IjExcVlBWUt4Q3JmVlNfN1R5V1FIT2c3aGN2UGFwaU1scndJYWFQY0hVUm8ifQ"
	res, err := jwk.Resolver{}.Resolve(context.Background(), d, did.Options{})
	if err != nil {
		panic(err)
	}
	vm := res.DIDDocument.Methods(did.RelAssertionMethod)[0]
	pub, _ := vm.PublicKey()
	fmt.Println(vm.Type, pub.Thumbprint())
	// Output: JsonWebKey kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k
}
