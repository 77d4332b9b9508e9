package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// gcCPU returns the CPU time the runtime estimates its garbage
// collector has used so far (runtime/metrics).
func gcCPU() time.Duration {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return time.Duration(s[0].Value.Float64() * float64(time.Second))
}

// processCPU returns the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSubmitOperation measures what one DID operation costs when a
// client submits it with POST /v1/operations?wait=30s through the real
// HTTP server (server and client in this process, 256 clients at once),
// against the same operations submitted with node.Submit and
// node.WaitStatus directly, in the same run: the difference is what the
// HTTP submission adds per request (net/http on both sides, decoding,
// the wait, the response). A committer commits what is pending in blocks
// of up to 500, as consensus would. trivial is a POST of the same body to
// a handler that only reads it and answers a small JSON document: the
// floor of the loopback HTTP stack. The -nowait variants submit without
// waiting (202) and commit nothing: the check and the HTTP costs alone.
//
//	go test -run '^$' -bench SubmitOperation -benchtime 3000x ./api/
//
// cpu-us/op is the process's CPU time per operation (client included),
// gc-cpu-us/op the part of it the garbage collector used (runtime/metrics).
func BenchmarkSubmitOperation(b *testing.B) {
	const clients = 256
	client := benchClient()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = clients

	// run submits b.N operations made for this run (each run has a chain
	// of its own), so that the live heap holds only these.
	run := func(b *testing.B, op func(registry.Tx)) {
		txs, _, err := registrytest.CreateOps(0, uint64(b.N))
		if err != nil {
			b.Fatal(err)
		}
		var next atomic.Uint64
		b.SetParallelism((clients + 1) / 2)
		runtime.GC()
		cpu0, gc0 := processCPU(), gcCPU()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				op(txs[next.Add(1)-1])
			}
		})
		b.StopTimer()
		b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
		b.ReportMetric(float64((gcCPU()-gc0).Microseconds())/float64(b.N), "gc-cpu-us/op")
	}
	post := func(b *testing.B, u string, code int, t registry.Tx) {
		resp, err := client.Post(u, "application/json", strings.NewReader(string(t.Payload)))
		if err != nil {
			b.Error(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != code {
			b.Errorf("HTTP %d: %s", resp.StatusCode, body)
		}
	}

	b.Run("trivial", func(b *testing.B) {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"hash":"00","status":"committed"}`)
		}))
		defer ts.Close()
		run(b, func(t registry.Tx) { post(b, ts.URL+"/", http.StatusOK, t) })
	})
	for _, wait := range []bool{false, true} {
		suffix := "-nowait"
		if wait {
			suffix = ""
		}
		b.Run("direct"+suffix, func(b *testing.B) {
			n := submitBenchNode(b, wait)
			run(b, func(t registry.Tx) {
				op, err := n.DecodeOperation(t.Payload)
				if err != nil {
					b.Error(err)
					return
				}
				tx, err := registry.DIDTx(op)
				if err != nil {
					b.Error(err)
					return
				}
				h, err := n.Submit(tx)
				if err != nil {
					b.Error(err)
					return
				}
				if !wait {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				st, err := n.WaitStatus(ctx, h)
				cancel()
				if err != nil || st.Status != node.TxCommitted {
					b.Errorf("status %v, %v", st.Status, err)
				}
			})
			reportPrepared(b, n)
		})
		b.Run("http"+suffix, func(b *testing.B) {
			n := submitBenchNode(b, wait)
			srv, err := api.NewServer(api.Config{Ledger: n, Resolver: did.Methods{idmesh.Method: &idmesh.Resolver{State: registry.ReaderOf(n.Chain.Store())}}})
			if err != nil {
				b.Fatal(err)
			}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			u, code := ts.URL+"/v1/operations", http.StatusAccepted
			if wait {
				u, code = u+"?wait=30s", http.StatusOK
			}
			run(b, func(t registry.Tx) { post(b, u, code, t) })
			reportPrepared(b, n)
		})
	}
}

// reportPrepared reports how n's submissions had their signatures
// verified (node.PrepareStats): the transactions per batch, and the share
// of them prepared alone, without a batch.
func reportPrepared(b *testing.B, n *node.Node) {
	s := n.PrepareStats()
	if s.Batches == 0 {
		return
	}
	b.ReportMetric(float64(s.Txs)/float64(s.Batches), "txs/prepare-batch")
	b.ReportMetric(float64(s.Alone)/float64(s.Txs), "prepared-alone/op")
}

// submitBenchNode returns a node on a fresh in-memory chain; if commit,
// a goroutine commits its pending operations, in blocks of up to 500,
// until the benchmark ends.
func submitBenchNode(b *testing.B, commit bool) *node.Node {
	c, err := registrytest.Open("")
	if err != nil {
		b.Fatal(err)
	}
	n, err := node.New(c.Chain, node.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() }) // cleanups run last first: after commitPending's
	if commit {
		commitPending(b, c, n, 500)
	}
	return n
}
