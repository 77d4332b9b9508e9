package leveldb

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/smt"
)

func bytesHeight(k []byte) uint64 { return binary.BigEndian.Uint64(k[1:9]) }

// TestSaveBlockJournalRecord: a block's stale nodes are journaled as one
// record under its height, the hashes of UpdateStale in order.
func TestSaveBlockJournalRecord(t *testing.T) {
	s, err := OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.JournalStale()
	c := pruneChain(t, s)
	commitCmds(t, c, []string{"set k1 a", "set k2 b", "set k3 c"})
	commitCmds(t, c, []string{"set k1 x", "del k2"})
	commitCmds(t, c, []string{"set k1 x"}) // no change: no record
	var keys [][]byte
	var vals [][]byte
	it := s.db.NewIterator(util.BytesPrefix([]byte{pStale}), nil)
	for it.Next() {
		keys = append(keys, append([]byte(nil), it.Key()...))
		vals = append(vals, append([]byte(nil), it.Value()...))
	}
	it.Release()
	// Height 1 dropped the empty tree's nothing; height 2 dropped nodes.
	if len(keys) != 1 || len(keys[0]) != 9 || bytesHeight(keys[0]) != 2 || len(vals[0]) == 0 || len(vals[0])%32 != 0 {
		t.Fatalf("journal keys %x", keys)
	}
	for i := 32; i < len(vals[0]); i += 32 {
		if string(vals[0][i-32:i]) >= string(vals[0][i:i+32]) {
			t.Fatalf("record not sorted: %x", vals[0])
		}
	}
}

// TestPruneMalformedJournal: a journal record whose length is not a
// multiple of 32, or a key that is not a height, is refused with
// ErrMalformed rather than read as hashes; so is a per-node entry, the
// journal of format 2, whose stores this idmesh refuses.
func TestPruneMalformedJournal(t *testing.T) {
	for name, kv := range map[string][2][]byte{
		"record":         {key(pStale, u64(1)), make([]byte, 33)},
		"entry":          {key(pStale, u64(1), make([]byte, 32)), []byte{1}},
		"short key":      {key(pStale, make([]byte, 7)), nil},
		"entry+byte":     {key(pStale, u64(1), make([]byte, 33)), nil},
		"format 2 entry": {key(pStale, u64(1), make([]byte, 32)), nil},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := OpenMemory()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.JournalStale()
			c := pruneChain(t, s)
			commitCmds(t, c, []string{"set k1 a"})
			commitCmds(t, c, []string{"set k1 b"})
			if err := s.db.Put(kv[0], kv[1], nil); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.PruneStep(2, 10); !errors.Is(err, registry.ErrMalformed) {
				t.Fatalf("prune over %x=%x: %v, want ErrMalformed", kv[0], kv[1], err)
			}
		})
	}
}

// FuzzPruneJournal: whatever bytes sit under the journal's prefix, a
// prune step either refuses them with ErrMalformed or reads them as
// hashes (32 bytes each); it never panics or fails otherwise, and the
// tip's tree stays whole. (The journal is the store's own: an entry that
// named a live node's hash would delete it, as the old layout's would;
// random bytes name no stored node.)
func FuzzPruneJournal(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1}, make([]byte, 64), uint8(3))
	f.Add(make([]byte, 40), []byte{}, uint8(1))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 2}, make([]byte, 33), uint8(7))
	f.Add([]byte{1}, []byte{1, 2, 3}, uint8(0))
	f.Fuzz(func(t *testing.T, suffix, value []byte, batch uint8) {
		if len(suffix) > 64 || len(value) > 4096 {
			return
		}
		s, err := OpenMemory()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		s.JournalStale()
		c := pruneChain(t, s)
		commitCmds(t, c, []string{"set k1 a", "set k2 b"})
		commitCmds(t, c, []string{"set k1 b"})
		commitCmds(t, c, []string{"set k2 c", "del k1"})
		if err := s.db.Put(key(pStale, suffix), value, nil); err != nil {
			t.Fatal(err)
		}
		for range 64 {
			_, more, err := s.PruneStep(3, int(batch))
			if err != nil {
				if !errors.Is(err, registry.ErrMalformed) {
					t.Fatalf("prune: %v", err)
				}
				break
			}
			if !more {
				break
			}
		}
		tip, err := s.Block(3)
		if err != nil {
			t.Fatal(err)
		}
		reachableNodes(t, s, smt.Hash(tip.Header.StateRoot), map[smt.Hash]bool{})
	})
}
