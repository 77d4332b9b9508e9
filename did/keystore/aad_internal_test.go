package keystore

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// The file MAC already rejects swapped ciphertexts, so the black-box
// tests cannot see the per-entry AAD. This test forges a document with a
// valid MAC (it knows the keys) and checks that the AEAD binding to ID
// and type still stops the swap.
func TestAADBindsIDAndType(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	s, err := Create(path, []byte("pw"), TestParams)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range []string{"a", "b"} {
		if err := s.Put(Entry{ID: id, Type: "Ed25519", Secret: []byte("secret " + id), Created: time.Unix(0, 0)}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		edit func(a, b *fileEntry)
	}{
		{"swap ciphertexts", func(a, b *fileEntry) {
			a.Nonce, b.Nonce = b.Nonce, a.Nonce
			a.Ciphertext, b.Ciphertext = b.Ciphertext, a.Ciphertext
		}},
		{"change type", func(a, _ *fileEntry) { a.Type = "P-256" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := *s.entries["a"], *s.entries["b"]
			tt.edit(&a, &b)
			data, err := s.encode(map[string]*fileEntry{"a": &a, "b": &b})
			if err != nil {
				t.Fatal(err)
			}
			if err := writeAtomic(path, data); err != nil {
				t.Fatal(err)
			}
			s2, err := Open(path, []byte("pw"))
			if err != nil {
				t.Fatalf("Open forged file: %v", err) // the MAC is valid
			}
			defer s2.Close()
			if _, err := s2.Get("a"); !errors.Is(err, ErrCorrupt) {
				t.Errorf("Get(a) = %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestCloseZeroesKeys(t *testing.T) {
	s, err := Create(filepath.Join(t.TempDir(), "k"), []byte("pw"), TestParams)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s.keys != (keys{}) {
		t.Error("Close left key material in memory")
	}
}
