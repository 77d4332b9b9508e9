package api

import (
	"net/http"
	"net/netip"
	"strconv"
)

// overRate answers 429 and reports true when client (r's, l.client) is
// over its rate (the verification limits' token bucket, which challenges
// share: a presentation costs one of each). Bearer-token holders (token)
// are exempt. The caller computes token and client once per request.
func (s *Server) overRate(w http.ResponseWriter, r *http.Request, token bool, client netip.Addr) bool {
	l := s.limits
	if l.rate == nil || token {
		return false
	}
	ok, retry := l.rate.allow(client, s.now())
	if ok {
		return false
	}
	s.creds.refusal("rate")
	w.Header().Set("Retry-After", strconv.Itoa(retry))
	writeProblem(w, r, http.StatusTooManyRequests, ProblemTooManyRequests,
		"this client is over its request rate; retry after "+strconv.Itoa(retry)+"s")
	return true
}

// limitRate puts h under the per-client rate (challenges).
func (s *Server) limitRate(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.overRate(w, r, s.hasToken(r), s.limits.client(r)) {
			return
		}
		h(w, r)
	}
}
