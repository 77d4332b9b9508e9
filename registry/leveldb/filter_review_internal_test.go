package leveldb

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// TestReviewKeyFilterTinyBlocks (review R11): tiny data blocks (many in
// one 2 KiB filter range, some ranges of unfiltered keys only),
// overwrites, deletions and snapshots taken between writes; every read
// through Get and Has, at the snapshot and at the tip, agrees with a
// model, before and after compactions, and after reopening without the
// filter and with it again.
func TestReviewKeyFilterTinyBlocks(t *testing.T) {
	dir := t.TempDir()
	o := options()
	o.WriteBuffer = 32 << 10
	o.BlockSize = 64
	o.CompactionTableSize = 64 << 10
	db, err := leveldb.OpenFile(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	keys := randomKeys(rng, 6000)
	model := map[string][]byte{}
	type snap struct {
		s *leveldb.Snapshot
		m map[string][]byte
	}
	var snaps []snap
	for round := range 12 {
		batch := new(leveldb.Batch)
		for range 1500 {
			k := keys[rng.IntN(len(keys))]
			if rng.IntN(5) == 0 {
				batch.Delete(k)
				delete(model, string(k))
			} else {
				v := fmt.Appendf(nil, "%d-%x", round, k)
				batch.Put(k, v)
				model[string(k)] = v
			}
		}
		if err := db.Write(batch, nil); err != nil {
			t.Fatal(err)
		}
		if round%4 == 3 {
			s, err := db.GetSnapshot()
			if err != nil {
				t.Fatal(err)
			}
			m := make(map[string][]byte, len(model))
			for k, v := range model {
				m[k] = v
			}
			snaps = append(snaps, snap{s, m})
		}
	}
	check := func(stage string, get func([]byte) ([]byte, error), m map[string][]byte) {
		t.Helper()
		for _, k := range append(keys, randomKeys(rng, 2000)...) {
			v, err := get(k)
			want, ok := m[string(k)]
			if ok != (err == nil) || ok && !bytes.Equal(v, want) || !ok && !errors.Is(err, leveldb.ErrNotFound) {
				t.Fatalf("%s: key %x: %q %v, want %q present %v", stage, k, v, err, want, ok)
			}
		}
	}
	all := func(stage string, db *leveldb.DB) {
		check(stage+" tip", func(k []byte) ([]byte, error) { return db.Get(k, nil) }, model)
		check(stage+" has", func(k []byte) ([]byte, error) {
			ok, err := db.Has(k, nil)
			if err == nil && !ok {
				err = leveldb.ErrNotFound
			}
			if ok {
				return model[string(k)], nil
			}
			return nil, err
		}, model)
	}
	all("written", db)
	for i, s := range snaps {
		check(fmt.Sprint("snapshot ", i), func(k []byte) ([]byte, error) { return s.s.Get(k, nil) }, s.m)
	}
	if err := db.CompactRange(util.Range{}); err != nil {
		t.Fatal(err)
	}
	all("compacted", db)
	for i, s := range snaps {
		check(fmt.Sprint("compacted snapshot ", i), func(k []byte) ([]byte, error) { return s.s.Get(k, nil) }, s.m)
		s.s.Release()
	}
	db.Close()
	// An older idmesh (no filter) reads the tables, writes some more.
	old := &opt.Options{BlockSize: 64, WriteBuffer: 32 << 10}
	db, err = leveldb.OpenFile(dir, old)
	if err != nil {
		t.Fatal(err)
	}
	all("old reader", db)
	for _, k := range keys[:500] {
		v := fmt.Appendf(nil, "old-%x", k)
		if err := db.Put(k, v, nil); err != nil {
			t.Fatal(err)
		}
		model[string(k)] = v
	}
	if err := db.CompactRange(util.Range{Limit: keys[0]}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = leveldb.OpenFile(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	all("mixed tables", db)
}
