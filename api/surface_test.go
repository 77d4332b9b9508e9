package api_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idmesh/idmesh/api"
)

// documentedRoutes lists every method and path of openapi.yaml with its
// parameters filled in. TestOpenAPICoversRoutes checks that every route
// of the router is there, so iterating these iterates the router.
func documentedRoutes(tb testing.TB) [][2]string {
	tb.Helper()
	doc := string(api.OpenAPI)
	re := regexp.MustCompile(`(?m)^  (/\S*):\n`)
	locs := re.FindAllStringSubmatchIndex(doc, -1)
	fill := strings.NewReplacer("{did}", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "{hash}", strings.Repeat("ab", 32),
		"{height}", "1", "{name}", "acme", "{mechanism}", "vc+jwt", "{id}", "list-1")
	var out [][2]string
	for i, l := range locs {
		end := len(doc)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		path, block := doc[l[2]:l[3]], doc[l[1]:end]
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			if strings.Contains(block, "    "+strings.ToLower(m)+":") {
				out = append(out, [2]string{m, fill.Replace(path)})
			}
		}
	}
	if len(out) < 20 {
		tb.Fatalf("found only %d routes in openapi.yaml", len(out))
	}
	return out
}

// serveReal serves s on a loopback listener wrapped as idmesh serves it.
func serveReal(tb testing.TB, s http.Handler) string {
	tb.Helper()
	ts := httptest.NewUnstartedServer(s)
	ts.Listener = api.Listener(ts.Listener)
	ts.Config.DisableGeneralOptionsHandler = true
	ts.Start()
	tb.Cleanup(ts.Close)
	return ts.Listener.Addr().String()
}

// raw sends one request as written and reads the response; http.Client
// would clean up some of what these tests send.
func raw(tb testing.TB, addr, method, request string) (*http.Response, []byte) {
	tb.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		tb.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		tb.Fatalf("read response to %q: %v", request, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, b
}

func wantProblem(tb testing.TB, resp *http.Response, body []byte, status int, typ string) {
	tb.Helper()
	if resp.StatusCode != status || resp.Header.Get("Content-Type") != "application/problem+json" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		tb.Fatalf("got %d %q nosniff=%q, want %d problem+json with nosniff: %s", resp.StatusCode, resp.Header.Get("Content-Type"),
			resp.Header.Get("X-Content-Type-Options"), status, body)
	}
	if body == nil {
		return
	}
	var p api.Problem
	if err := json.Unmarshal(body, &p); err != nil || p.Type != typ || p.Status != status || p.Title == "" {
		tb.Fatalf("problem %s (%v), want type %s status %d", body, err, typ, status)
	}
}

// TestServerOwnAnswersAreProblems sends what Go's HTTP server or the
// router would answer by themselves (in plain text, or with a redirect)
// over a real connection: each answer is problem+json with nosniff.
func TestServerOwnAnswersAreProblems(t *testing.T) {
	addr := serveReal(t, mustServer(t, nil))
	const host = "Host: idmesh.test\r\n"
	tests := []struct {
		name, request string
		status        int
		typ           string
	}{
		{"malformed percent-encoding", "GET /1.0/identifiers/%zz HTTP/1.1\r\n" + host + "\r\n", 400, api.ProblemMalformedRequest},
		{"malformed percent-encoding, HEAD", "HEAD /v1/status%G0 HTTP/1.1\r\n" + host + "\r\n", 400, api.ProblemMalformedRequest},
		{"truncated escape", "GET /v1/blocks/% HTTP/1.1\r\n" + host + "\r\n", 400, api.ProblemMalformedRequest},
		{"no Host", "GET /v1/status HTTP/1.1\r\n\r\n", 400, api.ProblemMalformedRequest},
		{"bad header name", "GET /v1/status HTTP/1.1\r\n" + host + "Bad Header: x\r\n\r\n", 400, api.ProblemMalformedRequest},
		{"not HTTP", "HELLO\r\n\r\n", 400, api.ProblemMalformedRequest},
		{"unknown transfer coding", "POST /v1/operations HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip\r\n\r\n", 501, api.ProblemMalformedRequest},
		{"HTTP/2 preface as HTTP/1", "GET / HTTP/2.0\r\n" + host + "\r\n", 505, api.ProblemMalformedRequest},
		{"headers too large", "GET /v1/status HTTP/1.1\r\n" + host + "X-Big: " + strings.Repeat("a", 1<<20+8192) + "\r\n\r\n", 431, api.ProblemMalformedRequest},
		{"unknown expectation", "POST /v1/operations HTTP/1.1\r\n" + host + "Expect: teapot\r\nContent-Length: 2\r\n\r\n{}", 417, api.ProblemMalformedRequest},
		{"double slash (router would redirect)", "GET //v1/status HTTP/1.1\r\n" + host + "\r\n", 404, api.ProblemNotFound},
		{"dot-dot (router would redirect)", "GET /v1/../v1/status HTTP/1.1\r\n" + host + "\r\n", 404, api.ProblemNotFound},
		{"dot (router would redirect)", "GET /v1/./status HTTP/1.1\r\n" + host + "\r\n", 404, api.ProblemNotFound},
		{"OPTIONS *", "OPTIONS * HTTP/1.1\r\n" + host + "\r\n", 404, api.ProblemNotFound},
		{"method not allowed", "DELETE /v1/status HTTP/1.1\r\n" + host + "\r\n", 405, api.ProblemMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, _, _ := strings.Cut(tt.request, " ")
			resp, body := raw(t, addr, method, tt.request)
			if method == http.MethodHead {
				if len(body) != 0 {
					t.Fatalf("HEAD answered a body: %s", body)
				}
				body = nil
			}
			if loc := resp.Header.Get("Location"); loc != "" {
				t.Fatalf("redirected to %s", loc)
			}
			wantProblem(t, resp, body, tt.status, tt.typ)
		})
	}
}

// TestHEAD: HEAD on every GET route answers what GET answers without the
// body; HEAD elsewhere gets the problem's headers.
func TestHEAD(t *testing.T) {
	s := mustServer(t, func(c *api.Config) { c.Registry = prometheus.NewRegistry() })
	addr := serveReal(t, s)
	get := func(method, path string) (*http.Response, []byte) {
		return raw(t, addr, method, method+" "+path+" HTTP/1.1\r\nHost: idmesh.test\r\nConnection: close\r\n\r\n")
	}
	routes := documentedRoutes(t) // /metrics included
	for _, rt := range routes {
		if rt[0] != http.MethodGet {
			continue
		}
		t.Run(rt[1], func(t *testing.T) {
			g, gb := get(http.MethodGet, rt[1])
			h, hb := get(http.MethodHead, rt[1])
			if len(hb) != 0 {
				t.Fatalf("HEAD answered a body of %d bytes", len(hb))
			}
			for _, k := range []string{"Content-Type", "X-Content-Type-Options", "Cache-Control", "Allow"} {
				if g.Header.Get(k) != h.Header.Get(k) {
					t.Errorf("%s: GET %q, HEAD %q", k, g.Header.Get(k), h.Header.Get(k))
				}
			}
			if g.StatusCode != h.StatusCode {
				t.Fatalf("GET %d, HEAD %d (%s)", g.StatusCode, h.StatusCode, gb)
			}
			if cl := h.Header.Get("Content-Length"); cl != "" && g.ContentLength >= 0 && cl != g.Header.Get("Content-Length") {
				t.Errorf("Content-Length: GET %q, HEAD %q", g.Header.Get("Content-Length"), cl)
			}
		})
	}
	h, _ := get(http.MethodHead, "/no/such/endpoint")
	wantProblem(t, h, nil, 404, api.ProblemNotFound)
	h, _ = get(http.MethodHead, "/v1/operations")
	wantProblem(t, h, nil, 405, api.ProblemMethodNotAllowed)
	if allow := h.Header.Get("Allow"); allow != "POST" {
		t.Fatalf("Allow %q", allow)
	}
	if _, err := http.Head("http://" + addr + "/v1/status"); err != nil {
		t.Fatal(err)
	}
}

// TestNosniffEverywhere: every route of the router, /metrics and the
// error answers carry X-Content-Type-Options: nosniff.
func TestNosniffEverywhere(t *testing.T) {
	s := mustServer(t, func(c *api.Config) { c.Registry = prometheus.NewRegistry(); c.APIToken = "token" })
	addr := serveReal(t, s)
	routes := append(documentedRoutes(t),
		[2]string{http.MethodGet, "/no/such"}, [2]string{http.MethodPut, "/v1/status"},
		[2]string{http.MethodGet, "/v1/blocks/0"}, [2]string{http.MethodGet, "/v1/operations/zz"})
	for _, rt := range routes {
		for _, auth := range []string{"", "Authorization: Bearer token\r\n"} {
			req := rt[0] + " " + rt[1] + " HTTP/1.1\r\nHost: idmesh.test\r\nConnection: close\r\n" + auth
			if rt[0] == http.MethodPost {
				req += "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
			} else {
				req += "\r\n"
			}
			resp, body := raw(t, addr, rt[0], req)
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s %s (auth %v): %d without nosniff: %.200s", rt[0], rt[1], auth != "", resp.StatusCode, body)
			}
		}
	}
}

// TestDuplicateMembersRefused posts a body with a repeated member to every
// POST route: each refuses it before doing anything else, as invalid JSON
// (an operation as an invalid operation, its documented type).
func TestDuplicateMembersRefused(t *testing.T) {
	s := mustServer(t, func(c *api.Config) { c.APIToken = "token" })
	// Repeated members that the trust endpoint knows, so that a decoder
	// keeping the last one would go on.
	body := []byte(`{"action":"add","action":"remove","issuer":"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK","types":["X"]}`)
	n := 0
	for _, rt := range documentedRoutes(t) {
		if rt[0] != http.MethodPost {
			continue
		}
		// The OpenID4VCI token, nonce and credential endpoints answer in
		// the error format their specifications fix (RFC 6749 section
		// 5.2), not problem+json; TestOID4VCIProofRefusals and
		// TestOID4VCITokenRefusals cover their malformed bodies. So does
		// the OpenID4VP response endpoint (form-encoded;
		// FuzzParseVPForm and TestVPRefusals).
		if rt[1] == api.TokenPath || rt[1] == api.NoncePath || rt[1] == api.CredentialPath || strings.HasPrefix(rt[1], api.VerifierResponsesPath) {
			continue
		}
		n++
		t.Run(rt[1], func(t *testing.T) {
			w := s.do(http.MethodPost, rt[1], body, "Authorization", "Bearer token", "Content-Type", "application/json")
			typ := api.ProblemInvalidJSON
			if rt[1] == "/v1/operations" {
				typ = api.ProblemInvalidOperation // as it always was: the operation decoder refuses it
			}
			p := mustProblem(t, w, http.StatusBadRequest, typ)
			if !strings.Contains(p.Detail, "duplicate") {
				t.Fatalf("detail %q does not name the duplicate", p.Detail)
			}
		})
	}
	if len(s.ledger.submitted) != 0 {
		t.Fatal("a body with a repeated member reached the ledger")
	}
	if n < 10 {
		t.Fatalf("only %d POST routes", n)
	}
}

// TestListenerOverTLS: under TLS the listener keeps the TLS state for the
// handlers, rewrites the server's own answers inside the TLS stream, and
// answers a plain HTTP request on the TLS port with a problem too.
func TestListenerOverTLS(t *testing.T) {
	certSrc := httptest.NewTLSServer(http.NotFoundHandler())
	certs := certSrc.TLS.Certificates
	client := certSrc.Client()
	certSrc.Close()

	s := mustServer(t, nil)
	sawTLS := make(chan bool, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case sawTLS <- r.TLS != nil && r.TLS.HandshakeComplete:
		default:
		}
		s.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		_ = srv.Serve(api.Listener(tls.NewListener(ln, &tls.Config{Certificates: certs, NextProtos: []string{"http/1.1"}})))
	}()
	t.Cleanup(func() { _ = srv.Close() })
	addr := ln.Addr().String()

	resp, err := client.Get("https://" + addr + "/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !<-sawTLS {
		t.Fatalf("status %d; the handler did not see the TLS state", resp.StatusCode)
	}

	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET /1.0/identifiers/%zz HTTP/1.1\r\nHost: idmesh.test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err = http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	wantProblem(t, resp, body, 400, api.ProblemMalformedRequest)

	resp, body = raw(t, addr, http.MethodGet, "GET /v1/status HTTP/1.1\r\nHost: idmesh.test\r\n\r\n")
	wantProblem(t, resp, body, 400, api.ProblemMalformedRequest)
}

// TestListenerLeavesHandlerAnswers: what a handler writes is never taken
// for one of the server's own answers, even a plain-text 400 or a body
// that quotes one.
func TestListenerLeavesHandlerAnswers(t *testing.T) {
	goAnswer := "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request"
	addr := serveReal(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/error":
			http.Error(w, "400 Bad Request", http.StatusBadRequest)
		default:
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Connection", "close")
			_, _ = io.WriteString(w, strings.Repeat("x", 4096-len(goAnswer)%4096)+goAnswer)
		}
	}))
	// (A bodiless 417 is rewritten whoever writes it: no endpoint of the
	// API answers 417.)
	for _, p := range []string{"/error", "/quote"} {
		resp, body := raw(t, addr, http.MethodGet, "GET "+p+" HTTP/1.1\r\nHost: idmesh.test\r\n\r\n")
		if ct := resp.Header.Get("Content-Type"); ct == "application/problem+json" || bytes.Contains(body, []byte(api.ProblemMalformedRequest)) {
			t.Fatalf("%s: a handler's answer was rewritten: %d %s %s", p, resp.StatusCode, ct, body)
		}
	}
}
