package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

func mustStaticServer(t *testing.T) *Server {
	t.Helper()
	c, err := registrytest.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	nd, err := node.New(c.Chain, node.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(Config{Ledger: nd, Resolver: did.Methods{idmesh.Method: &idmesh.Resolver{State: registry.ReaderOf(c.Store)}}, State: c.Store})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStaticRoutesMatchRouter holds the table of routes without variables
// to the router: for every route's path (and near misses of it) and every
// method, the table answers only where the router picks the same route,
// and it answers for every route without variables.
func TestStaticRoutesMatchRouter(t *testing.T) {
	s := mustStaticServer(t)
	var paths []string
	static := 0
	for _, rt := range s.routes() {
		p := rt.path
		paths = append(paths, p, p+"/", strings.ToUpper(p), strings.Replace(p, "/", "//", 1), p+"%2F", strings.Replace(p, "/", "%2F", 2), strings.ReplaceAll(p, "{", "x{"))
		if !strings.Contains(p, "{") {
			static++
		}
	}
	entries := 0
	for _, byMethod := range s.static {
		entries += len(byMethod)
	}
	if entries < static {
		t.Fatalf("%d entries in the table for %d routes without variables", entries, static)
	}
	for _, p := range paths {
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions, "post", "get"} {
			req := httptest.NewRequest(http.MethodGet, "http://node.example/", nil)
			req.Method = m
			req.URL.Path, req.URL.RawPath = p, ""
			if strings.Contains(p, "%") {
				req.URL.RawPath = p
				req.URL.Path = strings.ReplaceAll(p, "%2F", "/")
			}
			var match mux.RouteMatch
			matched := s.router.Match(req, &match) && match.MatchErr == nil && match.Route != nil
			got := s.static[req.URL.EscapedPath()][m]
			switch {
			case got.h == nil && matched && !strings.Contains(mustTemplate(t, match.Route), "{"):
				t.Errorf("%s %s: the router picks %s, a route without variables, the table has none", m, p, match.Route.GetName())
			case got.h == nil:
			case !matched:
				t.Errorf("%s %s: the table has %s, the router picks no route (%v)", m, p, got.name, match.MatchErr)
			case match.Route.GetName() != got.name:
				t.Errorf("%s %s: the table has %s, the router picks %s", m, p, got.name, match.Route.GetName())
			}
		}
	}
}

func mustTemplate(t *testing.T, r *mux.Route) string {
	t.Helper()
	tpl, err := r.GetPathTemplate()
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}
