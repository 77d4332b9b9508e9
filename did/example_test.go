package did_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/keys"
)

func ExampleParse() {
	d, err := did.Parse("did:web:example.com%3A8443:user:alice")
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Method, d.ID)

	_, err = did.Parse("did:Web:example.com")
	fmt.Println(errors.Is(err, did.ErrInvalidDID))
	// Output:
	// web example.com%3A8443:user:alice
	// true
}

func ExampleParseURL() {
	u, err := did.ParseURL("did:example:123/path?versionId=2#key-1")
	if err != nil {
		panic(err)
	}
	fmt.Println(u.DID, u.Path, u.Query, u.Fragment)
	// Output: did:example:123 /path versionId=2 key-1
}

func ExampleDocument_WithID() {
	k, _ := keys.Generate(keys.Ed25519, bytes.NewReader(make([]byte, 32)))
	tmpl := &did.Document{
		Context:            []any{did.ContextV1, did.ContextMultikey},
		VerificationMethod: []did.VerificationMethod{did.NewMultikey("#key-1", "", k.Public())},
		Authentication:     []did.Relationship{did.Ref("#key-1")},
	}
	doc, err := tmpl.WithID("did:example:123")
	if err != nil {
		panic(err)
	}
	fmt.Println(doc.Validate())
	for _, vm := range doc.Methods(did.RelAuthentication) {
		fmt.Println(vm.ID, vm.Controller)
	}
	// Output:
	// <nil>
	// did:example:123#key-1 did:example:123
}

func ExampleErrorResult() {
	res := did.ErrorResult(fmt.Errorf("resolve did:example:1: %w", did.ErrNotFound))
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(res)
	// Output:
	// {
	//   "didDocument": null,
	//   "didResolutionMetadata": {
	//     "error": {
	//       "type": "https://www.w3.org/ns/did#NOT_FOUND",
	//       "title": "Not found",
	//       "detail": "resolve did:example:1: DID not found"
	//     }
	//   },
	//   "didDocumentMetadata": {}
	// }
}

// exampleResolver serves one fixed document.
type exampleResolver struct{ doc *did.Document }

func (r exampleResolver) Resolve(_ context.Context, id string, _ did.Options) (*did.ResolutionResult, error) {
	if id != r.doc.ID {
		return nil, fmt.Errorf("resolve %s: %w", id, did.ErrNotFound)
	}
	return &did.ResolutionResult{
		DIDDocument:           r.doc.Clone(),
		DIDResolutionMetadata: did.ResolutionMetadata{ContentType: did.MediaTypeDIDLDJSON},
	}, nil
}

func ExampleMethods() {
	doc := &did.Document{Context: []any{did.ContextV1}, ID: "did:example:123"}
	r := did.Methods{"example": exampleResolver{doc}}

	res, err := r.Resolve(context.Background(), "did:example:123", did.Options{})
	fmt.Println(res.DIDDocument.ID, err)

	_, err = r.Resolve(context.Background(), "did:other:1", did.Options{})
	fmt.Println(did.ProblemFor(err).Type)
	// Output:
	// did:example:123 <nil>
	// https://www.w3.org/ns/did#METHOD_NOT_SUPPORTED
}
