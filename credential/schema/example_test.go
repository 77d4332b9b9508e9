package schema_test

import (
	"fmt"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/schema"
	"github.com/idmesh/idmesh/schemas"
)

func ExampleCompiler_Compile() {
	var c schema.Compiler // one per verifier; it caches compiled schemas
	doc, _ := schemas.Get("age-over-18")
	s, err := c.Compile(doc)
	if err != nil {
		panic(err)
	}
	cred, _ := credential.ParseCredential([]byte(`{
	  "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
	  "type": ["VerifiableCredential", "AgeOver18Credential"],
	  "issuer": "did:example:registry",
	  "validFrom": "2024-06-01T09:00:00Z",
	  "credentialSubject": {"id": "did:example:alice", "ageOver18": false}
	}`))
	fmt.Println(s.ID())
	fmt.Println(s.Validate(cred.Object))
	// Output:
	// https://schemas.idmesh.dev/age-over-18/v1
	// SCHEMA_VALIDATION_ERROR: schema https://schemas.idmesh.dev/age-over-18/v1: at "/credentialSubject/ageOver18" (keyword const): value must be true [schema #/properties/credentialSubject/properties/ageOver18]
}
