package leveldb_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// BenchmarkStoragePruned builds a store of n DIDs (100,000, 300,000 for
// the trend, 1,000,000; blocks of 5,000 creates, a second apart, as the
// store of api's BenchmarkResolve1M) while a pruner keeps the state-tree
// versions of the last w seconds of block time (w+1 blocks), then
// compacts it and reports its size per DID and the share of each kind of
// entry (LevelDB's estimate per key prefix: B blocks, N tree nodes, O
// stale journal, S state, T transaction index, V version index; and
// within S, S.did.r the DID records, S.did.v their versions, S.did.i the
// version index). It needs IDMESH_BENCH_DIR (make
// bench sets it); each store is built once, under its own directory, and
// later runs measure it again.
//
//	IDMESH_BENCH_DIR=$PWD/.bench go test -run '^$' -bench 'StoragePruned/1000k/w=10' -benchtime 1x -timeout 120m ./registry/leveldb/
func BenchmarkStoragePruned(b *testing.B) {
	dir := os.Getenv("IDMESH_BENCH_DIR")
	if dir == "" {
		b.Skip("set IDMESH_BENCH_DIR (make bench does) for the pruned store")
	}
	for _, c := range []struct {
		n uint64
		w int
	}{{100_000, 1}, {100_000, 10}, {300_000, 10}, {1_000_000, 1}, {1_000_000, 10}} {
		n, w := c.n, c.w
		b.Run(fmt.Sprintf("%dk/w=%d", n/1000, w), func(b *testing.B) {
			for b.Loop() {
				storagePruned(b, filepath.Join(dir, fmt.Sprintf("pruned-%d-w%d", n, w)), n, time.Duration(w)*time.Second)
			}
		})
	}
}

func storagePruned(b *testing.B, dir string, n uint64, window time.Duration) {
	done := filepath.Join(dir, "complete")
	if _, err := os.Stat(done); err != nil || registrytest.OldFormat(dir) {
		buildPruned(b, dir, n, window)
		if err := os.WriteFile(done, nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	s, err := leveldb.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Compact(); err != nil {
		b.Fatal(err)
	}
	size, err := registrytest.DirSize(dir)
	if err != nil {
		b.Fatal(err)
	}
	sizes, err := s.Sizes()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(size)/float64(n), "store-B/DID")
	keys := make([]string, 0, len(sizes))
	for k := range sizes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if sizes[k] > 0 {
			b.ReportMetric(float64(sizes[k])/float64(n), k+"-B/DID")
		}
	}
}

// buildPruned builds the store of n DIDs in dir with a pruner of the
// given window.
func buildPruned(b *testing.B, dir string, n uint64, window time.Duration) {
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	c, err := registrytest.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	const blockSize = 5000
	p, err := registry.NewPruner(c.Chain, window)
	if err != nil {
		b.Fatal(err)
	}
	p.MinVersions = 1 // the window alone decides here
	var total registry.PruneStats
	start := time.Now()
	for done := uint64(0); done < n; done += blockSize {
		if _, err := c.Fill(done, min(blockSize, n-done), blockSize, nil); err != nil {
			b.Fatal(err)
		}
		s, _, err := p.Prune(context.Background(), 0)
		if err != nil {
			b.Fatal(err)
		}
		total = total.Add(s)
		if done%100_000 == 0 {
			fmt.Fprintf(os.Stderr, "pruned store: %d/%d DIDs (%s)\n", done, n, time.Since(start).Round(time.Second))
		}
	}
	fmt.Fprintf(os.Stderr, "pruned store of %d DIDs built in %s: %d nodes pruned\n", n, time.Since(start).Round(time.Second), total.Nodes)
}
