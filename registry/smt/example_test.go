package smt_test

import (
	"crypto/sha256"
	"fmt"

	"github.com/idmesh/idmesh/registry/smt"
)

func Example() {
	store := smt.NewMemStore() // LevelDB in production
	key := smt.Hash(sha256.Sum256([]byte("did:idmesh:alice")))
	value := smt.Hash(sha256.Sum256([]byte(`{"id":"did:idmesh:alice"}`)))

	// Apply a block's changes: the caller stores the new nodes.
	root, nodes, err := smt.Update(store, smt.Empty, []smt.Change{
		{Key: key, Value: value},
		{Key: sha256.Sum256([]byte("did:idmesh:bob")), Value: sha256.Sum256([]byte("bob"))},
	})
	if err != nil {
		panic(err)
	}
	store.Put(nodes)
	fmt.Println("nodes created:", len(nodes)) // two leaves, the inner nodes above them

	got, ok, err := smt.Get(store, root, key)
	fmt.Println("found:", ok && got == value, err)

	// A light client checks the answer against the root in a header.
	proof, err := smt.Prove(store, root, key)
	if err != nil {
		panic(err)
	}
	wire := proof.Encode()
	received, err := smt.DecodeProof(wire)
	if err != nil {
		panic(err)
	}
	fmt.Println("inclusion:", received.Verify(root, key, &value))

	absent := smt.Hash(sha256.Sum256([]byte("did:idmesh:carol")))
	proof, _ = smt.Prove(store, root, absent)
	fmt.Println("non-inclusion:", proof.Verify(root, absent, nil))
	// Output:
	// nodes created: 5
	// found: true <nil>
	// inclusion: <nil>
	// non-inclusion: <nil>
}
