package keystore_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/idmesh/idmesh/did/keystore"
)

// FuzzOpen feeds arbitrary bytes to Open as a keystore file. Open must
// never panic, and must fail with ErrCorrupt or ErrWrongPassphrase unless
// the file is genuine.
func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	s, err := keystore.Create(filepath.Join(dir, "seed.json"), pass, keystore.Params{N: 2, R: 1, P: 1})
	if err != nil {
		f.Fatal(err)
	}
	if err := s.Put(entry("did:idmesh:a#key-1")); err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(s.Path())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"version":1,"kdf":{"name":"scrypt","salt":"AAAAAAAAAAAAAAAAAAAAAA==","n":2,"r":1,"p":1},"entries":[]}`))
	f.Add([]byte(`{"version":1,"kdf":{"name":"scrypt","n":-1,"r":1,"p":1}}`))
	f.Add([]byte("\xff\x00"))

	f.Fuzz(func(t *testing.T, data []byte) {
		if expensiveKDF(data) {
			// Legitimate but slow (up to 256 MiB of scrypt); not what
			// fuzzing is for.
			t.Skip()
		}
		path := filepath.Join(t.TempDir(), "keys.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := keystore.Open(path, pass)
		if err != nil {
			if !errors.Is(err, keystore.ErrCorrupt) && !errors.Is(err, keystore.ErrWrongPassphrase) {
				t.Fatalf("Open error %v is neither ErrCorrupt nor ErrWrongPassphrase", err)
			}
			return
		}
		defer s.Close()
		for _, e := range s.List() {
			if _, err := s.Get(e.ID); err != nil && !errors.Is(err, keystore.ErrCorrupt) {
				t.Fatalf("Get(%q): %v", e.ID, err)
			}
		}
		if err := s.Put(entry("did:idmesh:fuzz#key-1")); err != nil && !errors.Is(err, keystore.ErrExists) {
			t.Fatalf("Put on opened file: %v", err)
		}
	})
}

// expensiveKDF reports whether data parses as a document whose scrypt
// cost exceeds what a fuzz iteration should spend.
func expensiveKDF(data []byte) bool {
	var doc struct {
		KDF struct{ N, R, P int64 } `json:"kdf"`
	}
	if json.Unmarshal(data, &doc) != nil {
		return false // Open rejects it before deriving keys.
	}
	return doc.KDF.N*doc.KDF.R*doc.KDF.P > 1<<12 || doc.KDF.N*doc.KDF.R*doc.KDF.P < 0
}
