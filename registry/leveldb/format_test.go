package leveldb_test

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	goleveldb "github.com/syndtr/goleveldb/leveldb"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
)

// rawStore writes the given keys into a LevelDB directory, as another
// version of idmesh would have.
func rawStore(t *testing.T, kv map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	db, err := goleveldb.OpenFile(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range kv {
		if err := db.Put([]byte(k), v, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestOpenRefusesOtherFormats: a store that holds a chain without the
// format mark (format 1, written before the mark existed), or with
// another format's mark, or an unreadable one, is refused with ErrFormat
// and a one-line message naming the format and what to do; it is never
// read. An empty store, or one being restored, opens.
func TestOpenRefusesOtherFormats(t *testing.T) {
	mark := func(f uint64) []byte { return binary.AppendUvarint(nil, f) }
	tests := []struct {
		name string
		kv   map[string][]byte
		want []string // in the message; nil: opens
	}{
		{"format 1 with a genesis", map[string][]byte{"G": []byte(`{"chain_id":"x"}`), "M": []byte(`{}`)}, []string{"store format 1 is older than this idmesh's format 4", "re-sync from genesis", "idmesh node --state-sync"}},
		{"format 1 with a chain state only", map[string][]byte{"M": []byte(`{}`)}, []string{"store format 1 is older"}},
		{"format 5", map[string][]byte{"F": mark(5), "G": []byte(`{}`)}, []string{"store format 5 is newer than this idmesh's format 4", "run a newer idmesh"}},
		{"format 0", map[string][]byte{"F": mark(0)}, []string{"store format 0 is older"}},
		{"a huge format", map[string][]byte{"F": mark(1 << 62)}, []string{"is newer"}},
		{"an unreadable mark", map[string][]byte{"F": {0x80}}, []string{"store format mark 80", "malformed"}},
		{"a mark with trailing bytes", map[string][]byte{"F": {4, 0}}, []string{"store format mark 0400"}},
		{"an empty mark", map[string][]byte{"F": {}}, []string{"store format mark"}},
		{"empty", nil, nil},
		{"a restore under way", map[string][]byte{"R": nil, "Sdid": []byte("v")}, nil},
		{"format 2", map[string][]byte{"F": mark(2)}, []string{"store format 2 is older than this idmesh's format 4", "state roots changed"}},
		{"format 3 (the state before a record held its latest version)", map[string][]byte{"F": mark(3)}, []string{"store format 3 is older", "re-sync from genesis"}},
		{"format 4", map[string][]byte{"F": mark(4)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := rawStore(t, tc.kv)
			s, err := leveldb.Open(dir)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				s.Close()
				return
			}
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			msg := err.Error()
			if !errors.Is(err, leveldb.ErrFormat) || strings.Contains(msg, "\n") || !strings.Contains(msg, dir) {
				t.Fatalf("error %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Fatalf("error %q lacks %q", msg, w)
				}
			}
			// The refused store is left as it was: it still refuses.
			if s, err := leveldb.Open(dir); !errors.Is(err, leveldb.ErrFormat) {
				if s != nil {
					s.Close()
				}
				t.Fatalf("second open: %v", err)
			}
		})
	}
}

// TestFormatMarked: a new chain's store is marked with Format by its
// genesis and reopens; so is a store restored from a snapshot (marked by
// the restore's finish, in the same write as its genesis).
func TestFormatMarked(t *testing.T) {
	dir := t.TempDir()
	s, err := leveldb.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := registry.OpenChain(s, genesis(), machine())
	if err != nil {
		t.Fatal(err)
	}
	commitNext(t, c, s, 3)
	s.Close()
	checkMark(t, dir)
	s, err = leveldb.Open(dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if _, err := registry.OpenChain(s, genesis(), machine()); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// A restore: its finish writes the genesis, the chain opens over it
	// (SaveGenesis marks the store), and the store reopens.
	src, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := registry.OpenChain(src, genesis(), machine())
	if err != nil {
		t.Fatal(err)
	}
	commitNext(t, sc, src, 2)
	base, err := src.Block(1)
	if err != nil {
		t.Fatal(err)
	}
	commit, err := src.Commit(1)
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	if s, err = leveldb.Open(dir); err != nil {
		t.Fatal(err)
	}
	if err := s.BeginRestore(); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRestore(genesis(), base, commit, sc.State()); err != nil {
		t.Fatal(err)
	}
	// A crash right after the restore, before the chain opens: the
	// finish's own write marked the store.
	s.Close()
	checkMark(t, dir)
	if s, err = leveldb.Open(dir); err != nil {
		t.Fatalf("reopen right after a restore: %v", err)
	}
	if _, err := registry.OpenChain(s, genesis(), machine()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	checkMark(t, dir)
	if s, err = leveldb.Open(dir); err != nil {
		t.Fatalf("reopen after a restore: %v", err)
	}
	s.Close()
}

func checkMark(t *testing.T, dir string) {
	t.Helper()
	db, err := goleveldb.OpenFile(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, err := db.Get([]byte("F"), nil)
	if f, n := binary.Uvarint(v); err != nil || n != len(v) || f != leveldb.Format {
		t.Fatalf("format mark %x: %v", v, err)
	}
}

// TestEmptyStoreUnmarked: opening an empty store does not mark it: its
// first genesis does.
func TestEmptyStoreUnmarked(t *testing.T) {
	empty := rawStore(t, nil)
	s, err := leveldb.Open(empty)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := goleveldb.OpenFile(empty, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if has, err := db.Has([]byte("F"), nil); err != nil || has {
		t.Fatalf("empty store marked: %v %v", has, err)
	}
}
