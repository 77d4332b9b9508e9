package main

import (
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/api"
)

// authGet is a GET with the API token as bearer token.
func authGet(t testing.TB, u, token string) httpResult {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

// TestUIServedDev: `idmesh dev` serves the web UI: GET / is the
// explorer page (200, HTML, the CSP) and its modules and style load.
func TestUIServedDev(t *testing.T) {
	n := startDevNode(t)
	r := get(t, n.url+"/", "")
	if r.status != http.StatusOK || r.contentType != "text/html; charset=utf-8" || !strings.Contains(string(r.body), `id="page-explorer"`) {
		t.Fatalf("GET /: %d %s %.200s", r.status, r.contentType, r.body)
	}
	for _, a := range []string{"app.js", "explorer.js", "did.js", "verify.js", "issuer.js", "util.js", "style.css"} {
		if r := get(t, n.url+"/ui/"+a, ""); r.status != http.StatusOK {
			t.Fatalf("/ui/%s: %d", a, r.status)
		}
	}
	res, err := http.Get(n.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'self'") {
		t.Fatalf("CSP %q", csp)
	}
}

// TestIssuedCredentialsDev: through the real binary, GET
// /v1/issuers/{name}/credentials lists what an issuer issued with
// status entries, a page at a time; a revocation shows on the list once
// committed; another issuer's credentials are not listed; a bad limit
// is 400, an unknown issuer 404, no token 401.
func TestIssuedCredentialsDev(t *testing.T) {
	n := startDevNode(t)
	uni := n.createIssuer(t, "uni")
	n.createIssuer(t, "other")
	var ids []string
	for i := range 3 {
		c := degree(uni)
		c["id"] = fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-00000000000%d", i)
		ids = append(ids, n.issue(t, c, nil)["id"].(string))
	}
	n.issue(t, degree(n.issuerDID(t, "other")), nil)
	if r := n.setStatus(t, ids[1], "revocation", true); r.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	list := func(q string) api.IssuedList {
		t.Helper()
		r := authGet(t, n.url+"/v1/issuers/uni/credentials?"+q, n.token)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", q, r.status, r.body)
		}
		return decode[api.IssuedList](t, r)
	}
	p1 := list("limit=2")
	if p1.Issuer != uni || len(p1.Credentials) != 2 || p1.Next == "" {
		t.Fatalf("page 1: %+v", p1)
	}
	p2 := list("limit=2&after=" + url.QueryEscape(p1.Next))
	if len(p2.Credentials) != 1 || p2.Next != "" {
		t.Fatalf("page 2: %+v", p2)
	}
	all := append(p1.Credentials, p2.Credentials...)
	for i, c := range all {
		if c.ID != ids[i] || len(c.Entries) != 2 {
			t.Fatalf("credential %d: %+v, want %s", i, c, ids[i])
		}
		for _, e := range c.Entries {
			want := i == 1 && e.Purpose == "revocation"
			if e.Set == nil || *e.Set != want {
				t.Fatalf("%s %s: set %v, want %v", c.ID, e.Purpose, e.Set, want)
			}
		}
	}
	for q, want := range map[string]int{"limit=0": 400, "limit=101": 400, "limit=x": 400, "after=" + strings.Repeat("a", 3000): 400} {
		if r := authGet(t, n.url+"/v1/issuers/uni/credentials?"+q, n.token); r.status != want {
			t.Fatalf("%.30s: %d %s", q, r.status, r.body)
		}
	}
	if r := authGet(t, n.url+"/v1/issuers/nobody/credentials", n.token); r.status != http.StatusNotFound {
		t.Fatalf("unknown issuer: %d %s", r.status, r.body)
	}
	if r := authGet(t, n.url+"/v1/issuers/uni/credentials", ""); r.status != http.StatusUnauthorized {
		t.Fatalf("no token: %d %s", r.status, r.body)
	}
}

// issuerDID returns the DID of the node's issuer called name.
func (n devNode) issuerDID(t *testing.T, name string) string {
	t.Helper()
	r := authGet(t, n.url+"/v1/issuers", n.token)
	list := decode[struct {
		Issuers []struct{ Name, DID string } `json:"issuers"`
	}](t, r)
	for _, i := range list.Issuers {
		if i.Name == name {
			return i.DID
		}
	}
	t.Fatalf("no issuer %s: %s", name, r.body)
	return ""
}

// TestCORSOriginsDev: `idmesh dev --cors-origins` answers the listed
// origin's preflight (Authorization allowed) and its requests with its
// origin, and nothing for another origin; `--cors-origins *` lets any
// origin read; a value that is not an origin is a usage error (exit 2,
// one line naming the flag) before anything serves, for idmesh node too.
func TestCORSOriginsDev(t *testing.T) {
	const wallet = "https://wallet.example"
	n := startDevNode(t, "--cors-origins", wallet+", http://127.0.0.1:5173")
	req, _ := http.NewRequest(http.MethodOptions, n.url+"/credentials/issue", nil)
	req.Header.Set("Origin", wallet)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "Authorization, Content-Type")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != wallet || !strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight: %d %v", res.StatusCode, res.Header)
	}
	for origin, want := range map[string]string{wallet: wallet, "http://127.0.0.1:5173": "http://127.0.0.1:5173", "https://evil.example": ""} {
		req, _ := http.NewRequest(http.MethodGet, n.url+"/v1/issuers", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Authorization", "Bearer "+n.token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != want {
			t.Fatalf("%s: %d, Access-Control-Allow-Origin %q, want %q", origin, res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"), want)
		}
	}
	anyone := startDevNode(t, "--cors-origins", "*")
	req, _ = http.NewRequest(http.MethodGet, anyone.url+"/v1/status", nil)
	req.Header.Set("Origin", "https://anyone.example")
	if res, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("*: %v", res.Header)
	}
	for _, bad := range []string{"wallet.example", "https://wallet.example/app", "node:https://wallet.example/"} {
		cmd, bad := "dev", bad
		if rest, ok := strings.CutPrefix(bad, "node:"); ok {
			cmd, bad = "node", rest
		}
		home := filepath.Join(t.TempDir(), "home")
		out, errOut, code := cli(t, closedPort(t), filepath.Join(t.TempDir(), "ks.json"), cmd, "--home", home, "--http", "127.0.0.1:0", "--cors-origins", bad)
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if code != exitUsage || len(lines) != 1 || !strings.Contains(lines[0], "--cors-origins") || strings.Contains(out, "serving") {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q", bad, code, out, errOut)
		}
	}
}
