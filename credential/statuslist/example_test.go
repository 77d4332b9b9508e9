package statuslist_test

import (
	"crypto/rand"
	"fmt"
	"time"

	"github.com/idmesh/idmesh/credential/statuslist"
)

// An issuer allocates an index, publishes the list, and later revokes; a
// verifier parses the (proof-checked) list credential and checks the entry.
func Example() {
	const listURL = "https://issuer.example/status/1"
	alloc, _ := statuslist.NewAllocator(statuslist.MinLength, nil)
	index, _ := alloc.Allocate(rand.Reader) // persist alloc.Taken() before issuing
	entry := statuslist.Entry{Purpose: statuslist.PurposeRevocation, Index: index, ListCredential: listURL}
	_ = entry.Object() // the credential's credentialStatus

	bits, _ := statuslist.New(statuslist.MinLength)
	_ = bits.Set(index, true) // revoke
	vc, _ := statuslist.NewListCredential(listURL, "did:example:issuer", statuslist.PurposeRevocation, bits, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	// ... the issuer signs vc; the verifier fetches it and verifies its proof.

	list, err := statuslist.ParseListCredential(vc, statuslist.DefaultMaxBits)
	if err != nil {
		fmt.Println(err)
		return
	}
	parsed, _ := statuslist.ParseEntry(entry.Object())
	st, err := statuslist.Check(parsed, list)
	fmt.Println(st.Set, st.Message, err)
	// Output: true set <nil>
}
