package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// tokenHash is the SHA-256 of the API token; the token itself is not kept.
type tokenHash [sha256.Size]byte

func hashToken(t string) *tokenHash {
	if t == "" {
		return nil
	}
	h := tokenHash(sha256.Sum256([]byte(t)))
	return &h
}

// authorized reports whether r carries the API token as a bearer token,
// answering 401 itself when not. Hashing both sides first makes the
// comparison constant-time whatever the lengths.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if s.token == nil {
		writeProblem(w, r, http.StatusUnauthorized, ProblemUnauthorized, "this node has no API token configured: set IDMESH_API_TOKEN")
		return false
	}
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if ok && strings.EqualFold(scheme, "Bearer") {
		got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
		if subtle.ConstantTimeCompare(got[:], s.token[:]) == 1 {
			return true
		}
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="idmesh"`)
	writeProblem(w, r, http.StatusUnauthorized, ProblemUnauthorized, "a valid bearer token is required")
	return false
}

// private wraps a handler that needs the API token.
func (s *Server) private(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.authorized(w, r) {
			h(w, r)
		}
	}
}
