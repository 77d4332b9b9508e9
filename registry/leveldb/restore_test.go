package leveldb_test

import (
	"errors"
	"testing"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/smt"
)

// TestRestoreMark: a restore begins only in an empty store; while it is
// under way (also after the store is closed and reopened, as after a
// crash) the store refuses to record a genesis, so no chain opens over a
// partial state; chunks and the finish need a restore begun; and a
// discarded restore leaves an empty store.
func TestRestoreMark(t *testing.T) {
	dir := t.TempDir()
	s, err := leveldb.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RestoreChunk(1, []registry.KV{{Key: []byte("k"), Value: []byte("v")}}, nil); err == nil {
		t.Fatal("a chunk was written without a restore begun")
	}
	if err := s.DiscardRestore(); err == nil {
		t.Fatal("discarded a restore never begun")
	}
	if err := s.BeginRestore(); err != nil {
		t.Fatal(err)
	}
	leaf := smt.LeafHash(smt.Hash(registry.Sum([]byte("k"))), smt.Hash(registry.Sum([]byte("v"))))
	if err := s.RestoreChunk(1, []registry.KV{{Key: []byte("k"), Value: []byte("v")}}, []smt.Node{{Hash: leaf, Encoding: make([]byte, 64)}}); !errors.Is(err, registry.ErrMalformed) {
		t.Fatalf("node of 64 bytes: %v", err)
	}
	if err := s.RestoreChunk(1, []registry.KV{{Key: []byte("k"), Value: []byte("v")}}, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = leveldb.Open(dir); err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	if err := s.SaveGenesis(genesis()); !errors.Is(err, leveldb.ErrRestoring) {
		t.Fatalf("genesis over a partial restore: %v", err)
	}
	if _, err := registry.OpenChain(s, genesis(), machine()); !errors.Is(err, leveldb.ErrRestoring) {
		t.Fatalf("chain over a partial restore: %v", err)
	}
	if err := s.BeginRestore(); err == nil {
		t.Fatal("a second restore began")
	}
	if err := s.DiscardRestore(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get([]byte("k")); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("restored key after discard: %v", err)
	}
	if err := s.BeginRestore(); err != nil {
		t.Fatalf("restore after discard: %v", err)
	}
	if err := s.DiscardRestore(); err != nil {
		t.Fatal(err)
	}
	if _, err := registry.OpenChain(s, genesis(), machine()); err != nil {
		t.Fatal(err)
	}
	if err := s.BeginRestore(); err == nil {
		t.Fatal("a restore began in a store holding a chain")
	}
}
