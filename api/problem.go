package api

import (
	"encoding/json"
	"net/http"
)

// ProblemBase prefixes every problem type this API defines.
const ProblemBase = "https://idmesh.dev/problems/"

// Problem types. Append-only: clients may switch on them.
const (
	ProblemInvalidJSON      = ProblemBase + "invalid-json"
	ProblemBodyTooLarge     = ProblemBase + "body-too-large"
	ProblemInvalidOperation = ProblemBase + "invalid-operation"
	ProblemUnauthorizedOp   = ProblemBase + "unauthorized-operation"
	ProblemConflict         = ProblemBase + "conflict"
	ProblemNotFound         = ProblemBase + "not-found"
	ProblemInvalidParameter = ProblemBase + "invalid-parameter"
	ProblemUnsupportedMedia = ProblemBase + "unsupported-media-type"
	ProblemMethodNotAllowed = ProblemBase + "method-not-allowed"
	ProblemUnavailable      = ProblemBase + "unavailable"
	ProblemInternal         = ProblemBase + "internal"
	ProblemUnauthorized     = ProblemBase + "unauthorized"
	// ProblemPruned (410) answers a read of a past state root that the
	// node pruned (older than its --state-retention).
	ProblemPruned = ProblemBase + "pruned"
	mediaProblem  = "application/problem+json"
	mediaJSON     = "application/json"
)

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Code is the ledger's result code, for rejected transactions.
	Code uint32 `json:"code,omitempty"`
}

var titles = map[string]string{
	ProblemInvalidJSON:      "The request body is not valid JSON",
	ProblemBodyTooLarge:     "The request body is too large",
	ProblemInvalidOperation: "The operation is invalid",
	ProblemUnauthorizedOp:   "The operation is not signed by an authorized key",
	ProblemConflict:         "The operation conflicts with the ledger's state",
	ProblemNotFound:         "Not found",
	ProblemInvalidParameter: "A parameter is invalid",
	ProblemUnsupportedMedia: "Unsupported media type",
	ProblemMethodNotAllowed: "Method not allowed",
	ProblemUnavailable:      "The service is temporarily unavailable",
	ProblemInternal:         "Internal error",
	ProblemUnauthorized:     "Authentication required",
	ProblemPruned:           "The state version is pruned",
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, typ, detail string) {
	writeProblemObject(w, r, Problem{Type: typ, Title: titles[typ], Status: status, Detail: detail})
}

func writeProblemObject(w http.ResponseWriter, r *http.Request, p Problem) {
	if p.Instance == "" && r != nil {
		p.Instance = r.URL.Path
	}
	writeJSONAs(w, p.Status, mediaProblem, p)
}

func writeJSON(w http.ResponseWriter, status int, v any) { writeJSONAs(w, status, mediaJSON, v) }

func writeJSONAs(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, contentType = http.StatusInternalServerError, mediaProblem
		b, _ = json.Marshal(Problem{Type: ProblemInternal, Title: titles[ProblemInternal], Status: status})
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
