package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"
)

// staticRoutes dispatches the requests for routes whose path has no
// variables (POST /credentials/verify, the busiest endpoint, among them)
// without the router's walk through every route's pattern: by the
// request's escaped path (the router's UseEncodedPath) and method.
//
// A route enters the table only if the router itself picks that route for
// its path and method (newStaticRoutes asks it), so the table sends a
// request nowhere the router would not; everything else (routes with
// variables, a known path with another method: 405, unknown paths: 404)
// goes to the router. A handler reached through the table sees no route
// variables (mux.Vars is nil), as a route without variables has none.
type staticRoutes map[string]map[string]staticRoute

// staticRoute is a route of the table: its name and its handler, as
// registered in the router.
type staticRoute struct {
	name string
	h    http.Handler
}

// newStaticRoutes builds the table of routes without variables, each
// registered in router with handlers[i] (routes[i]'s handler, as
// registered).
func newStaticRoutes(router *mux.Router, routes []route, handlers []http.Handler) staticRoutes {
	t := staticRoutes{}
	for i, rt := range routes {
		if strings.ContainsAny(rt.path, "{}") {
			continue
		}
		for _, m := range methods(rt.method) {
			req := &http.Request{Method: m, URL: &url.URL{Path: rt.path}, Header: http.Header{}}
			var match mux.RouteMatch
			if !router.Match(req, &match) || match.MatchErr != nil || match.Route == nil || match.Route.GetName() != rt.name {
				continue // another route (or none) answers it: leave it to the router
			}
			if t[rt.path] == nil {
				t[rt.path] = map[string]staticRoute{}
			}
			t[rt.path][m] = staticRoute{rt.name, handlers[i]}
		}
	}
	return t
}

// handler returns the handler of r's route when the table has it, else
// nil (the router decides).
func (t staticRoutes) handler(r *http.Request) http.Handler {
	return t[r.URL.EscapedPath()][r.Method].h
}
