package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry/registrytest"
)

// BenchmarkRevocations measures revocations committed per second through
// POST /credentials/status on an `idmesh dev` process: 4,000 credentials
// issued with a revocation entry, then revoked by 256 concurrent clients,
// each waiting for its commit. Changes to one list are batched into one
// new list version per round, so a block carries many revocations; it
// also reports the versions published and the chain bytes each added.
// Like BenchmarkNetwork it needs real processes:
//
//	IDMESH_BENCH_NET=1 go test -run '^$' -bench Revocations -benchtime 1x ./cmd/idmesh/
func BenchmarkRevocations(b *testing.B) {
	if knob("IDMESH_BENCH_NET") == "" {
		b.Skip("set IDMESH_BENCH_NET=1 to run the node as a process")
	}
	for b.Loop() {
		benchRevocations(b, 4000, 256)
	}
}

func benchRevocations(b *testing.B, creds, clients int) {
	home := filepath.Join(b.TempDir(), "home")
	n := startProc(b, "dev", "dev", "--home", home, "--http", "127.0.0.1:0", "--log-level", "error")
	defer n.stop()
	tok, err := os.ReadFile(filepath.Join(home, "api-token"))
	if err != nil {
		b.Fatal(err)
	}
	token := strings.TrimSpace(string(tok))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	post := func(path string, body any) (int, []byte) {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, n.url+path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return 0, []byte(err.Error())
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out
	}
	code, out := post("/v1/issuers", map[string]any{"name": "uni"})
	if code != http.StatusCreated {
		b.Fatalf("issuer: %d %s", code, out)
	}
	var iss struct{ DID string }
	_ = json.Unmarshal(out, &iss)

	// Issue in parallel; every credential gets a revocation entry.
	ids := make([]string, creds)
	parallel(clients/4, creds, func(i int) {
		c := degree(iss.DID)
		c["id"] = fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", i)
		code, out := post("/credentials/issue", map[string]any{"credential": c, "options": map[string]any{"statusPurposes": []string{"revocation"}, "format": "eddsa-jcs-2022"}})
		if code != http.StatusCreated {
			b.Errorf("issue: %d %s", code, out)
			return
		}
		ids[i] = c["id"].(string)
	})
	if b.Failed() {
		return
	}
	before, err := registrytest.DirSize(filepath.Join(home, "chain"))
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	heights := map[float64]bool{}
	start := time.Now()
	parallel(clients, creds, func(i int) {
		code, out := post("/credentials/status", map[string]any{"credentialId": ids[i],
			"credentialStatus": map[string]any{"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": true})
		if code != http.StatusOK {
			b.Errorf("revoke: %d %s", code, out)
			return
		}
		var r struct{ Height float64 }
		_ = json.Unmarshal(out, &r)
		mu.Lock()
		heights[r.Height] = true
		mu.Unlock()
	})
	elapsed := time.Since(start)
	if b.Failed() {
		return
	}
	after, err := registrytest.DirSize(filepath.Join(home, "chain"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(creds)/elapsed.Seconds(), "revocations/s")
	b.ReportMetric(float64(len(heights)), "versions")
	b.ReportMetric(float64(creds)/float64(len(heights)), "revocations/version")
	b.ReportMetric(float64(after-before)/float64(len(heights)), "chain-B/version")
}

// parallel runs f(0..n-1) on workers goroutines.
func parallel(workers, n int, f func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
