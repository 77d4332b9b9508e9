package api

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"sync/atomic"
)

// RequestIDHeader carries a request's ID. Every answer has one: the
// client's own if it sent a well-formed one (1 to MaxRequestIDBytes of
// letters, digits and ".", "_", ":", "-"), else one the server made
// (a random prefix per server and a sequence number). The node's log
// line of the request names it (request_id).
const RequestIDHeader = "X-Request-ID"

// MaxRequestIDBytes bounds a client's request ID; a longer one is
// replaced.
const MaxRequestIDBytes = 64

// logKeyRequestID is the log attribute of a request's ID.
const logKeyRequestID = "request_id"

// requestIDs makes the IDs of requests that came without one.
type requestIDs struct {
	prefix string
	seq    atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return &requestIDs{prefix: hex.EncodeToString(b[:])}
}

// of returns r's ID: the client's if well-formed, else a new one.
func (ids *requestIDs) of(r *http.Request) string {
	if id := r.Header.Get(RequestIDHeader); validRequestID(id) {
		return id
	}
	return ids.prefix + "-" + strconv.FormatUint(ids.seq.Add(1), 10)
}

// validRequestID reports whether a client's ID may be kept: short, and
// nothing that could forge a log line or a header.
func validRequestID(id string) bool {
	if id == "" || len(id) > MaxRequestIDBytes {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}
