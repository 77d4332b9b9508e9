package api

import (
	"net/http"
	"strings"
)

// ProblemNotReady answers GET /readyz while the node syncs or, on a
// multi-node network, has no peers (503).
const ProblemNotReady = ProblemBase + "not-ready"

func init() {
	titles[ProblemNotReady] = "The node is not ready"
}

// Readiness says whether a node should be sent traffic (GET /readyz).
type Readiness interface {
	// NotReady returns why the node is not ready, one short reason each
	// (for example "syncing: height 10 of 250"), and none when it is
	// ready. It is called on every /readyz request and must be quick.
	NotReady() []string
}

// maxNotReadyBytes bounds the detail of a /readyz problem.
const maxNotReadyBytes = 1024

// handleReady is readiness: 200 {"status":"ready","height":N} when the
// node is caught up and (on a multi-node network) has peers, else 503
// not-ready with the reasons in the detail.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if s.cfg.Readiness != nil {
		if why := s.cfg.Readiness.NotReady(); len(why) > 0 {
			detail := strings.Join(why, "; ")
			if len(detail) > maxNotReadyBytes {
				detail = strings.ToValidUTF8(detail[:maxNotReadyBytes], "") + "…"
			}
			writeProblem(w, r, http.StatusServiceUnavailable, ProblemNotReady, "not ready: "+detail)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "height": s.ledger.State().Height})
}
