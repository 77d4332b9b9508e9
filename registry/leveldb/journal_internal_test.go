package leveldb

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/util"
	"pgregory.net/rapid"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/smt"
)

// unpackJournal rewrites the per-block journal records of the heights
// for which old is true as one entry per node ('O' height hash), the
// journal stores written before the record existed hold.
func unpackJournal(t tb, s *Store, old func(height uint64) bool) {
	t.Helper()
	b := new(leveldb.Batch)
	it := s.db.NewIterator(util.BytesPrefix([]byte{pStale}), nil)
	for it.Next() {
		k, v := it.Key(), it.Value()
		if len(k) != 9 || !old(bytesHeight(k)) {
			continue
		}
		for i := 0; i < len(v); i += 32 {
			b.Put(key(pStale, k[1:9], v[i:i+32]), nil)
		}
		b.Delete(k)
	}
	it.Release()
	if err := s.db.Write(b, nil); err != nil {
		t.Fatal(err)
	}
}

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

// TestPruneOlderJournal prunes stores whose journal mixes the per-block
// records with the per-node entries earlier blocks were journaled as
// (random heights in the older form), in random batch sizes that often
// end inside a record: the result is exactly the complete prune of the
// retained versions, and the same count of nodes as with records only.
func TestPruneOlderJournal(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		blocks := rapid.SliceOfN(rapid.Custom(randomBlock), 2, 20).Draw(rt, "blocks")
		old := rapid.SliceOfN(rapid.Bool(), len(blocks)+1, len(blocks)+1).Draw(rt, "old")
		batch := rapid.IntRange(1, 20).Draw(rt, "batch")
		retention := time.Duration(rapid.IntRange(1, 8).Draw(rt, "retention")) * time.Second
		var nodes [2]uint64
		for i, mixed := range []bool{false, true} {
			s, err := OpenMemory()
			if err != nil {
				rt.Fatal(err)
			}
			s.JournalStale()
			c := pruneChain(rt, s)
			want := map[uint64][]string{}
			if want[0], err = proofs(rt, c, 0); err != nil {
				rt.Fatal(err)
			}
			for _, cmds := range blocks {
				commitCmds(rt, c, cmds)
				h := c.State().Height
				if want[h], err = proofs(rt, c, h); err != nil {
					rt.Fatal(err)
				}
			}
			if mixed {
				unpackJournal(rt, s, func(h uint64) bool { return old[h] })
			}
			p, err := registry.NewPruner(c, retention)
			if err != nil {
				rt.Fatal(err)
			}
			p.MinVersions = 1
			p.Batch = batch
			st, more, err := p.Prune(context.Background(), 0)
			if err != nil || more {
				rt.Fatalf("prune: more %v, %v", more, err)
			}
			nodes[i] = st.Nodes
			checkPruned(rt, s, c, want)
			s.Close()
		}
		if nodes[0] != nodes[1] {
			rt.Fatalf("%d nodes pruned from records, %d from the mixed journal", nodes[0], nodes[1])
		}
	})
}

// TestPruneMalformedJournal: a journal record whose length is not a
// multiple of 32, or a per-node entry with a value, is refused with
// ErrMalformed rather than read as hashes.
func TestPruneMalformedJournal(t *testing.T) {
	for name, kv := range map[string][2][]byte{
		"record":     {key(pStale, u64(1)), make([]byte, 33)},
		"entry":      {key(pStale, u64(1), make([]byte, 32)), []byte{1}},
		"short key":  {key(pStale, make([]byte, 7)), nil},
		"entry+byte": {key(pStale, u64(1), make([]byte, 33)), nil},
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
