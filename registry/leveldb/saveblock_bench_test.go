package leveldb_test

import (
	"context"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// recorder is a store that keeps every BlockUpdate it saves, so that a
// benchmark can replay them onto another store.
type recorder struct {
	*leveldb.Store
	updates []*registry.BlockUpdate
}

func (r *recorder) SaveBlock(u *registry.BlockUpdate) error {
	if err := r.Store.SaveBlock(u); err != nil {
		return err
	}
	r.updates = append(r.updates, u)
	return nil
}

// recordCreates returns the updates of a chain that commits fill creates
// in blocks of 1,000, then blocks more blocks of size creates each.
func recordCreates(b *testing.B, fill, blocks, size int) (filled, measured []*registry.BlockUpdate) {
	s, err := leveldb.OpenMemory()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rec := &recorder{Store: s}
	c, err := registry.OpenChain(rec, registrytest.Genesis(), registry.NewMachineDefault())
	if err != nil {
		b.Fatal(err)
	}
	rc := &registrytest.Chain{Chain: c, Store: s}
	next := uint64(0)
	commit := func(n int) {
		txs, _, err := registrytest.CreateOps(next, uint64(n))
		if err != nil {
			b.Fatal(err)
		}
		next += uint64(n)
		if _, err := rc.CommitBlock(txs); err != nil {
			b.Fatal(err)
		}
	}
	for done := 0; done < fill; done += 1000 {
		commit(min(1000, fill-done))
	}
	k := len(rec.updates)
	for range blocks {
		commit(size)
	}
	return rec.updates[:k], rec.updates[k:]
}

// BenchmarkSaveBlock measures the write side of a commit: SaveBlock of
// blocks of 500 did:idmesh creates, on a store on disk that already
// holds 10,000 DIDs, journaling stale tree nodes as a node with a pruner
// does ("pruner") or not ("no-pruner", idmesh node's default). The
// blocks are executed once beforehand; each iteration replays them onto
// a new store, so only SaveBlock and LevelDB's background work (memtable
// flushes, compactions) run while measured. It reports CPU per operation
// (the process's, compactions included), the bytes allocated per
// operation (LevelDB's included), and what one operation writes: keys
// and bytes (key and value, before LevelDB's framing) per op.
//
//	go test -run '^$' -bench SaveBlock -benchtime 3x ./registry/leveldb/
func BenchmarkSaveBlock(b *testing.B) {
	const fill, blocks, size = 10_000, 40, 500
	filled, measured := recordCreates(b, fill, blocks, size)
	for _, journal := range []bool{true, false} {
		name := "pruner"
		if !journal {
			name = "no-pruner"
		}
		b.Run(name, func(b *testing.B) { benchSaveBlock(b, filled, measured, size, journal) })
	}
}

func benchSaveBlock(b *testing.B, filled, measured []*registry.BlockUpdate, size int, journal bool) {
	var keys, bytes, nodes, stale int
	for _, u := range measured {
		nodes, stale = nodes+len(u.Nodes), stale+len(u.Stale)
		// block, commit, block ID; transactions, state, nodes; version,
		// chain state; the stale journal's record
		keys += 3 + len(u.Block.Txs) + len(u.Writes) + len(u.Nodes) + 2
		for _, w := range u.Writes {
			bytes += len(w.Key) + len(w.Value)
		}
		bytes += len(u.Nodes)*(33+65+3) + len(u.Block.Encode())
		if journal && len(u.Stale) > 0 {
			keys++
			bytes += 9 + len(u.Stale)*32
		}
	}
	ops := len(measured) * size
	var cpu, wall time.Duration
	var alloc uint64
	var ms runtime.MemStats
	for b.Loop() {
		b.StopTimer()
		// The label marks this store's background goroutines too, for
		// profiles of the replay alone (-tagfocus store=replay).
		var s *leveldb.Store
		var err error
		pprof.Do(context.Background(), pprof.Labels("store", "replay"), func(context.Context) {
			s, err = leveldb.Open(b.TempDir())
			if err == nil {
				if journal {
					s.JournalStale()
				}
				err = s.SaveGenesis(registrytest.Genesis())
			}
			if err == nil {
				for _, u := range filled {
					if err = s.SaveBlock(u); err != nil {
						break
					}
				}
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		runtime.ReadMemStats(&ms)
		a0 := ms.TotalAlloc
		c0, w0 := cpuTime(), time.Now()
		pprof.Do(context.Background(), pprof.Labels("store", "replay"), func(context.Context) {
			for _, u := range measured {
				if err = s.SaveBlock(u); err != nil {
					break
				}
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - c0
		wall += time.Since(w0)
		runtime.ReadMemStats(&ms)
		alloc += ms.TotalAlloc - a0
		b.StopTimer()
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	n := float64(b.N * ops)
	b.ReportMetric(float64(cpu.Nanoseconds())/1e3/n, "cpu-µs/op")
	b.ReportMetric(float64(wall.Nanoseconds())/1e3/n, "wall-µs/op")
	b.ReportMetric(float64(alloc)/n, "alloc-B/op")
	b.ReportMetric(float64(nodes)/float64(ops), "tree-nodes/op")
	b.ReportMetric(float64(stale)/float64(ops), "stale-nodes/op")
	b.ReportMetric(float64(keys)/float64(ops), "keys/op")
	b.ReportMetric(float64(bytes)/float64(ops), "B/op-written")
}
