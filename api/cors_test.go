package api_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/api"
)

// TestParseCORSOrigins: exact origins (normalised to lower case, each
// once) and "*" parse; a path, a query, a trailing slash, user info,
// another scheme or no host is refused with ErrBadOrigin.
func TestParseCORSOrigins(t *testing.T) {
	got, err := api.ParseCORSOrigins(" https://Wallet.Example , http://127.0.0.1:5173,*,https://wallet.example,")
	if err != nil || !slices.Equal(got, []string{"https://wallet.example", "http://127.0.0.1:5173", "*"}) {
		t.Fatalf("%q %v", got, err)
	}
	if got, err := api.ParseCORSOrigins(""); err != nil || len(got) != 0 {
		t.Fatalf("empty: %q %v", got, err)
	}
	for _, bad := range []string{"wallet.example", "https://wallet.example/", "https://wallet.example/app", "https://w.example?x=1", "https://u:p@w.example",
		"ftp://w.example", "https://", "null", "https://w.example#f", "*.example.com"} {
		if _, err := api.ParseCORSOrigins(bad); !errors.Is(err, api.ErrBadOrigin) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, err := api.ParseCORSOrigins(strings.Repeat("https://a.example,", 10) + strings.Repeat("*,", 3)); err != nil {
		t.Fatal(err)
	}
	many := make([]string, api.MaxCORSOrigins+1)
	for i := range many {
		many[i] = "https://a" + strings.Repeat("b", i) + ".example"
	}
	if _, err := api.ParseCORSOrigins(strings.Join(many, ",")); err == nil {
		t.Fatal("accepted more than MaxCORSOrigins")
	}
}

// TestCORS, over the real HTTP server: an allowed origin gets its own
// origin back (Vary: Origin) on reads and writes, and its preflight is
// answered 204 with the methods and the Authorization header; with "*"
// another origin reads (Access-Control-Allow-Origin: *) but its
// preflight for POST or for Authorization is refused (405, no CORS
// header), as is everything from an origin not listed; a node without
// --cors-origins sends no CORS header at all.
func TestCORS(t *testing.T) {
	const wallet = "https://wallet.example"
	ts := uiServer(t, func(c *api.Config) { c.CORSOrigins, c.APIToken = []string{wallet, "*"}, "secret" })
	acao := func(res *http.Response) string { return res.Header.Get("Access-Control-Allow-Origin") }

	res, _ := request(t, http.MethodGet, ts.URL+"/v1/status", "Origin", wallet)
	if res.StatusCode != http.StatusOK || acao(res) != wallet || !slices.Contains(res.Header.Values("Vary"), "Origin") || !strings.Contains(res.Header.Get("Access-Control-Expose-Headers"), "X-Request-ID") {
		t.Fatalf("allowed GET: %d %v", res.StatusCode, res.Header)
	}
	if res.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatal("credentials allowed: the API uses no cookies")
	}
	res, _ = request(t, http.MethodGet, ts.URL+"/v1/issuers", "Origin", wallet, "Authorization", "Bearer secret")
	if res.StatusCode != http.StatusOK || acao(res) != wallet {
		t.Fatalf("allowed GET with the token: %d %v", res.StatusCode, res.Header)
	}
	res, body := request(t, http.MethodOptions, ts.URL+"/credentials/issue", "Origin", wallet, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, content-type")
	if res.StatusCode != http.StatusNoContent || acao(res) != wallet || !strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Authorization") ||
		!strings.Contains(res.Header.Get("Access-Control-Allow-Methods"), "POST") || res.Header.Get("Access-Control-Max-Age") == "" || len(body) != 0 {
		t.Fatalf("allowed preflight: %d %v %s", res.StatusCode, res.Header, body)
	}

	const page = "https://anyone.example"
	res, _ = request(t, http.MethodGet, ts.URL+"/v1/status", "Origin", page)
	if res.StatusCode != http.StatusOK || acao(res) != "*" {
		t.Fatalf("* GET: %d %v", res.StatusCode, res.Header)
	}
	res, _ = request(t, http.MethodOptions, ts.URL+"/v1/status", "Origin", page, "Access-Control-Request-Method", "GET")
	if res.StatusCode != http.StatusNoContent || acao(res) != "*" || strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("* preflight GET: %d %v", res.StatusCode, res.Header)
	}
	for _, h := range [][]string{
		{"Access-Control-Request-Method", "POST"},
		{"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "Authorization"},
		{"Access-Control-Request-Method", "DELETE"},
	} {
		res, body := request(t, http.MethodOptions, ts.URL+"/credentials/verify", append([]string{"Origin", page}, h...)...)
		if res.StatusCode != http.StatusMethodNotAllowed || acao(res) != "" || res.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("* preflight %v: %d %v %s", h, res.StatusCode, res.Header, body)
		}
	}
	res, _ = request(t, http.MethodPost, ts.URL+"/credentials/verify", "Origin", page, "Content-Type", "application/json")
	if acao(res) != "" {
		t.Fatalf("* POST answered with CORS: %v", res.Header)
	}

	only := uiServer(t, func(c *api.Config) { c.CORSOrigins = []string{wallet} })
	for _, origin := range []string{"https://evil.example", "https://wallet.example.evil.example", "http://wallet.example", "null"} {
		res, _ := request(t, http.MethodGet, only.URL+"/v1/status", "Origin", origin)
		if acao(res) != "" {
			t.Fatalf("refused origin %s: %v", origin, res.Header)
		}
		res, _ = request(t, http.MethodOptions, only.URL+"/v1/status", "Origin", origin, "Access-Control-Request-Method", "GET")
		if res.StatusCode != http.StatusMethodNotAllowed || acao(res) != "" {
			t.Fatalf("refused preflight %s: %d %v", origin, res.StatusCode, res.Header)
		}
	}
	res, _ = request(t, http.MethodGet, only.URL+"/v1/status", "Origin", "HTTPS://WALLET.EXAMPLE")
	if acao(res) != "HTTPS://WALLET.EXAMPLE" {
		t.Fatalf("origin case: %v", res.Header)
	}

	none := uiServer(t, nil)
	res, _ = request(t, http.MethodGet, none.URL+"/v1/status", "Origin", wallet)
	for k := range res.Header {
		if strings.HasPrefix(k, "Access-Control-") {
			t.Fatalf("no --cors-origins, yet %s", k)
		}
	}
	res, _ = request(t, http.MethodOptions, none.URL+"/v1/status", "Origin", wallet, "Access-Control-Request-Method", "GET")
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("no --cors-origins, preflight: %d", res.StatusCode)
	}
}
