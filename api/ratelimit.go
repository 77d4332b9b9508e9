package api

import (
	"net/http"
	"strconv"
)

// overRate answers 429 and reports true when r's client is over its rate
// (the verification limits' token bucket, which challenges share: a
// presentation costs one of each). Bearer-token holders are exempt.
func (s *Server) overRate(w http.ResponseWriter, r *http.Request) bool {
	l := s.limits
	if l.rate == nil || s.hasToken(r) {
		return false
	}
	ok, retry := l.rate.allow(l.client(r), s.now())
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
		if s.overRate(w, r) {
			return
		}
		h(w, r)
	}
}
