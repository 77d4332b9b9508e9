package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// ErrBadOrigin reports a --cors-origins entry that is neither "*" nor
// an exact origin.
var ErrBadOrigin = errors.New("not an origin")

// MaxCORSOrigins bounds the origins of Config.CORSOrigins.
const MaxCORSOrigins = 256

// CORS header values.
const (
	corsReadMethods  = "GET, HEAD"
	corsAllMethods   = "GET, HEAD, POST"
	corsAllowHeaders = "Authorization, Content-Type, Accept, X-Request-ID"
	corsReadHeaders  = "Content-Type, Accept, X-Request-ID"
	corsExpose       = "X-Request-ID, Retry-After, WWW-Authenticate, Location"
	corsMaxAge       = "600"
)

// ParseCORSOrigins parses a comma-separated list of exact origins
// (scheme://host[:port], as a browser sends them in Origin), or "*".
// Each origin is returned in the browser's form: lower-case scheme and
// host, without the scheme's default port (:443 for https, :80 for http),
// which a browser never sends in Origin.
func ParseCORSOrigins(list string) ([]string, error) {
	var out []string
	for o := range strings.SplitSeq(list, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if o != "*" {
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.Opaque != "" || strings.HasSuffix(o, "/") {
				return nil, fmt.Errorf("%w: %q (write scheme://host[:port], without a path, or *)", ErrBadOrigin, o)
			}
			host := strings.TrimSuffix(u.Host, ":") // an empty port is no port
			if p := u.Port(); (u.Scheme == "https" && p == "443") || (u.Scheme == "http" && p == "80") {
				host = strings.TrimSuffix(host, ":"+p) // browsers send no default port
			}
			o = strings.ToLower(u.Scheme + "://" + host)
		}
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
		if len(out) > MaxCORSOrigins {
			return nil, fmt.Errorf("more than %d origins", MaxCORSOrigins)
		}
	}
	return out, nil
}

// cors is the CORS policy: the exact origins allowed everything the API
// offers (Authorization included), and, with "*", any other origin
// reads without credentials (GET and HEAD, no Authorization).
type cors struct {
	exact map[string]bool
	any   bool
}

func newCORS(origins []string) *cors {
	if len(origins) == 0 {
		return nil
	}
	c := &cors{exact: map[string]bool{}}
	for _, o := range origins {
		if o == "*" {
			c.any = true
		} else {
			c.exact[strings.ToLower(o)] = true
		}
	}
	return c
}

// handle sets the CORS headers of a response to r and answers a
// preflight itself (reporting true). A request from an origin that is
// not allowed gets no CORS header (the browser then refuses the answer
// to the page), and a preflight from one, or for a method or header it
// may not use, goes on to the router (405 method-not-allowed).
func (c *cors) handle(w http.ResponseWriter, r *http.Request) bool {
	if c == nil {
		return false
	}
	// Every response depends on Origin, one to a request without it too:
	// a shared cache must not serve it to a page of an allowed origin.
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	exact := c.exact[strings.ToLower(origin)]
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	switch {
	case exact:
		h.Set("Access-Control-Allow-Origin", origin)
	case c.any && (preflight || r.Method == http.MethodGet || r.Method == http.MethodHead):
		h.Set("Access-Control-Allow-Origin", "*")
	default:
		return false
	}
	h.Set("Access-Control-Expose-Headers", corsExpose)
	if !preflight {
		return false
	}
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	want := r.Header.Get("Access-Control-Request-Method")
	methods, headers := corsAllMethods, corsAllowHeaders
	if !exact {
		methods, headers = corsReadMethods, corsReadHeaders
	}
	if !slices.Contains(strings.Split(methods, ", "), want) || !allowedHeaders(r.Header.Get("Access-Control-Request-Headers"), headers) {
		// Refused: the router answers 405, without CORS headers.
		h.Del("Access-Control-Allow-Origin")
		h.Del("Access-Control-Expose-Headers")
		return false
	}
	h.Set("Access-Control-Allow-Methods", methods)
	h.Set("Access-Control-Allow-Headers", headers)
	h.Set("Access-Control-Max-Age", corsMaxAge)
	w.WriteHeader(http.StatusNoContent)
	return true
}

// allowedHeaders reports whether every header a preflight asks for is
// in allow.
func allowedHeaders(asked, allow string) bool {
	for a := range strings.SplitSeq(asked, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if !slices.ContainsFunc(strings.Split(allow, ", "), func(h string) bool { return strings.EqualFold(h, a) }) {
			return false
		}
	}
	return true
}
