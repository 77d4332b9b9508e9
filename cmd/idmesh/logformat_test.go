package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogFormatJSON: with --log-format json every line a node writes,
// the banner on stdout and the log on stderr, is a JSON object; the
// banner names the address and no secret; a request's log lines carry
// its X-Request-ID, including those logged below the HTTP layer (the
// did:web resolver's).
func TestLogFormatJSON(t *testing.T) {
	home := t.TempDir()
	p := startDev(t, home, "--log-format", "json")
	token, err := os.ReadFile(filepath.Join(home, "api-token"))
	if err != nil {
		t.Fatal(err)
	}
	var serving bool
	for _, l := range p.banner {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("banner line is not JSON: %q", l)
		}
		if rec["msg"] == "serving" && rec["url"] == p.url {
			serving = true
		}
		if strings.Contains(l, strings.TrimSpace(string(token))) {
			t.Fatalf("the banner shows the API token: %q", l)
		}
	}
	if !serving {
		t.Fatalf("no serving record in %q", p.banner)
	}

	// A did:web DID on localhost, whose address the resolver refuses to
	// dial (no DNS, no network): it logs why, with the request's context.
	req, err := http.NewRequest(http.MethodGet, p.url+"/1.0/identifiers/did:web:localhost%3A1", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Request-ID", "e2e-log-1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("X-Request-ID"); got != "e2e-log-1" {
		t.Fatalf("X-Request-ID = %q", got)
	}
	p.stop()

	msgs := map[string]bool{}
	p.mu.Lock()
	logs := p.logs.String()
	p.mu.Unlock()
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		if rec["request_id"] == "e2e-log-1" {
			msgs[rec["msg"].(string)] = true
		}
	}
	for _, want := range []string{"http", "did:web document not retrieved"} {
		if !msgs[want] {
			t.Errorf("no %q record with the request ID; records with it: %v", want, msgs)
		}
	}
}
