package privval_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/idmesh/idmesh/node/privval"
	"github.com/idmesh/idmesh/registry"
)

// seed returns a deterministic Ed25519 seed.
func seed(b byte) []byte { return bytes.Repeat([]byte{b}, ed25519.SeedSize) }

// mustOpen opens a signer for a fixed key with its state in dir.
func TestGenerateAndLoadKey(t *testing.T) {
	tests := []struct {
		name string
		seed []byte
	}{
		{"seeded", seed(9)},
		{"random", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config", "validator_key.json")
			kf, err := privval.GenerateKey(path, tt.seed)
			if err != nil {
				t.Fatal(err)
			}
			if tt.seed != nil && !bytes.Equal(kf.PrivateKey, ed25519.NewKeyFromSeed(tt.seed)) {
				t.Fatal("the key does not come from the seed")
			}
			if kf.Address != registry.AddressOf(kf.PublicKey) {
				t.Fatal("address does not match the public key")
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
			}
			got, err := privval.LoadKey(path)
			if err != nil {
				t.Fatal(err)
			}
			if got.Address != kf.Address || !bytes.Equal(got.PublicKey, kf.PublicKey) || !bytes.Equal(got.PrivateKey, kf.PrivateKey) {
				t.Fatal("loaded key differs from the generated one")
			}
			// No temporary files are left beside the key.
			ents, err := os.ReadDir(filepath.Dir(path))
			if err != nil {
				t.Fatal(err)
			}
			if len(ents) != 1 {
				t.Fatalf("directory holds %d entries, want only the key file", len(ents))
			}
		})
	}
}

func TestLoadKeyRejects(t *testing.T) {
	other := ed25519.NewKeyFromSeed(seed(2))
	tests := []struct {
		name   string
		mutate func(kf *privval.KeyFile)
		raw    string
	}{
		{name: "public key of another pair", mutate: func(kf *privval.KeyFile) { kf.PublicKey = other.Public().(ed25519.PublicKey) }},
		{name: "private key of another pair", mutate: func(kf *privval.KeyFile) { kf.PrivateKey = other }},
		{name: "short private key", mutate: func(kf *privval.KeyFile) { kf.PrivateKey = kf.PrivateKey[:32] }},
		{name: "missing private key", mutate: func(kf *privval.KeyFile) { kf.PrivateKey = nil }},
		{name: "not JSON", raw: "validator key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "key.json")
			kf, err := privval.GenerateKey(path, seed(1))
			if err != nil {
				t.Fatal(err)
			}
			b := []byte(tt.raw)
			if tt.mutate != nil {
				tt.mutate(kf)
				if b, err = json.Marshal(kf); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := privval.LoadKey(path); err == nil {
				t.Fatal("loaded a bad key file")
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		if _, err := privval.LoadKey(filepath.Join(t.TempDir(), "nope.json")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("err = %v, want one wrapping os.ErrNotExist", err)
		}
	})
}
