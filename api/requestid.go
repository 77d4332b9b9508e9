package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
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

// requestIDKey is the context key of a request's ID.
type requestIDKey struct{}

// withRequestID returns ctx carrying a request's ID.
func withRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the ID of the HTTP request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// LogHandler wraps h so that every record logged with the context of an
// HTTP request (slog's *Context methods and LogAttrs) names the
// request's ID as request_id, whichever package logs it: the API's
// handlers, the issuer, the verifier and the resolvers they call. It is
// idempotent: wrapping a wrapped handler returns it unchanged.
func LogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(requestIDHandler); ok {
		return h
	}
	return requestIDHandler{h}
}

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String(logKeyRequestID, id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
