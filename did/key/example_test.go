package key_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
)

func ExampleNew() {
	k, err := keys.Generate(keys.Ed25519, bytes.NewReader(make([]byte, 32)))
	if err != nil {
		panic(err)
	}
	fmt.Println(key.New(k.Public()))
	// Output: did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp
}

func ExampleResolver() {
	r := did.Methods{key.Method: key.Resolver{}}
	res, err := r.Resolve(context.Background(), "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", did.Options{})
	if err != nil {
		panic(err)
	}
	for _, vm := range res.DIDDocument.Methods(did.RelKeyAgreement) {
		fmt.Println(vm.ID)
	}
	// Output: did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW
}
