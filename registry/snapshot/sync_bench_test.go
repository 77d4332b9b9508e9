package snapshot_test

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
	"github.com/idmesh/idmesh/registry/smt"
	"github.com/idmesh/idmesh/registry/snapshot"
)

// syncRun is what one state sync took. build, check and write are the
// time spent in each step, summed over the goroutines doing it (they
// overlap: the sync is a pipeline).
type syncRun struct {
	entries, chunks int
	bytes           int64
	total           time.Duration // from the check of the headers to Finish
	headers         time.Duration // VerifyHeaders from the genesis
	build           time.Duration // Build on the source, without waiting for the joiner
	check           time.Duration // Restorer.Check
	write           time.Duration // Restorer.Write
	finish          time.Duration // Restorer.Finish
	cpu             time.Duration // CPU time of the process, source and joiner
}

// syncSource is the source chain: its state, blocks and commits.
type syncSource interface {
	snapshot.Source
	State() (registry.ChainState, bool, error)
	Block(height uint64) (*registry.Block, error)
	Commit(height uint64) (*registry.Commit, error)
}

// stateSync joins a new store in dstDir to the chain of g in src as a
// node would from its peers, without the network: the header chain from
// the genesis is verified, the source builds and encodes the snapshot of
// its tip, chunks are checked as they come on every core and written in
// order, and Finish checks the stored tree and records the base block.
// Source and joiner share the machine's cores.
func stateSync(tb testing.TB, src syncSource, g *registry.Genesis, dstDir string) syncRun {
	tb.Helper()
	var run syncRun
	st, ok, err := src.State()
	if err != nil || !ok {
		tb.Fatalf("source state: %v", err)
	}
	// The headers with their commits, as peers serve them: read before
	// the clock starts, since the source store has no read of a header
	// without its block's transactions.
	headers := make([]snapshot.SignedHeader, 0, st.Height)
	for h := uint64(1); h <= st.Height; h++ {
		blk, err := src.Block(h)
		if err != nil {
			tb.Fatal(err)
		}
		c, err := src.Commit(h)
		if err != nil {
			tb.Fatal(err)
		}
		headers = append(headers, snapshot.SignedHeader{Header: blk.Header, Commit: c})
	}
	cpu0, t0 := cpuTime(), time.Now()
	trusted, err := snapshot.VerifyHeaders(g, headers, st.Validators)
	if err != nil {
		tb.Fatal(err)
	}
	run.headers = time.Since(t0)

	dst, err := leveldb.Open(dstDir)
	if err != nil {
		tb.Fatal(err)
	}
	defer dst.Close()
	r, err := snapshot.NewRestorer(dst, g, trusted)
	if err != nil {
		tb.Fatal(err)
	}
	workers := runtime.GOMAXPROCS(0)
	raws := make(chan []byte, workers)
	checked := make(chan *snapshot.Checked, workers)
	var failMu sync.Mutex
	var fail error
	setFail := func(err error) {
		failMu.Lock()
		defer failMu.Unlock()
		if fail == nil {
			fail = err
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { // the source
		defer close(raws)
		var waited time.Duration
		start := time.Now()
		_, err := snapshot.Build(src, st.Height, smt.Hash(st.StateRoot), 0, func(c []byte) error {
			t := time.Now()
			raws <- c
			waited += time.Since(t)
			run.chunks++
			run.bytes += int64(len(c))
			return nil
		})
		run.build = time.Since(start) - waited
		if err != nil {
			setFail(err)
		}
	})
	var checkers sync.WaitGroup
	var checkMu sync.Mutex
	for range workers {
		checkers.Go(func() {
			for raw := range raws {
				t := time.Now()
				c, err := r.Check(raw)
				checkMu.Lock()
				run.check += time.Since(t)
				checkMu.Unlock()
				if err != nil {
					setFail(err)
					continue
				}
				checked <- c
			}
		})
	}
	wg.Go(func() {
		checkers.Wait()
		close(checked)
	})
	// The writer: chunks in index order.
	pending := map[uint32]*snapshot.Checked{}
	for c := range checked {
		pending[c.Index()] = c
		for {
			next, ok := pending[r.Verifier().Next()]
			if !ok {
				break
			}
			delete(pending, next.Index())
			t := time.Now()
			err := r.Write(next)
			run.write += time.Since(t)
			if err != nil {
				setFail(err)
				break
			}
			run.entries += next.Entries()
		}
	}
	wg.Wait()
	if fail != nil {
		tb.Fatal(fail)
	}
	t := time.Now()
	base, err := src.Block(st.Height)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := r.Finish(base); err != nil {
		tb.Fatal(err)
	}
	run.finish = time.Since(t)
	run.total = time.Since(t0)
	run.cpu = cpuTime() - cpu0
	return run
}

// rawHash returns how long SHA-256 of every key and value of src takes
// on one core (the baseline), and how many entries it hashed.
func rawHash(tb testing.TB, src snapshot.Source) (time.Duration, int) {
	tb.Helper()
	n := 0
	t := time.Now()
	if err := src.Scan(nil, func(k, v []byte) bool {
		sha256.Sum256(k)
		sha256.Sum256(v)
		n++
		return true
	}); err != nil {
		tb.Fatal(err)
	}
	return time.Since(t), n
}

// report reports a sync's figures per run and per entry, and its speed
// as a ratio to SHA-256 of the same entries on one core.
func (run syncRun) report(b *testing.B, hashTime time.Duration) {
	n := float64(run.entries)
	b.ReportMetric(run.total.Seconds(), "s/sync")
	b.ReportMetric(run.headers.Seconds(), "headers-s")
	b.ReportMetric(run.build.Seconds(), "build-s")
	b.ReportMetric(run.check.Seconds(), "check-s")
	b.ReportMetric(run.write.Seconds(), "write-s")
	b.ReportMetric(run.finish.Seconds(), "finish-s")
	b.ReportMetric(n, "entries")
	b.ReportMetric(float64(run.chunks), "chunks")
	b.ReportMetric(n/run.total.Seconds(), "entries/s")
	b.ReportMetric(float64(run.total.Nanoseconds())/n/1e3, "µs/entry")
	b.ReportMetric(float64(run.cpu.Nanoseconds())/n/1e3, "cpu-µs/entry")
	b.ReportMetric(n/hashTime.Seconds(), "sha256-entries/s")
	b.ReportMetric(hashTime.Seconds()/run.total.Seconds(), "ratio")
}

// BenchmarkStateSyncDIDs joins a new node to a chain of n DIDs (as
// registrytest builds it: blocks of 5,000 creates) from a snapshot of its tip, every chunk verified (stateSync), and
// reports the whole and each step, entries per second and the ratio to
// SHA-256 of the same entries on one core measured in the same run. The
// chains are built once under IDMESH_BENCH_DIR (make bench sets it; the
// 1,000,000-DID chain is api's BenchmarkResolve1M's) and reused.
//
//	IDMESH_BENCH_DIR=$PWD/.bench go test -run '^$' -bench 'StateSyncDIDs/1000k' -benchtime 1x -timeout 120m ./registry/snapshot/
func BenchmarkStateSyncDIDs(b *testing.B) {
	dir := os.Getenv("IDMESH_BENCH_DIR")
	if dir == "" {
		b.Skip("set IDMESH_BENCH_DIR (make bench does) to build and reuse the benchmark chains")
	}
	for _, n := range []uint64{100_000, 300_000, 1_000_000} {
		name := fmt.Sprintf("dids-%dk", n/1000)
		if n == 1_000_000 {
			name = "dids-1m"
		}
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			start := time.Now()
			stored, err := registrytest.EnsureStore(filepath.Join(dir, name), n, func(done uint64) {
				if done%50_000 == 0 {
					fmt.Fprintf(os.Stderr, "building the benchmark store: %d/%d DIDs (%s)\n", done, n, time.Since(start).Round(time.Second))
				}
			})
			if err != nil {
				b.Fatal(err)
			}
			src, err := leveldb.Open(stored.Dir)
			if err != nil {
				b.Fatal(err)
			}
			defer src.Close()
			var run syncRun
			for b.Loop() {
				run = stateSync(b, src, registrytest.Genesis(), filepath.Join(b.TempDir(), "joined"))
			}
			hashTime, hashed := rawHash(b, src)
			if hashed != run.entries {
				b.Fatalf("%d entries restored, %d in the source", run.entries, hashed)
			}
			run.report(b, hashTime)
		})
	}
}

// TestStateSyncPipeline: a chain of DIDs joined as stateSync does it,
// chunks checked on every core as they come and written in order, ends
// with the source's state, root and tip.
func TestStateSyncPipeline(t *testing.T) {
	c, err := registrytest.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Fill(0, 600, 200, nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run := stateSync(t, c.Store, registrytest.Genesis(), dir)
	if run.chunks < 1 || run.entries == 0 {
		t.Fatalf("%d chunks, %d entries", run.chunks, run.entries)
	}
	dst, err := leveldb.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	want, _, _ := c.Store.State()
	got, ok, err := dst.State()
	if err != nil || !ok || got.StateRoot != want.StateRoot || got.LastBlockID != want.LastBlockID {
		t.Fatalf("joined state %+v, %v; want root %s at %d", got, err, want.StateRoot, want.Height)
	}
	n := 0
	if err := c.Store.Scan(nil, func(k, v []byte) bool {
		n++
		w, err := dst.Get(k)
		if err != nil || string(w) != string(v) {
			t.Fatalf("key %q: %v", k, err)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if n != run.entries {
		t.Fatalf("%d entries written, %d in the source", run.entries, n)
	}
}
