package leveldb

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/syndtr/goleveldb/leveldb"
)

// BenchmarkGetAbsent reads state keys through Store.Get on a store of
// 300,000 keys of 200 bytes written in blocks (so that several level-0
// tables and a level 1 hold them, as on a node), with the store's options
// and with the same options without the Bloom filter: absent keys are
// what every create reads (its record, its transaction in the replay
// index), present ones what updates and resolutions read. absence-filter
// is the store as it opens, with its absence filter (absent.go) built.
//
//	go test -run '^$' -bench GetAbsent ./registry/leveldb/
func BenchmarkGetAbsent(b *testing.B) {
	for _, c := range []struct {
		name           string
		filter, absent bool
	}{{"bloom", true, false}, {"no-filter", false, false}, {"absence-filter", true, true}} {
		b.Run(c.name, func(b *testing.B) {
			o := options()
			if !c.filter {
				o.Filter = nil
			}
			db, err := leveldb.OpenFile(b.TempDir(), o)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			const n, perBlock = 300_000, 5_000
			value := make([]byte, 200)
			for i := uint64(0); i < n; i += perBlock {
				batch := new(leveldb.Batch)
				for j := i; j < i+perBlock; j++ {
					batch.Put(benchStateKey(j), value)
				}
				if err := db.Write(batch, nil); err != nil {
					b.Fatal(err)
				}
			}
			s := &Store{db: db}
			if c.absent {
				if s, err = newStore(db); err != nil {
					b.Fatal(err)
				}
				for s.absent.cur.Load() == nil {
					time.Sleep(time.Millisecond)
				}
			}
			for _, absent := range []bool{true, false} {
				name := "present"
				if absent {
					name = "absent"
				}
				b.Run(name, func(b *testing.B) {
					var i uint64
					for b.Loop() {
						k := i % n
						if absent {
							k += n
						}
						i += 7919
						_, err := s.Get(benchStateKey(k)[1:]) // without pState
						if (err != nil) != absent {
							b.Fatalf("key %d: %v", k, err)
						}
					}
				})
			}
		})
	}
}

// benchStateKey is the state key of the benchmarks' i-th DID: a record
// key as a node writes them, scattered by a hash.
func benchStateKey(i uint64) []byte {
	sum := sha256.Sum256(binary.BigEndian.AppendUint64(nil, i))
	return key(pState, fmt.Appendf(nil, "did:idmesh:%x", sum[:16]))
}
