package main

import (
	"bytes"
	"net/http"
	"testing"
	"time"
)

// handlerWriter is a ResponseWriter that keeps the status and counts the
// body: the handler's work without the network's.
type handlerWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *handlerWriter) Header() http.Header         { return w.h }
func (w *handlerWriter) WriteHeader(c int)           { w.code = c }
func (w *handlerWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// BenchmarkVerifyHandler measures POST /credentials/verify in the node's
// own handler, without the network: an idmesh dev node assembled in the
// process (as BenchmarkVerifyHTTPProcess assembles it), 200 distinct
// credentials of each format issued by it (each with its revocation and
// suspension entries), each request the next of them, served by the
// node's http.Handler with a writer that keeps nothing. It reports the
// allocations per verification (which do not depend on the machine's
// load) and the process's CPU time per verification (cpu-µs/op; the
// node's background work included).
//
//	go test -run '^$' -bench VerifyHandler -benchtime 5000x ./cmd/idmesh/
func BenchmarkVerifyHandler(b *testing.B) {
	d := startBenchDaemon(b)
	h := d.Handler()
	n := benchNodeOn(b, d)
	for _, format := range []string{"vc+jwt", "eddsa-rdfc-2022"} {
		bodies := n.issueBench(b, format, 200)
		b.Run(format, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			cpu0 := cpuTime()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, "/credentials/verify", bytes.NewReader(bodies[i%len(bodies)]))
				req.Header.Set("Content-Type", "application/json")
				req.RemoteAddr = "127.0.0.1:40000"
				w := &handlerWriter{h: http.Header{}}
				h.ServeHTTP(w, req)
				if w.code != http.StatusOK {
					b.Fatalf("verify %s #%d: status %d", format, i, w.code)
				}
				i++
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
		})
	}
}
