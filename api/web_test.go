package api_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/api/ui"
	"github.com/idmesh/idmesh/schemas"
)

// uiServer is a real HTTP server over a test API server, not wrapped in
// the OpenAPI checks (the UI's pages are not API).
func uiServer(t *testing.T, mutate func(*api.Config)) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(mustServer(t, mutate).Server)
	t.Cleanup(ts.Close)
	return ts
}

func request(t *testing.T, method, target string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

// wantUIHeaders checks the security headers every UI response carries.
func wantUIHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("%s: Content-Security-Policy %q lacks %s", what, csp, d)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("%s: Content-Security-Policy %q allows inline code", what, csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", what, h.Get("X-Content-Type-Options"))
	}
	if h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("%s: X-Frame-Options %q, Referrer-Policy %q", what, h.Get("X-Frame-Options"), h.Get("Referrer-Policy"))
	}
}

// TestUIIndex: GET / answers 200 with the explorer page itself (no
// redirect), as HTML, with the security headers; HEAD the same without
// a body.
func TestUIIndex(t *testing.T) {
	ts := uiServer(t, nil)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if !bytes.Contains(body, []byte(`id="page-explorer"`)) || !bytes.Contains(body, []byte(`<script type="module" src="/ui/app.js">`)) {
		t.Fatalf("GET / is not the explorer:\n%.400s", body)
	}
	wantUIHeaders(t, "GET /", res.Header)
	res, body = request(t, http.MethodHead, ts.URL+"/")
	if res.StatusCode != http.StatusOK || len(body) != 0 {
		t.Fatalf("HEAD /: %d with %d bytes", res.StatusCode, len(body))
	}
	wantUIHeaders(t, "HEAD /", res.Header)
}

// TestUIAssets: every embedded asset is served at /ui/NAME with its
// media type and the security headers, exactly the embedded bytes; no
// asset has inline script or style (the CSP would block it), an event
// handler attribute, or innerHTML; an unknown asset, a dotted name and
// an escaped path are 404 problems that carry the headers too.
func TestUIAssets(t *testing.T) {
	ts := uiServer(t, nil)
	names := ui.Names()
	if len(names) < 7 {
		t.Fatalf("only %d assets: %v", len(names), names)
	}
	for _, name := range names {
		want, ct, ok := ui.Asset(name)
		if !ok {
			t.Fatalf("asset %s not found", name)
		}
		res, body := request(t, http.MethodGet, ts.URL+"/ui/"+name)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != ct || !bytes.Equal(body, want) {
			t.Fatalf("/ui/%s: %d %s, %d bytes (want %s, %d)", name, res.StatusCode, res.Header.Get("Content-Type"), len(body), ct, len(want))
		}
		wantUIHeaders(t, "/ui/"+name, res.Header)
		low := strings.ToLower(string(body))
		for _, bad := range []string{"innerhtml", "outerhtml", "insertadjacenthtml", "document.write", "eval(", "new function", " style=", "<style", " onclick", " onload", " onerror", "javascript:"} {
			if strings.Contains(low, bad) {
				t.Errorf("/ui/%s contains %q", name, bad)
			}
		}
		if strings.HasSuffix(name, ".html") && strings.Count(low, "<script") != strings.Count(low, "<script type=\"module\" src=") {
			t.Errorf("/ui/%s has an inline script", name)
		}
		if strings.Contains(low, "http://") && !strings.HasSuffix(name, ".svg") || strings.Contains(low, "https://cdn") || strings.Contains(low, "//unpkg") {
			t.Errorf("/ui/%s refers to another host", name)
		}
	}
	for _, p := range []string{"/ui/nope.js", "/ui/.hidden.js", "/ui/..%2fui.go", "/ui/static%2findex.html", "/ui/ui.go", "/ui/"} {
		res, body := request(t, http.MethodGet, ts.URL+p)
		if res.StatusCode != http.StatusNotFound || res.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%s: %d %s %s", p, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		if p != "/ui/" && p != "/ui/..%2fui.go" && p != "/ui/static%2findex.html" {
			wantUIHeaders(t, p, res.Header)
		}
	}
}

// TestQRCode: GET /v1/qr answers an SVG QR code (well-formed XML, the
// UI's headers) of its data; no data, more than MaxQRBytes and invalid
// UTF-8 are 400 problems; a client over its request rate gets 429;
// every answer matches openapi.yaml.
func TestQRCode(t *testing.T) {
	s := mustServer(t, nil)
	w := s.do(http.MethodGet, "/v1/qr?data="+url.QueryEscape("openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fnode.example%2Fo%2F1"), nil)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("%d %s %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	wantUIHeaders(t, "/v1/qr", w.Header())
	var svg struct {
		XMLName xml.Name
		ViewBox string `xml:"viewBox,attr"`
	}
	if err := xml.Unmarshal(w.Body.Bytes(), &svg); err != nil || svg.XMLName.Local != "svg" || svg.ViewBox == "" {
		t.Fatalf("not an SVG (%v): %.200s", err, w.Body)
	}
	if bytes.Contains(w.Body.Bytes(), []byte("credential_offer")) {
		t.Fatal("the SVG carries the data as text")
	}
	for _, q := range []string{"", "data=", "data=" + strings.Repeat("a", api.MaxQRBytes+1), "data=%ff%fe"} {
		w := s.do(http.MethodGet, "/v1/qr?"+q, nil)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "invalid-parameter") {
			t.Fatalf("?%.40s: %d %s", q, w.Code, w.Body)
		}
	}
	if w := s.do(http.MethodGet, "/v1/qr?data="+strings.Repeat("a", api.MaxQRBytes), nil); w.Code != http.StatusOK {
		t.Fatalf("%d bytes: %d %s", api.MaxQRBytes, w.Code, w.Body)
	}
	// Many at once from one client: its token bucket answers 429.
	limited := mustServer(t, func(c *api.Config) {
		c.VerifyRate, c.VerifyBurst, c.Now = 0.001, 3, func() time.Time { return time.Unix(1e9, 0) }
	})
	codes := map[int]int{}
	for range 10 {
		codes[limited.do(http.MethodGet, "/v1/qr?data=x", nil).Code]++
	}
	if codes[http.StatusOK] != 3 || codes[http.StatusTooManyRequests] != 7 {
		t.Fatalf("10 requests with a burst of 3: %v", codes)
	}
}

// TestBundledSchemas: GET /schemas lists every bundled schema with its
// $id and title, GET /schemas/{name} answers each file exactly as
// application/schema+json, an unknown name is a 404 problem.
func TestBundledSchemas(t *testing.T) {
	s := mustServer(t, nil)
	w := s.do(http.MethodGet, "/schemas", nil)
	var list struct {
		Schemas []api.BundledSchema `json:"schemas"`
	}
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &list) != nil || len(list.Schemas) != len(schemas.Names()) {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	for _, sc := range list.Schemas {
		raw, _ := schemas.Get(sc.Name)
		if !strings.HasPrefix(sc.ID, schemas.IDPrefix) || sc.Title == "" {
			t.Fatalf("%+v", sc)
		}
		w := s.do(http.MethodGet, "/schemas/"+sc.Name, nil)
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/schema+json" || !bytes.Equal(w.Body.Bytes(), raw) {
			t.Fatalf("/schemas/%s: %d %s", sc.Name, w.Code, w.Header().Get("Content-Type"))
		}
	}
	if w := s.do(http.MethodGet, "/schemas/nope", nil); w.Code != http.StatusNotFound {
		t.Fatalf("unknown: %d %s", w.Code, w.Body)
	}
}

// TestIssuedCredentialsRefused: GET /v1/issuers/{name}/credentials
// needs the API token (401 without it or with another), and a node
// without issuers answers 501; the answers match openapi.yaml. (The
// listing itself is tested through the real binary:
// TestIssuedCredentialsDev.)
func TestIssuedCredentialsRefused(t *testing.T) {
	s := mustServer(t, func(c *api.Config) { c.APIToken = "secret" })
	for _, h := range [][]string{nil, {"Authorization", "Bearer nope"}, {"Authorization", "Basic secret"}} {
		if w := s.do(http.MethodGet, "/v1/issuers/uni/credentials", nil, h...); w.Code != http.StatusUnauthorized {
			t.Fatalf("%v: %d %s", h, w.Code, w.Body)
		}
	}
	if w := s.do(http.MethodGet, "/v1/issuers/uni/credentials", nil, "Authorization", "Bearer secret"); w.Code != http.StatusNotImplemented {
		t.Fatalf("no issuers: %d %s", w.Code, w.Body)
	}
}
