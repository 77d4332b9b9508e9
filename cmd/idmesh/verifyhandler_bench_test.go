package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"syscall"
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

// handlerCPU is the process's CPU time (user and system) so far.
func handlerCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

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
	n := benchNode{url: d.BaseURL(), token: benchToken}
	post := func(path string, body any) (int, []byte) { return n.post(b, path, body) }
	code, out := post("/v1/issuers", map[string]any{"name": "uni"})
	var iss struct{ DID string }
	if err := json.Unmarshal(out, &iss); code != http.StatusCreated || err != nil {
		b.Fatalf("issuer: %d %s", code, out)
	}
	for _, format := range []string{"vc+jwt", "eddsa-rdfc-2022"} {
		bodies := make([][]byte, 200)
		for i := range bodies {
			cred := map[string]any{
				"@context": []any{"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"},
				"type":     []any{"VerifiableCredential", "ExampleDegreeCredential"},
				"issuer":   iss.DID,
				"credentialSubject": map[string]any{
					"id":     fmt.Sprintf("did:example:bench-subject-%d", i),
					"degree": map[string]any{"type": "ExampleBachelorDegree", "name": "Bachelor of Science and Arts"},
				},
			}
			code, out := post("/credentials/issue", map[string]any{"credential": cred, "options": map[string]any{"format": format}})
			var issued struct {
				VC json.RawMessage `json:"verifiableCredential"`
			}
			if err := json.Unmarshal(out, &issued); code != http.StatusCreated || err != nil {
				b.Fatalf("issue %s: %d %s", format, code, out)
			}
			bodies[i], _ = json.Marshal(map[string]any{"verifiableCredential": issued.VC})
		}
		b.Run(format, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			cpu0 := handlerCPU()
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
			b.ReportMetric(float64(handlerCPU()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
		})
	}
}
