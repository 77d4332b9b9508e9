package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/did"
)

// FuzzDereferenceRequest sends any identifier, query and Accept to the
// resolver endpoint and checks the answer's shape: a known status, a 303
// only to the service's own host with an empty body, and otherwise a JSON
// body of the negotiated type. Nothing panics (the server would answer
// 500) and no request redirects elsewhere.
func FuzzDereferenceRequest(f *testing.F) {
	for _, s := range []struct{ id, q, accept string }{
		{testDID + "%23key-1", "", ""},
		{testDID + "%23files", "versionId=v1", "application/did+json"},
		{testDID, "service=files&relativeRef=%2Fa%3Fb", ""},
		{testDID, "service=files&relativeRef=%2F%2Fevil", "*/*"},
		{"did%3Aexample%3A123%3Fservice%3Dfiles%23frag", "relativeRef=x", "application/did-url-dereferencing"},
		{testDID + "%23key-1", "service=files&service=files", "text/html"},
		{testDID, "service=many", ""},
		{"did%3Aexample%3A123%2Fp%23x", "", "application/ld+json"},
	} {
		f.Add(s.id, s.q, s.accept)
	}
	s := mustServer(f, func(c *api.Config) { c.ResolveCacheBytes = 1 << 20 })
	s.resolver.res.DIDDocument.VerificationMethod = []did.VerificationMethod{did.NewMultikey("#key-1", testDID, mustKeyFrom(f, 7).Public())}
	s.resolver.res.DIDDocument.Service = []did.Service{
		service("#files", `"https://files.example/base/"`),
		service("#many", `["https://a.example/","https://b.example/"]`),
	}
	known := map[int]bool{200: true, 303: true, 400: true, 404: true, 406: true, 410: true, 501: true}
	f.Fuzz(func(t *testing.T, id, q, accept string) {
		target := "/1.0/identifiers/" + id
		if q != "" {
			target += "?" + q
		}
		u, err := url.ParseRequestURI(target)
		if err != nil || strings.ContainsAny(accept, "\r\n\x00") {
			return
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL, req.RequestURI = u, target
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		ct := w.Header().Get("Content-Type")
		switch {
		case !known[w.Code]:
			t.Fatalf("%s (Accept %q): status %d %s", target, accept, w.Code, w.Body)
		case w.Code == http.StatusSeeOther:
			if loc := w.Header().Get("Location"); !strings.HasPrefix(loc, "https://files.example/") || w.Body.Len() != 0 {
				t.Fatalf("%s: 303 to %q, body %q", target, loc, w.Body)
			}
		case ct == "application/problem+json":
			// A path the router does not route (404 problem).
			if w.Code != http.StatusNotFound {
				t.Fatalf("%s: problem %d %s", target, w.Code, w.Body)
			}
		default:
			if ct == "" || !json.Valid(w.Body.Bytes()) {
				t.Fatalf("%s (Accept %q): %d %q %s", target, accept, w.Code, ct, w.Body)
			}
		}
	})
}
