package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
)

// TestPastProofRateAndCORS runs `idmesh dev` with a small request rate
// and a CORS origin written with its default port: proofs at a past
// height count against the client's rate (429 too-many-requests beyond
// the burst) while proofs of the tip do not; the browser's form of the
// origin is allowed, and every response carries Vary: Origin, one to a
// request without Origin too.
func TestPastProofRateAndCORS(t *testing.T) {
	n := startDev(t, filepath.Join(t.TempDir(), "home"), "--verify-rate", "0.001", "--verify-burst", "2",
		"--cors-origins", "https://app.example:443")
	chainID := n.status(t).ChainID
	commitCreate(t, n.url, chainID, 1)
	d := didOf(t, chainID, 1)
	h := n.status(t).Height
	past := fmt.Sprintf("%s/v1/proofs/dids/%s?height=%d", n.url, d, h)
	for i := range 2 {
		if r := get(t, past, ""); r.status != http.StatusOK {
			t.Fatalf("past proof %d: %d %s", i, r.status, r.body)
		}
	}
	if r := get(t, past, ""); r.status != http.StatusTooManyRequests || r.contentType != "application/problem+json" {
		t.Fatalf("past proof over the rate: %d %s", r.status, r.body)
	}
	for i := range 5 {
		if r := get(t, n.url+"/v1/proofs/dids/"+d, ""); r.status != http.StatusOK {
			t.Fatalf("tip proof %d: %d %s", i, r.status, r.body)
		}
	}
	for _, origin := range []string{"", "https://app.example"} {
		req, _ := http.NewRequest(http.MethodGet, n.url+"/v1/status", nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if !slices.Contains(res.Header.Values("Vary"), "Origin") || res.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Fatalf("Origin %q: Vary %q, ACAO %q", origin, res.Header.Values("Vary"), res.Header.Get("Access-Control-Allow-Origin"))
		}
	}
}
