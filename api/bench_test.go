package api_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// benchServer serves the real API on loopback TCP for chain c.
func benchServer(b *testing.B, c *registry.Chain, store registry.StateReader, cacheBytes int64) *httptest.Server {
	n, err := node.New(c, node.Options{})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := api.NewServer(api.Config{Ledger: n, Resolver: did.Methods{idmesh.Method: &idmesh.Resolver{State: registry.ReaderOf(store)}}, ResolveCacheBytes: cacheBytes})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	b.Cleanup(ts.Close)
	return ts
}

func benchClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: tr}
}

func fetch(b *testing.B, c *http.Client, u string) {
	resp, err := c.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("%s: %d", u, resp.StatusCode)
	}
}

// BenchmarkHTTP compares DID resolutions per second over HTTP with a
// trivial handler's requests per second, in the same run, on the same
// loopback HTTP stack and client, with 10,000 DIDs on the chain.
//
//	go test -run '^$' -bench HTTP ./api/
func BenchmarkHTTP(b *testing.B) {
	c, err := registrytest.Open("")
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	dids, err := c.Fill(0, 10_000, 5000, nil)
	if err != nil {
		b.Fatal(err)
	}
	client := benchClient()
	b.Run("trivial", func(b *testing.B) {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"ok":true}`)
		}))
		defer ts.Close()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				fetch(b, client, ts.URL+"/")
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	})
	// resolve: the default server, whose response cache a new block
	// empties; no blocks are committed during the run. resolve-uncached:
	// every request reads the store and encodes the result.
	for _, bc := range []struct {
		name  string
		cache int64
	}{{"resolve", 0}, {"resolve-uncached", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			ts := benchServer(b, c.Chain, c.Store, bc.cache)
			b.RunParallel(func(pb *testing.PB) {
				r := rand.New(rand.NewPCG(rand.Uint64(), 0))
				for pb.Next() {
					fetch(b, client, ts.URL+"/1.0/identifiers/"+dids[r.IntN(len(dids))])
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// BenchmarkResolve1M measures resolution latency over HTTP with
// 1,000,000 DIDs in an on-disk store, built once under IDMESH_BENCH_DIR
// (make bench sets it) and reused. It reports p50 and p99 of sequential
// requests for random DIDs, and the store's size per DID.
func BenchmarkResolve1M(b *testing.B) {
	dir := os.Getenv("IDMESH_BENCH_DIR")
	if dir == "" {
		b.Skip("set IDMESH_BENCH_DIR (make bench does) to build and reuse the 1,000,000-DID store")
	}
	const n = 1_000_000
	start := time.Now()
	stored, err := registrytest.EnsureStore(filepath.Join(dir, "dids-1m"), n, func(done uint64) {
		if done%50_000 == 0 {
			fmt.Fprintf(os.Stderr, "building the benchmark store: %d/%d DIDs (%s)\n", done, n, time.Since(start).Round(time.Second))
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	size, err := registrytest.DirSize(stored.Dir)
	if err != nil {
		b.Fatal(err)
	}
	store, err := leveldb.Open(stored.Dir)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	c, err := registry.OpenChain(store, registrytest.Genesis(), registry.NewMachineDefault())
	if err != nil {
		b.Fatal(err)
	}
	ts := benchServer(b, c, store, -1) // cold reads: the cache would hide the store
	client := benchClient()
	r := rand.New(rand.NewPCG(1, 2))
	var mu sync.Mutex
	var lat []time.Duration
	for b.Loop() {
		u := ts.URL + "/1.0/identifiers/" + stored.DIDs[r.IntN(len(stored.DIDs))]
		t0 := time.Now()
		fetch(b, client, u)
		d := time.Since(t0)
		mu.Lock()
		lat = append(lat, d)
		mu.Unlock()
	}
	slices.Sort(lat)
	b.ReportMetric(float64(registrytest.Percentile(lat, 50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(registrytest.Percentile(lat, 99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(size)/n, "store-B/DID")
}
