package api_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/idmesh/idmesh/api"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRequestIDs goes through a real HTTP server: every answer (a
// handler's, a 404, a 405) carries X-Request-ID, a new one per request
// unless the client sent a well-formed one, which is kept; a malformed
// or oversized one is replaced; the request's log line names it.
func TestRequestIDs(t *testing.T) {
	logs := &syncBuffer{}
	s := mustServer(t, func(c *api.Config) {
		c.Log = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	id := func(method, path, sent string) string {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, ts.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if sent != "" {
			req.Header.Set(api.RequestIDHeader, sent)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		got := res.Header.Get(api.RequestIDHeader)
		if got == "" {
			t.Fatalf("%s %s: no %s", method, path, api.RequestIDHeader)
		}
		return got
	}
	seen := map[string]bool{}
	for _, target := range []struct{ method, path string }{{"GET", "/healthz"}, {"GET", "/healthz"}, {"GET", "/no/such"}, {"POST", "/v1/status"}, {"GET", "/readyz"}} {
		got := id(target.method, target.path, "")
		if seen[got] || len(got) > api.MaxRequestIDBytes {
			t.Errorf("%s %s: request ID %q repeated or too long", target.method, target.path, got)
		}
		seen[got] = true
	}
	if got := id("GET", "/healthz", "lb-7f3a:42_x.y"); got != "lb-7f3a:42_x.y" {
		t.Errorf("a well-formed client ID was replaced by %q", got)
	}
	for _, bad := range []string{strings.Repeat("a", api.MaxRequestIDBytes+1), "two words", "a\"b", "é", "a/b", "x\tb"} {
		if got := id("GET", "/healthz", bad); got == bad || seen[got] {
			t.Errorf("client ID %q: answered %q", bad, got)
		} else {
			seen[got] = true
		}
	}
	// The log line of a request names its ID.
	got := id("GET", "/v1/status", "trace-me-1")
	if !strings.Contains(logs.String(), `"request_id":"`+got+`"`) {
		t.Errorf("no log line names request %s:\n%s", got, logs.String())
	}
}

// TestLogHandler: records logged with a request's context name its ID
// once, however many times the handler was wrapped; records without one
// name none.
func TestLogHandler(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(api.LogHandler(api.LogHandler(slog.NewJSONHandler(&b, nil)))).With("component", "test")
	log.InfoContext(t.Context(), "inner", "k", 1)
	if strings.Contains(b.String(), "request_id") {
		t.Fatalf("a record without a request names one: %s", b.String())
	}
	b.Reset()
	log.InfoContext(api.WithRequestID(t.Context(), "r-1"), "inner", "k", 1)
	if n := strings.Count(b.String(), `"request_id":"r-1"`); n != 1 {
		t.Fatalf("request_id %d times in %s", n, b.String())
	}
}
