package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/idmesh/idmesh/api"
)

// TestCORSVaryEveryResponse (review 2, F6), over the real server: with
// CORS on, every response carries Vary: Origin, one to a request without
// Origin too (a cacheable /schemas, a 404), so that a shared cache never
// serves a response without Access-Control-Allow-Origin to an allowed
// page; without CORS no Vary is added.
func TestCORSVaryEveryResponse(t *testing.T) {
	ts := uiServer(t, func(c *api.Config) { c.CORSOrigins = []string{"https://app.example"} })
	for _, path := range []string{"/schemas", "/v1/status", "/no-such-route"} {
		for _, origin := range []string{"", "https://app.example", "https://evil.example"} {
			var h []string
			if origin != "" {
				h = []string{"Origin", origin}
			}
			res, _ := request(t, http.MethodGet, ts.URL+path, h...)
			if !slices.Contains(res.Header.Values("Vary"), "Origin") {
				t.Errorf("%s, Origin %q: %d, Vary %q", path, origin, res.StatusCode, res.Header.Values("Vary"))
			}
		}
	}
	none := uiServer(t, nil)
	res, _ := request(t, http.MethodGet, none.URL+"/schemas")
	if v := res.Header.Values("Vary"); slices.Contains(v, "Origin") {
		t.Fatalf("no CORS, yet Vary %q", v)
	}
}

// TestCORSDefaultPort (review 2, F7): an origin written with its
// scheme's default port parses to the browser's form, without it, and
// a browser's Origin then matches it; other ports stay.
func TestCORSDefaultPort(t *testing.T) {
	got, err := api.ParseCORSOrigins("https://App.Example:443, http://local.example:80, https://other.example:80, http://dev.example:8080, https://[::1]:443, https://app.example, https://bare.example:")
	want := []string{"https://app.example", "http://local.example", "https://other.example:80", "http://dev.example:8080", "https://[::1]", "https://bare.example"}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("%q %v, want %q", got, err, want)
	}
	o, err := api.ParseCORSOrigins("https://app.example:443")
	if err != nil {
		t.Fatal(err)
	}
	ts := uiServer(t, func(c *api.Config) { c.CORSOrigins = o })
	res, _ := request(t, http.MethodGet, ts.URL+"/v1/status", "Origin", "https://app.example")
	if res.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Fatalf("browser Origin refused: %v", res.Header)
	}
}

// TestPastProofsRateLimited (review 2, F8), over the real server: a
// proof at a past height (a block read and decode) counts against the
// client's request rate, 429 with Retry-After beyond it, for DIDs and
// status lists alike; a proof of the tip does not, a caller with the
// API token is exempt, and the bucket refills with the clock.
func TestPastProofsRateLimited(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
	s := mustChainServer(t, 2, func(c *api.Config) {
		c.VerifyRate, c.VerifyBurst, c.Now, c.APIToken = 0.5, 3, clock.Now, "secret"
	}, nil)
	d := s.dids[0]
	past := fmt.Sprintf("/v1/proofs/dids/%s?height=1", d)
	for i := range 3 {
		if status, _, body := s.get(t, past); status != http.StatusOK {
			t.Fatalf("proof %d: %d %s", i, status, body)
		}
	}
	for _, p := range []string{past, "/v1/proofs/status-lists/z6Mk-none?height=1", fmt.Sprintf("/v1/proofs/dids/%s?height=%d", d, 1<<40)} {
		status, h, body := s.get(t, p)
		if status != http.StatusTooManyRequests || h.Get("Retry-After") == "" || h.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%s over the rate: %d %v %s", p, status, h, body)
		}
	}
	for i := range 10 {
		if status, _, body := s.get(t, "/v1/proofs/dids/"+d); status != http.StatusOK {
			t.Fatalf("tip proof %d: %d %s", i, status, body)
		}
	}
	if status, _, body := s.get(t, past, "Authorization", "Bearer secret"); status != http.StatusOK {
		t.Fatalf("with the API token: %d %s", status, body)
	}
	clock.Add(2 * time.Second)
	if status, _, body := s.get(t, past); status != http.StatusOK {
		t.Fatalf("after the refill: %d %s", status, body)
	}
}
