package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

// FuzzRewriteServerAnswer: whatever is written, a rewrite is a whole
// problem+json response, and a response that carries a Date header (every
// response a handler writes does) is never rewritten.
func FuzzRewriteServerAnswer(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request",
		"HTTP/1.1 505 HTTP Version Not Supported: unsupported protocol version\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n505 HTTP Version Not Supported: unsupported protocol version",
		"HTTP/1.1 417 Expectation Failed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nDate: Fri, 04 Dec 2026 12:00:00 GMT\r\n\r\nx",
		"{\"a\":1}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out, ok := rewriteServerAnswer(b)
		head, _, _ := bytes.Cut(b, []byte("\r\n\r\n"))
		if ok && bytes.Contains(head, []byte("\r\nDate: ")) && !bytes.HasPrefix(b, []byte("HTTP/1.1 417 ")) {
			t.Fatalf("rewrote a response with a Date header: %q", b)
		}
		if !ok {
			return
		}
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), nil)
		if err != nil {
			t.Fatalf("rewrite %q is not a response: %v", out, err)
		}
		var p Problem
		if err := json.NewDecoder(resp.Body).Decode(&p); err != nil || resp.Header.Get("Content-Type") != mediaProblem ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" || p.Type != ProblemMalformedRequest || p.Status != resp.StatusCode || p.Status < 400 {
			t.Fatalf("rewrite %q: %+v %v", out, p, err)
		}
	})
}
