package keystore_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/idmesh/idmesh/did/keystore"
)

func Example() {
	dir, err := os.MkdirTemp("", "keystore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "idmesh", "keys.json")
	passphrase := []byte("correct horse battery staple")

	// Real keystores use keystore.DefaultParams.
	s, err := keystore.OpenOrCreate(path, passphrase, keystore.TestParams)
	if err != nil {
		log.Fatal(err)
	}
	err = s.Put(keystore.Entry{
		ID:      "did:idmesh:abc#key-1",
		Type:    "Ed25519",
		Public:  "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
		Secret:  []byte("private key bytes"),
		Created: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Labels:  map[string]string{"did": "did:idmesh:abc", "status": "active"},
	})
	if err != nil {
		log.Fatal(err)
	}
	s.Close()

	s, err = keystore.Open(path, passphrase)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	for _, e := range s.List() {
		fmt.Println(e.ID, e.Type, e.Labels["status"], e.Secret == nil)
	}
	e, err := s.Get("did:idmesh:abc#key-1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", e.Secret)

	_, err = keystore.Open(path, []byte("guess"))
	fmt.Println(err)
	// Output:
	// did:idmesh:abc#key-1 Ed25519 active true
	// private key bytes
	// open keystore: keystore: wrong passphrase
}
