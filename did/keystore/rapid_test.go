package keystore_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"pgregory.net/rapid"

	"github.com/idmesh/idmesh/did/keystore"
)

// TestModel checks random sequences of writes, spread over two Stores on
// one file, against a map, and that reopening the file yields the map.
func TestModel(t *testing.T) {
	root := t.TempDir()
	rapid.Check(t, func(rt *rapid.T) {
		dir, err := os.MkdirTemp(root, "")
		if err != nil {
			rt.Fatal(err)
		}
		path := filepath.Join(dir, "keys.json")
		s1, err := keystore.Create(path, pass, keystore.TestParams)
		if err != nil {
			rt.Fatal(err)
		}
		defer s1.Close()
		s2, err := keystore.Open(path, pass)
		if err != nil {
			rt.Fatal(err)
		}
		defer s2.Close()
		stores := []*keystore.Store{s1, s2}
		model := map[string][]byte{}

		idGen := rapid.SampledFrom([]string{"a", "b", "c", "d"})
		for i := range rapid.IntRange(1, 12).Draw(rt, "ops") {
			s := stores[rapid.IntRange(0, 1).Draw(rt, "store")]
			id := "did:idmesh:" + idGen.Draw(rt, "id")
			secret := []byte(fmt.Sprintf("secret-%d", i))
			_, exists := model[id]
			switch op := rapid.SampledFrom([]string{"put", "update", "delete"}).Draw(rt, "op"); op {
			case "put":
				err := s.Put(keystore.Entry{ID: id, Type: "Ed25519", Secret: secret})
				if exists != errors.Is(err, keystore.ErrExists) || (!exists && err != nil) {
					rt.Fatalf("Put(%s) = %v, exists %v", id, err, exists)
				}
				if !exists {
					model[id] = secret
				}
			case "update":
				err := s.Update(keystore.Entry{ID: id, Type: "Ed25519", Secret: secret})
				if exists != (err == nil) || (!exists && !errors.Is(err, keystore.ErrNotFound)) {
					rt.Fatalf("Update(%s) = %v, exists %v", id, err, exists)
				}
				if exists {
					model[id] = secret
				}
			case "delete":
				err := s.Delete(id)
				if exists != (err == nil) || (!exists && !errors.Is(err, keystore.ErrNotFound)) {
					rt.Fatalf("Delete(%s) = %v, exists %v", id, err, exists)
				}
				delete(model, id)
			}
		}

		s3, err := keystore.Open(path, pass)
		if err != nil {
			rt.Fatal(err)
		}
		defer s3.Close()
		if got := len(s3.List()); got != len(model) {
			rt.Fatalf("reopened store has %d entries, model %d", got, len(model))
		}
		for id, want := range model {
			e, err := s3.Get(id)
			if err != nil || !bytes.Equal(e.Secret, want) {
				rt.Fatalf("Get(%s) = %q, %v; want %q", id, e.Secret, err, want)
			}
		}
	})
}
