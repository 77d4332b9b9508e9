package privval_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/idmesh/idmesh/node/privval"
	"github.com/idmesh/idmesh/registry"
)

const chainID = "test-chain"

// seed returns a deterministic Ed25519 seed.
func seed(b byte) []byte { return bytes.Repeat([]byte{b}, ed25519.SeedSize) }

func blockID(b byte) registry.Hash { return registry.Sum([]byte{b}) }

// mustOpen opens a signer for a fixed key with its state in dir.
func mustOpen(tb testing.TB, dir string) *privval.Signer {
	tb.Helper()
	s, err := privval.Open(ed25519.NewKeyFromSeed(seed(1)), filepath.Join(dir, "state.json"))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// mustSign signs and fails the test on error.
func mustSign(tb testing.TB, s *privval.Signer, height uint64, round uint32, id registry.Hash) []byte {
	tb.Helper()
	sig, err := s.SignPrecommit(chainID, height, round, id, []byte("block"))
	if err != nil {
		tb.Fatalf("sign %d/%d: %v", height, round, err)
	}
	return sig
}

func TestSignPrecommitVerifies(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	id := blockID(1)
	sig := mustSign(t, s, 1, 0, id)
	if !ed25519.Verify(s.PublicKey(), registry.VoteSignBytes(chainID, 1, 0, id), sig) {
		t.Fatal("signature does not verify against the vote sign bytes")
	}
	if s.Address() != registry.AddressOf(s.PublicKey()) {
		t.Fatal("address is not the address of the public key")
	}
	last := s.Last()
	if last.Height != 1 || last.Round != 0 || last.BlockID != id || !bytes.Equal(last.Signature, sig) || string(last.Block) != "block" {
		t.Fatalf("last signed %+v", last)
	}
}

func TestSignPrecommitGuards(t *testing.T) {
	tests := []struct {
		name    string
		height  uint64
		round   uint32
		id      registry.Hash
		wantErr error
	}{
		{"lower height", 4, 2, blockID(1), privval.ErrDoubleSign},
		{"lower height higher round", 4, 9, blockID(1), privval.ErrDoubleSign},
		{"same height lower round", 5, 1, blockID(1), privval.ErrDoubleSign},
		{"same height and round different block", 5, 2, blockID(2), privval.ErrDoubleSign},
		{"same height and round same block", 5, 2, blockID(1), nil},
		{"same height higher round", 5, 3, blockID(2), nil},
		{"higher height", 6, 0, blockID(3), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustOpen(t, t.TempDir())
			first := mustSign(t, s, 5, 2, blockID(1))
			before := s.Last()
			sig, err := s.SignPrecommit(chainID, tt.height, tt.round, tt.id, []byte("other"))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				if sig != nil {
					t.Fatal("a refused request returned a signature")
				}
				if after := s.Last(); after.Height != before.Height || after.Round != before.Round || after.BlockID != before.BlockID {
					t.Fatalf("a refused request changed the record: %+v", after)
				}
				return
			}
			if tt.height == 5 && tt.round == 2 && !bytes.Equal(sig, first) {
				t.Fatal("signing the same block again gave a different signature")
			}
			if l := s.Last(); l.Height != tt.height || l.Round != tt.round || l.BlockID != tt.id {
				t.Fatalf("last signed %+v", l)
			}
		})
	}
}

func TestSignPrecommitSameBlockKeepsRecordedBlock(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	id := blockID(1)
	if _, err := s.SignPrecommit(chainID, 1, 0, id, []byte("first")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SignPrecommit(chainID, 1, 0, id, []byte("second")); err != nil {
		t.Fatal(err)
	}
	if got := string(s.Last().Block); got != "first" {
		t.Fatalf("recorded block %q, want the one signed first", got)
	}
	// The returned signature is a copy: changing it does not change the record.
	sig := mustSign(t, s, 1, 0, id)
	sig[0] ^= 0xff
	if bytes.Equal(s.Last().Signature, sig) {
		t.Fatal("the caller's signature aliases the record")
	}
}

func TestSignerSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	sig := mustSign(t, s, 7, 1, blockID(1))

	r := mustOpen(t, dir)
	if l := r.Last(); l.Height != 7 || l.Round != 1 || l.BlockID != blockID(1) || !bytes.Equal(l.Signature, sig) || string(l.Block) != "block" {
		t.Fatalf("reopened record %+v", l)
	}
	if _, err := r.SignPrecommit(chainID, 7, 1, blockID(2), nil); !errors.Is(err, privval.ErrDoubleSign) {
		t.Fatalf("different block after reopen: err = %v, want ErrDoubleSign", err)
	}
	if _, err := r.SignPrecommit(chainID, 6, 0, blockID(2), nil); !errors.Is(err, privval.ErrDoubleSign) {
		t.Fatalf("lower height after reopen: err = %v, want ErrDoubleSign", err)
	}
	if got := mustSign(t, r, 7, 1, blockID(1)); !bytes.Equal(got, sig) {
		t.Fatal("same block after reopen gave a different signature")
	}
	fi, err := os.Stat(filepath.Join(dir, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestOpenCreatesStateDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "state.json")
	s, err := privval.Open(ed25519.NewKeyFromSeed(seed(1)), path)
	if err != nil {
		t.Fatal(err)
	}
	if l := s.Last(); l.Height != 0 || l.Signature != nil || l.Block != nil {
		t.Fatalf("fresh signer has record %+v", s.Last())
	}
	mustSign(t, s, 1, 0, blockID(1))
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("state not written: %v", err)
	}
}

func TestOpenRejectsCorruptState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := privval.Open(ed25519.NewKeyFromSeed(seed(1)), path); err == nil {
		t.Fatal("opened a corrupt state file")
	}
}

func TestSignPrecommitConcurrentConflict(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	const n = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		oks  []registry.Hash
		errs int
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := blockID(byte(i))
			_, err := s.SignPrecommit(chainID, 1, 0, id, nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				oks = append(oks, id)
			case errors.Is(err, privval.ErrDoubleSign):
				errs++
			default:
				t.Errorf("sign: %v", err)
			}
		}()
	}
	wg.Wait()
	if len(oks) != 1 || errs != n-1 {
		t.Fatalf("%d blocks signed at one height and round, %d refused; want 1 and %d", len(oks), errs, n-1)
	}
	if s.Last().BlockID != oks[0] {
		t.Fatal("the record is not the block that was signed")
	}
}

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
