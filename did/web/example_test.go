package web_test

import (
	"fmt"

	"github.com/idmesh/idmesh/did/web"
)

func ExampleURLFor() {
	for _, d := range []string{"did:web:example.com", "did:web:example.com%3A8443:user:alice"} {
		u, err := web.URLFor(d)
		if err != nil {
			panic(err)
		}
		fmt.Println(u)
	}
	// Output:
	// https://example.com/.well-known/did.json
	// https://example.com:8443/user/alice/did.json
}
