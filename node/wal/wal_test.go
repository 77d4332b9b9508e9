package wal_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/wal"
	"github.com/idmesh/idmesh/registry"
)

// message is the chain's consensus message, as the node logs it.
type message = consensus.Message[*registry.Block]

func vote(h uint64, r int32) message {
	return message{Vote: &consensus.Vote{Type: consensus.Prevote, Height: h, Round: r, BlockID: registry.Sum([]byte{byte(r)}), Signature: make([]byte, 64)}}
}

func TestLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wal", "consensus.wal")
	l, got, err := wal.Open[message](path, 5)
	if err != nil || len(got) != 0 {
		t.Fatalf("open new: %v %v", got, err)
	}
	if err := l.Append([]message{vote(4, 0)}); err != nil {
		t.Fatal(err)
	}
	if err := l.Append([]message{vote(5, 0), vote(5, 1)}); err != nil {
		t.Fatal(err)
	}
	l.Close()

	// Reopen: only height 5 comes back, in order, with its content.
	l, got, err = wal.Open[message](path, 5)
	if err != nil || len(got) != 2 || got[1].Vote.Round != 1 || got[0].Vote.BlockID != vote(5, 0).Vote.BlockID {
		t.Fatalf("reopen: %+v %v", got, err)
	}
	l.Close()

	// A torn last record (a crash mid-append) is dropped; the rest stays,
	// and appends continue after the last whole record.
	fi, _ := os.Stat(path)
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{0, 0, 1, 0, 1, 2, 3})
	f.Close()
	l, got, err = wal.Open[message](path, 5)
	if err != nil || len(got) != 2 {
		t.Fatalf("torn tail: %d messages, %v", len(got), err)
	}
	if fi2, _ := os.Stat(path); fi2.Size() != fi.Size() {
		t.Fatalf("torn tail not truncated: %d, want %d", fi2.Size(), fi.Size())
	}
	if err := l.Append([]message{vote(5, 2)}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l, got, _ = wal.Open[message](path, 5)
	if len(got) != 3 || got[2].Vote.Round != 2 {
		t.Fatalf("append after a torn tail: %d messages", len(got))
	}

	// Reset empties it.
	if err := l.Reset(); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if _, got, _ = wal.Open[message](path, 5); len(got) != 0 {
		t.Fatalf("after reset: %d messages", len(got))
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
}
