package api

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// ProblemMalformedRequest is the type of the answers that Go's HTTP server
// gives by itself, before any handler runs, to a request it cannot parse:
// 400 (a request line or header that is not HTTP, such as a malformed
// percent-encoding in the path, or a missing Host header), 417 (an Expect
// other than 100-continue), 431 (headers over the bound), 501 (an unknown
// transfer coding) and 505 (an HTTP version other than 1.x); and of a
// plain HTTP request sent to the HTTPS port (400).
const ProblemMalformedRequest = ProblemBase + "malformed-request"

func init() {
	titles[ProblemMalformedRequest] = "The request is not well-formed HTTP"
}

// Listener wraps ln so that the answers Go's HTTP server writes on its own
// (in plain text, before any handler runs) leave as problem+json with
// X-Content-Type-Options: nosniff, like every other error of the API.
// Connections that ln returns as *tls.Conn keep their TLS state (the
// server sees it through ConnectionState) but are served HTTP/1.1 only,
// since Go's server negotiates HTTP/2 only on a bare *tls.Conn: give ln a
// tls.Config whose NextProtos is {"http/1.1"}.
//
// The rewriting relies on the exact form of those answers: one write of
// a status line, "Content-Type: text/plain; charset=utf-8" and
// "Connection: close" (no Date header, which every response a handler
// writes carries), or a bodiless 417.
func Listener(ln net.Listener) net.Listener { return problemListener{ln} }

type problemListener struct{ net.Listener }

func (l problemListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*tls.Conn); ok {
		return &problemTLSConn{problemConn: problemConn{Conn: tc}, tls: tc}, nil
	}
	return &problemConn{Conn: c}, nil
}

// problemConn rewrites the server's own plain-text answers.
type problemConn struct{ net.Conn }

func (c *problemConn) Write(b []byte) (int, error) {
	if p, ok := rewriteServerAnswer(b); ok {
		if _, err := c.Conn.Write(p); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return c.Conn.Write(b)
}

// TLSHandshakeTimeout bounds the TLS handshake of a connection accepted
// by [Listener].
const TLSHandshakeTimeout = 10 * time.Second

// problemTLSConn is a problemConn over TLS. It completes the handshake
// before the server asks for its state (net/http reads it once, before the
// first request), so that handlers see Request.TLS, and answers a plain
// HTTP request to the TLS port with a problem too.
type problemTLSConn struct {
	problemConn
	tls  *tls.Conn
	once sync.Once
	herr error
}

// handshake runs the TLS handshake once, within TLSHandshakeTimeout.
func (c *problemTLSConn) handshake() error {
	c.once.Do(func() {
		_ = c.tls.SetDeadline(time.Now().Add(TLSHandshakeTimeout))
		c.herr = c.tls.Handshake()
		_ = c.tls.SetDeadline(time.Time{})
		var re tls.RecordHeaderError
		if errors.As(c.herr, &re) && re.Conn != nil && looksLikeHTTP(re.RecordHeader[:]) {
			_, _ = re.Conn.Write(problemResponse(http.StatusBadRequest, "the client sent an HTTP request to an HTTPS server"))
			_ = re.Conn.Close()
		}
	})
	return c.herr
}

// ConnectionState lets http.Server fill Request.TLS.
func (c *problemTLSConn) ConnectionState() tls.ConnectionState {
	_ = c.handshake()
	return c.tls.ConnectionState()
}

func (c *problemTLSConn) Read(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.tls.Read(b)
}

func looksLikeHTTP(hdr []byte) bool {
	for _, m := range []string{"GET /", "HEAD ", "POST ", "PUT /", "OPTIO", "DELET", "PATCH", "CONNE", "TRACE"} {
		if bytes.HasPrefix([]byte(m), hdr) || bytes.HasPrefix(hdr, []byte(m)) {
			return true
		}
	}
	return false
}

// serverAnswer matches what net/http's conn.serve writes itself.
var serverAnswer = regexp.MustCompile(`(?s)\AHTTP/1\.1 ([45][0-9][0-9]) [^\r\n]*\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n(.*)\z`)

// expectationFailed matches net/http's bodiless 417; no handler of the
// API answers 417.
var expectationFailed = regexp.MustCompile(`\AHTTP/1\.1 417 [^\r\n]*\r\n(?:[!-9;-~]+: [^\r\n]*\r\n)*\r\n\z`)

// rewriteServerAnswer returns the problem+json form of one of the
// server's own answers, and whether b was one.
func rewriteServerAnswer(b []byte) ([]byte, bool) {
	// Every write of every response comes here: a byte test first, so
	// that body chunks and 2xx/3xx heads never reach the expressions.
	const head = "HTTP/1.1 "
	if len(b) < len(head)+1 || string(b[:len(head)]) != head || (b[len(head)] != '4' && b[len(head)] != '5') {
		return nil, false
	}
	if m := serverAnswer.FindSubmatch(b); m != nil {
		code, _ := strconv.Atoi(string(m[1]))
		// The body is "CODE Status text[: detail]".
		detail := string(bytes.TrimPrefix(m[2], append(m[1], ' ')))
		return problemResponse(code, detail), true
	}
	if expectationFailed.Match(b) {
		return problemResponse(http.StatusExpectationFailed, "the only expectation this server meets is 100-continue"), true
	}
	return nil, false
}

// problemResponse is a whole HTTP/1.1 response carrying a
// malformed-request problem; the connection closes after it.
func problemResponse(code int, detail string) []byte {
	body, _ := json.Marshal(Problem{Type: ProblemMalformedRequest, Title: titles[ProblemMalformedRequest], Status: code, Detail: detail})
	body = append(body, '\n')
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nX-Content-Type-Options: nosniff\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		code, http.StatusText(code), mediaProblem, len(body))
	b.Write(body)
	return b.Bytes()
}

// CloseWrite half-closes the connection where the transport can, so that
// the server's graceful close after an answer keeps working.
func (c *problemConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
