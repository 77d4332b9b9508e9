package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idmesh/idmesh/api"
)

// fakeReadiness reports the reasons it is given.
type fakeReadiness struct {
	mu  sync.Mutex
	why []string
}

func (f *fakeReadiness) NotReady() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.why
}

func (f *fakeReadiness) set(why ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.why = why
}

// httpDo requests method target (of a real server) and reads the answer.
func httpDo(t *testing.T, method, target string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

// TestReadyz goes through a real HTTP server: /readyz answers 200
// {"status":"ready","height":N} when the readiness source has nothing
// against it (or there is none), and 503 not-ready problem+json naming
// every reason otherwise, never cached; /healthz stays 200 with its body
// all along (liveness only).
func TestReadyz(t *testing.T) {
	ready := &fakeReadiness{}
	reg := prometheus.NewRegistry()
	s := mustServer(t, func(c *api.Config) { c.Readiness = ready; c.Registry = reg })
	s.ledger.addBlock()
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)

	health := func() {
		t.Helper()
		res, body := httpDo(t, http.MethodGet, ts.URL+"/healthz")
		var h struct {
			Status string `json:"status"`
			Height uint64 `json:"height"`
		}
		if res.StatusCode != 200 || json.Unmarshal(body, &h) != nil || h.Status != "ok" || h.Height != 1 {
			t.Fatalf("/healthz %d %s", res.StatusCode, body)
		}
	}
	readyz := func(wantReasons ...string) {
		t.Helper()
		res, body := httpDo(t, http.MethodGet, ts.URL+"/readyz")
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q", cc)
		}
		if len(wantReasons) == 0 {
			var r struct {
				Status string `json:"status"`
				Height uint64 `json:"height"`
			}
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &r) != nil || r.Status != "ready" || r.Height != 1 {
				t.Fatalf("/readyz %d %q %s, want 200 ready at height 1", res.StatusCode, res.Header.Get("Content-Type"), body)
			}
			return
		}
		var p api.Problem
		if res.StatusCode != 503 || res.Header.Get("Content-Type") != "application/problem+json" || json.Unmarshal(body, &p) != nil {
			t.Fatalf("/readyz %d %q %s, want a 503 problem", res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		if p.Type != api.ProblemNotReady || p.Status != 503 || p.Title == "" || p.Instance != "/readyz" {
			t.Fatalf("problem %+v", p)
		}
		for _, w := range wantReasons {
			if !strings.Contains(p.Detail, w) {
				t.Errorf("detail %q lacks %q", p.Detail, w)
			}
		}
	}

	readyz()
	health()
	ready.set("syncing: height 1 of 300")
	readyz("syncing: height 1 of 300")
	health()
	ready.set("syncing: the start-up sync has not finished", "no peers: a multi-node network")
	readyz("syncing", "no peers")
	health()
	ready.set()
	readyz()

	// HEAD answers the status without a body; other methods are 405.
	ready.set("no peers")
	if res, body := httpDo(t, http.MethodHead, ts.URL+"/readyz"); res.StatusCode != 503 || len(body) != 0 {
		t.Errorf("HEAD /readyz %d with %d bytes", res.StatusCode, len(body))
	}
	if res, _ := httpDo(t, http.MethodPost, ts.URL+"/readyz"); res.StatusCode != 405 {
		t.Errorf("POST /readyz %d", res.StatusCode)
	}
	// A flood of reasons is cut to a bounded detail.
	ready.set(strings.Repeat("é", 10_000), "no peers")
	res, body := httpDo(t, http.MethodGet, ts.URL+"/readyz")
	var p api.Problem
	if res.StatusCode != 503 || json.Unmarshal(body, &p) != nil || len(p.Detail) > 1100 || !strings.HasSuffix(p.Detail, "…") || !strings.HasPrefix(p.Detail, "not ready: é") {
		t.Fatalf("oversized reasons: %d, detail of %d bytes", res.StatusCode, len(p.Detail))
	}
	// Many at once, while the answer flips.
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			if i%8 == 0 {
				ready.set()
			}
			res, err := http.Get(ts.URL + "/readyz")
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode != 200 && res.StatusCode != 503 {
				t.Errorf("status %d", res.StatusCode)
			}
		})
	}
	wg.Wait()
	// Counted under its own route.
	_, metrics := httpDo(t, http.MethodGet, ts.URL+"/metrics")
	if !strings.Contains(string(metrics), `route="readyz"`) {
		t.Error("/readyz requests not counted under route readyz")
	}
}

// TestReadyzWithoutSource: a server without a readiness source is ready
// whenever it serves.
func TestReadyzWithoutSource(t *testing.T) {
	s := mustServer(t, nil)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	if res, body := httpDo(t, http.MethodGet, ts.URL+"/readyz"); res.StatusCode != 200 || !strings.Contains(string(body), `"status":"ready"`) {
		t.Fatalf("/readyz %d %s", res.StatusCode, body)
	}
}

// TestStatusListCacheHitsMetric: the verifier's status list cache hits
// are a counter on /metrics, at 0 before any verification.
func TestStatusListCacheHitsMetric(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := mustServer(t, func(c *api.Config) { c.Registry = reg })
	if w := s.do(http.MethodGet, "/metrics", nil); !strings.Contains(w.Body.String(), "\nidmesh_statuslist_cache_hits_total 0\n") {
		t.Fatalf("metrics lack idmesh_statuslist_cache_hits_total 0:\n%s", w.Body)
	}
}
