package main

// The load generator's lean HTTP/1.1 client (BenchmarkVerifyHTTPProcess,
// issue 18 goal 1). The load generator runs on the same two cores as the
// server it measures, so every microsecond of CPU it spends per request
// is taken from the server: like wrk or h2load, it does only what a
// keep-alive HTTP/1.1 client must do. Per connection: one net.Conn
// (TCP_NODELAY), each request serialized once per body and written with
// one write, exactly one request in flight (no pipelining), the answer
// read through a reused bufio.Reader into a reused body buffer, and every
// answer checked (status, and a wanted substring of the body). What it
// does not do: TLS, proxies, redirects, compression, retries, bodies
// delimited by the connection's close (it needs Content-Length or
// chunked), HTTP/2.

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Bounds of the lean client: a broken or hostile server cannot make it
// hold more than this per connection, nor wait without end.
const (
	// leanMaxHeader bounds an answer's header in bytes: the status
	// line, the fields, interim (1xx) answers and chunked trailers.
	leanMaxHeader = 16 << 10
	// leanMaxBody bounds an answer's body in bytes; with chunked
	// encoding its framing (size lines, line ends) is bounded by as
	// much again.
	leanMaxBody = 1 << 20
	// leanBufSize is the size of each connection's bufio.Reader.
	leanBufSize = 32 << 10
	// leanDialTimeout bounds a connection's set-up.
	leanDialTimeout = 10 * time.Second
)

// Errors of the lean client and of the load generator's answer check.
var (
	// errHeaderTooLarge: the answer's header exceeds leanMaxHeader.
	errHeaderTooLarge = errors.New("response header too large")
	// errBodyTooLarge: the answer's body exceeds leanMaxBody.
	errBodyTooLarge = errors.New("response body too large")
	// errMalformedResponse: the answer is not HTTP/1.x as RFC 9112 has it.
	errMalformedResponse = errors.New("malformed response")
	// errNoLength: the answer has a body but neither Content-Length nor
	// chunked encoding.
	errNoLength = errors.New("response body without Content-Length or chunked encoding")
	// errUnsupported: a transfer coding other than chunked, or an
	// upgrade.
	errUnsupported = errors.New("unsupported response")
	// errAnswerStatus: the answer's status is not the one wanted.
	errAnswerStatus = errors.New("unexpected status")
	// errAnswerBody: the answer's body lacks the wanted substring.
	errAnswerBody = errors.New("body without the wanted text")
	// errBadTarget: a spec the lean client cannot send (not http://,
	// a method that is not a token).
	errBadTarget = errors.New("bad request target")
)

// checkAnswer is the load generator's check of every answer, with either
// client: the status must be want and, if wantBody is not empty, the body
// must contain it.
func checkAnswer(want int, wantBody []byte, status int, body []byte) error {
	if status != want {
		return fmt.Errorf("%w %d (want %d): %.300s", errAnswerStatus, status, want, body)
	}
	if len(wantBody) > 0 && !bytes.Contains(body, wantBody) {
		return fmt.Errorf("%w %q: %.300s", errAnswerBody, wantBody, body)
	}
	return nil
}

// leanTarget is a spec's requests, each serialized once, and where to
// send them. It is read-only once built and shared by the connections.
type leanTarget struct {
	addr string // host:port to dial
	// reqs holds the wire form of each request: request line, Host,
	// Content-Type and Content-Length (with a body), the body.
	reqs [][]byte
}

// newLeanTarget serializes spec's requests: one per body, or one without
// a body if spec has none.
func newLeanTarget(spec loadSpec) (*leanTarget, error) {
	u, err := url.Parse(spec.URL)
	if err != nil {
		return nil, fmt.Errorf("parse URL: %w", err)
	}
	if u.Scheme != "http" || u.Host == "" || u.User != nil || u.Fragment != "" {
		return nil, fmt.Errorf("%w: %q: only http://host[:port]/path", errBadTarget, spec.URL)
	}
	if !isToken([]byte(spec.Method)) || spec.Method == "HEAD" {
		// (an answer to HEAD has a Content-Length but no body)
		return nil, fmt.Errorf("%w: method %q", errBadTarget, spec.Method)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	head := spec.Method + " " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\n"
	t := &leanTarget{addr: addr}
	if len(spec.Bodies) == 0 {
		req := head
		if spec.Method != "GET" {
			req += "Content-Length: 0\r\n"
		}
		t.reqs = [][]byte{[]byte(req + "\r\n")}
		return t, nil
	}
	for _, body := range spec.Bodies {
		req := make([]byte, 0, len(head)+80+len(body))
		req = append(req, head...)
		req = append(req, "Content-Type: application/json\r\nContent-Length: "...)
		req = strconv.AppendInt(req, int64(len(body)), 10)
		req = append(req, "\r\n\r\n"...)
		t.reqs = append(t.reqs, append(req, body...))
	}
	return t, nil
}

// leanConn is one keep-alive connection of the lean client: one request
// in flight at a time. It is not safe for concurrent use.
type leanConn struct {
	target   *leanTarget
	want     int
	wantBody []byte

	conn  net.Conn
	br    *bufio.Reader
	body  []byte    // the last answer's body, reused
	until time.Time // the deadline of every read, write and dial

	// dials counts the connections opened; closes the answers that
	// asked for the connection to be closed (it is, and the next
	// request opens a new one).
	dials, closes int64
}

// newLeanConn returns a connection (dialled on its first request) that
// sends target's requests and checks each answer against want and
// wantBody.
func newLeanConn(target *leanTarget, want int, wantBody []byte) *leanConn {
	return &leanConn{target: target, want: want, wantBody: wantBody}
}

// setUntil sets the deadline of every later read, write and dial.
func (c *leanConn) setUntil(t time.Time) error {
	c.until = t
	if c.conn != nil {
		if err := c.conn.SetDeadline(t); err != nil {
			return fmt.Errorf("set deadline: %w", err)
		}
	}
	return nil
}

func (c *leanConn) dial() error {
	d := net.Dialer{Timeout: leanDialTimeout, Deadline: c.until}
	conn, err := d.Dial("tcp", c.target.addr)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	c.dials++
	if tc, ok := conn.(*net.TCPConn); ok {
		if err := tc.SetNoDelay(true); err != nil {
			conn.Close()
			return fmt.Errorf("set TCP_NODELAY: %w", err)
		}
	}
	if !c.until.IsZero() {
		if err := conn.SetDeadline(c.until); err != nil {
			conn.Close()
			return fmt.Errorf("set deadline: %w", err)
		}
	}
	if c.br == nil {
		c.br = bufio.NewReaderSize(conn, leanBufSize)
	} else {
		c.br.Reset(conn)
	}
	c.conn = conn
	return nil
}

// drop closes the connection; the next request opens a new one.
func (c *leanConn) drop() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// close releases the connection.
func (c *leanConn) close() { c.drop() }

// do sends request i (modulo their number), reads the whole answer and
// checks it. A transport or framing error drops the connection.
func (c *leanConn) do(i int) error {
	if c.conn == nil {
		if err := c.dial(); err != nil {
			return err
		}
	}
	if _, err := c.conn.Write(c.target.reqs[i%len(c.target.reqs)]); err != nil {
		c.drop()
		return fmt.Errorf("write request: %w", err)
	}
	resp, err := readLeanResponse(c.br, c.body)
	c.body = resp.body
	if err != nil {
		c.drop()
		return fmt.Errorf("read response: %w", err)
	}
	if resp.close {
		c.closes++
		c.drop()
	}
	return checkAnswer(c.want, c.wantBody, resp.status, resp.body)
}

// leanResponse is an answer as the lean client reads it.
type leanResponse struct {
	status int
	// body is the whole body, in the buffer readLeanResponse was given
	// (grown if need be).
	body []byte
	// close is set if the server will close the connection after it
	// (Connection: close, or HTTP/1.0 without keep-alive).
	close bool
}

// leanHeader is what the lean client takes from an answer's fields.
type leanHeader struct {
	length            int // Content-Length, -1 if absent
	chunked           bool
	close, keepAlive  bool
	transferEncodings int
}

// readLeanResponse reads one answer from br into buf (reused; its
// contents are replaced): interim 1xx answers are skipped, the header is
// bounded by leanMaxHeader and the body by leanMaxBody. The returned
// body is set (possibly to a grown buffer) even on error, so that the
// caller keeps the buffer.
func readLeanResponse(br *bufio.Reader, buf []byte) (leanResponse, error) {
	budget := leanMaxHeader
	for {
		line, err := readLeanLine(br, &budget)
		if err != nil {
			return leanResponse{body: buf[:0]}, err
		}
		http10, status, err := parseStatusLine(line)
		if err != nil {
			return leanResponse{body: buf[:0]}, err
		}
		h, err := readLeanHeader(br, &budget)
		if err != nil {
			return leanResponse{body: buf[:0]}, err
		}
		if http10 && h.transferEncodings > 0 {
			// RFC 9112, 6.1: faulty framing.
			return leanResponse{body: buf[:0]}, fmt.Errorf("%w: Transfer-Encoding in HTTP/1.0", errMalformedResponse)
		}
		if status == 101 {
			return leanResponse{body: buf[:0]}, fmt.Errorf("%w: 101 Switching Protocols", errUnsupported)
		}
		if status < 200 {
			continue // an interim answer; the final one follows
		}
		r := leanResponse{status: status, body: buf[:0], close: h.close || http10 && !h.keepAlive}
		switch {
		case status == 204 || status == 304:
			// no body, whatever the fields say (RFC 9112, 6.3)
		case h.chunked:
			r.body, err = readChunked(br, buf[:0], &budget)
		case h.length >= 0:
			if cap(buf) < h.length {
				buf = make([]byte, h.length)
			}
			r.body = buf[:h.length]
			if _, err = io.ReadFull(br, r.body); err != nil {
				err = fmt.Errorf("read body: %w", err)
			}
		default:
			err = errNoLength
		}
		return r, err
	}
}

// readLeanLine reads a line ending in LF (the CR before it, if any,
// removed), charging its length to budget.
func readLeanLine(br *bufio.Reader, budget *int) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	*budget -= len(line)
	if *budget < 0 || errors.Is(err, bufio.ErrBufferFull) {
		return nil, errHeaderTooLarge
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read line: %w", err)
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// parseStatusLine parses "HTTP/1.x NNN[ reason]".
func parseStatusLine(line []byte) (http10 bool, status int, err error) {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' || len(line) > 12 && line[12] != ' ' {
		return false, 0, fmt.Errorf("%w: status line %.100q", errMalformedResponse, line)
	}
	switch line[7] {
	case '0':
		http10 = true
	case '1':
	default:
		return false, 0, fmt.Errorf("%w: version %.100q", errMalformedResponse, line)
	}
	for _, d := range line[9:12] {
		if d < '0' || d > '9' {
			return false, 0, fmt.Errorf("%w: status %.100q", errMalformedResponse, line)
		}
		status = status*10 + int(d-'0')
	}
	if status < 100 {
		return false, 0, fmt.Errorf("%w: status %.100q", errMalformedResponse, line)
	}
	return http10, status, nil
}

// readLeanHeader reads header fields up to the empty line and takes what
// framing needs: Content-Length, Transfer-Encoding and Connection.
func readLeanHeader(br *bufio.Reader, budget *int) (leanHeader, error) {
	h := leanHeader{length: -1}
	for {
		line, err := readLeanLine(br, budget)
		if err != nil {
			return h, err
		}
		if len(line) == 0 {
			break
		}
		name, value, err := splitField(line)
		if err != nil {
			return h, err
		}
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := parseContentLength(value)
			if err != nil {
				return h, err
			}
			if h.length >= 0 && h.length != n {
				return h, fmt.Errorf("%w: two Content-Lengths", errMalformedResponse)
			}
			h.length = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			h.transferEncodings++
			if h.transferEncodings > 1 || !bytes.EqualFold(value, []byte("chunked")) {
				return h, fmt.Errorf("%w: Transfer-Encoding %.100q", errUnsupported, value)
			}
			h.chunked = true
		case bytes.EqualFold(name, []byte("Connection")):
			for tok := range bytes.SplitSeq(value, []byte(",")) {
				tok = bytes.Trim(tok, " \t")
				h.close = h.close || bytes.EqualFold(tok, []byte("close"))
				h.keepAlive = h.keepAlive || bytes.EqualFold(tok, []byte("keep-alive"))
			}
		}
	}
	if h.chunked && h.length >= 0 {
		// RFC 9112, 6.3: a sign of request smuggling; handled as an error.
		return h, fmt.Errorf("%w: both Transfer-Encoding and Content-Length", errMalformedResponse)
	}
	return h, nil
}

// splitField splits "name: value" (RFC 9110, 5; no whitespace before the
// colon, no obsolete line folding), trimming the value's whitespace.
func splitField(line []byte) (name, value []byte, err error) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 || !isToken(line[:i]) {
		return nil, nil, fmt.Errorf("%w: field %.100q", errMalformedResponse, line)
	}
	value = bytes.Trim(line[i+1:], " \t")
	for _, c := range value {
		if c < ' ' && c != '\t' || c == 0x7f {
			return nil, nil, fmt.Errorf("%w: field %.100q", errMalformedResponse, line)
		}
	}
	return line[:i], value, nil
}

// parseContentLength parses a Content-Length value: decimal digits, at
// most leanMaxBody.
func parseContentLength(v []byte) (int, error) {
	if len(v) == 0 {
		return 0, fmt.Errorf("%w: empty Content-Length", errMalformedResponse)
	}
	n := 0
	for _, d := range v {
		if d < '0' || d > '9' {
			return 0, fmt.Errorf("%w: Content-Length %.100q", errMalformedResponse, v)
		}
		n = n*10 + int(d-'0')
		if n > leanMaxBody {
			return 0, errBodyTooLarge
		}
	}
	return n, nil
}

// readChunked reads a chunked body (RFC 9112, 7.1) into buf: the chunks'
// data count against leanMaxBody, and so do, apart, their size lines
// and line ends (so that tiny chunks cannot make the wire unbounded);
// the trailer fields (read and ignored) count against budget.
func readChunked(br *bufio.Reader, buf []byte, budget *int) ([]byte, error) {
	framing := leanMaxBody
	line := func() ([]byte, error) {
		l, err := readLeanLine(br, &framing)
		if errors.Is(err, errHeaderTooLarge) {
			return nil, errBodyTooLarge
		}
		return l, err
	}
	for {
		l, err := line()
		if err != nil {
			return buf, err
		}
		sizePart, _, _ := bytes.Cut(l, []byte(";")) // chunk extensions ignored
		size, err := parseChunkSize(bytes.TrimRight(sizePart, " \t"))
		if err != nil {
			return buf, err
		}
		if size == 0 {
			break
		}
		n := len(buf)
		if n+size > leanMaxBody {
			return buf, errBodyTooLarge
		}
		if cap(buf) < n+size {
			buf = append(buf[:cap(buf)], make([]byte, n+size-cap(buf))...)
		}
		buf = buf[:n+size]
		if _, err := io.ReadFull(br, buf[n:]); err != nil {
			return buf[:n], fmt.Errorf("read chunk: %w", err)
		}
		end, err := line()
		if err != nil {
			return buf, err
		}
		if len(end) != 0 {
			return buf, fmt.Errorf("%w: chunk longer than its size", errMalformedResponse)
		}
	}
	for { // the trailer section
		line, err := readLeanLine(br, budget)
		if err != nil {
			return buf, err
		}
		if len(line) == 0 {
			return buf, nil
		}
		if _, _, err := splitField(line); err != nil {
			return buf, err
		}
	}
}

// parseChunkSize parses a chunk size: hexadecimal digits, at most
// leanMaxBody.
func parseChunkSize(v []byte) (int, error) {
	if len(v) == 0 {
		return 0, fmt.Errorf("%w: empty chunk size", errMalformedResponse)
	}
	n := 0
	for _, d := range v {
		var x byte
		switch {
		case '0' <= d && d <= '9':
			x = d - '0'
		case 'a' <= d && d <= 'f':
			x = d - 'a' + 10
		case 'A' <= d && d <= 'F':
			x = d - 'A' + 10
		default:
			return 0, fmt.Errorf("%w: chunk size %.100q", errMalformedResponse, v)
		}
		n = n*16 + int(x)
		if n > leanMaxBody {
			return 0, errBodyTooLarge
		}
	}
	return n, nil
}

// isToken reports whether b is a non-empty RFC 9110 token (a field name
// or a method).
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// leanTestConn returns a lean connection to url that posts bodies in
// turn (GET without a body if there are none), wanting want and
// wantBody, bounded in time by the test's deadline or a minute.
func leanTestConn(t *testing.T, method, url string, bodies [][]byte, want int, wantBody string) *leanConn {
	t.Helper()
	target, err := newLeanTarget(loadSpec{Method: method, URL: url, Bodies: bodies})
	if err != nil {
		t.Fatal(err)
	}
	c := newLeanConn(target, want, []byte(wantBody))
	until := time.Now().Add(time.Minute)
	if d, ok := t.Deadline(); ok && d.Before(until) {
		until = d
	}
	if err := c.setUntil(until); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	return c
}

// countConns counts the connections srv accepts.
func countConns(srv *httptest.Server) *atomic.Int64 {
	var n atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}
	return &n
}

// TestLoadGenLeanKeepAlive: the lean client sends each request as it
// was serialized (method, target, Host, Content-Type, Content-Length,
// body, the bodies in turn) and one connection serves them all.
func TestLoadGenLeanKeepAlive(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil || r.Method != http.MethodPost || r.URL.RequestURI() != "/credentials/verify?x=1" || r.Host != r.Context().Value(http.LocalAddrContextKey).(net.Addr).String() ||
			r.Header.Get("Content-Type") != "application/json" || r.ContentLength != int64(len(b)) || len(r.TransferEncoding) != 0 {
			t.Errorf("request %s %s Host %s %v %d: %s (%v)", r.Method, r.URL, r.Host, r.Header, r.ContentLength, b, err)
		}
		mu.Lock()
		got = append(got, string(b))
		mu.Unlock()
		fmt.Fprintf(w, `{"verified":true,"echo":%s}`, b)
	}))
	conns := countConns(srv)
	srv.Start()
	defer srv.Close()
	bodies := [][]byte{[]byte(`{"n":0}`), []byte(`{"n":1}`), []byte(`{"n":22}`)}
	c := leanTestConn(t, http.MethodPost, srv.URL+"/credentials/verify?x=1", bodies, http.StatusOK, `{"verified":true`)
	const requests = 100
	for i := range requests {
		if err := c.do(i); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if want := `{"verified":true,"echo":` + string(bodies[i%3]) + `}`; string(c.body) != want {
			t.Fatalf("request %d: body %q, want %q", i, c.body, want)
		}
	}
	if c.dials != 1 || conns.Load() != 1 || c.closes != 0 {
		t.Errorf("%d dials, the server accepted %d connections, %d closes; want one connection for all", c.dials, conns.Load(), c.closes)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != requests {
		t.Fatalf("the server answered %d requests, the client counted %d", len(got), requests)
	}
	for i, b := range got {
		if b != string(bodies[i%3]) {
			t.Fatalf("request %d posted %s, want %s", i, b, bodies[i%3])
		}
	}
}

// TestLoadGenLeanConnectionClose: an answer with Connection: close is
// read whole and counted; the next request opens a new connection.
func TestLoadGenLeanConnectionClose(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%3 == 0 {
			w.Header().Set("Connection", "close")
		}
		_, _ = io.WriteString(w, "ok")
	}))
	conns := countConns(srv)
	srv.Start()
	defer srv.Close()
	c := leanTestConn(t, http.MethodGet, srv.URL, nil, http.StatusOK, "ok")
	for i := range 30 {
		if err := c.do(i); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if c.closes != 10 || c.dials != 10 || conns.Load() != 10 || n.Load() != 30 {
		t.Errorf("%d closes, %d dials, %d connections accepted, %d requests served; want 10, 10, 10, 30", c.closes, c.dials, conns.Load(), n.Load())
	}
}

// TestLoadGenLeanChunked: a chunked answer (several chunks, a trailer)
// is read whole, the wanted text found across chunk boundaries, and the
// connection kept.
func TestLoadGenLeanChunked(t *testing.T) {
	parts := []string{`{"verif`, `ied":tr`, `ue,"pad":"` + strings.Repeat("p", 40000), `"}`}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		for _, p := range parts {
			_, _ = io.WriteString(w, p)
			w.(http.Flusher).Flush()
		}
		w.Header().Set("X-Sum", "all")
	}))
	conns := countConns(srv)
	srv.Start()
	defer srv.Close()
	c := leanTestConn(t, http.MethodGet, srv.URL, nil, http.StatusOK, `{"verified":true,`)
	for i := range 5 {
		if err := c.do(i); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if string(c.body) != strings.Join(parts, "") {
			t.Fatalf("request %d: body of %d bytes, want %d", i, len(c.body), len(strings.Join(parts, "")))
		}
	}
	if c.dials != 1 || conns.Load() != 1 {
		t.Errorf("%d dials, %d connections accepted; want one", c.dials, conns.Load())
	}
}

// TestLoadGenLeanBadAnswers: a wrong status, a body without the wanted
// text, an oversized header and oversized bodies (by Content-Length and
// chunked) are each an error; the next request, on the same or a new
// connection, is served and checked as usual. A body of exactly
// leanMaxBody bytes is read, with Content-Length or chunked.
func TestLoadGenLeanBadAnswers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		switch string(b) {
		case "good":
			_, _ = io.WriteString(w, `{"verified":true}`)
		case "status":
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"verified":true}`)
		case "refused":
			_, _ = io.WriteString(w, `{"verified":false,"results":[{"check":"parse","verified":true}]}`)
		case "big-header":
			w.Header().Set("X-Big", strings.Repeat("h", leanMaxHeader))
			_, _ = io.WriteString(w, `{"verified":true}`)
		case "many-fields":
			for i := range leanMaxHeader / 8 {
				w.Header().Set(fmt.Sprintf("X-%d", i), "v")
			}
			_, _ = io.WriteString(w, `{"verified":true}`)
		case "max-body":
			w.Header().Set("Content-Length", strconv.Itoa(leanMaxBody))
			_, _ = io.WriteString(w, `{"verified":true}`+strings.Repeat(" ", leanMaxBody-len(`{"verified":true}`)))
		case "max-chunked":
			_, _ = io.WriteString(w, `{"verified":true}`)
			for range leanMaxBody/(64<<10) - 1 {
				w.(http.Flusher).Flush()
				_, _ = io.WriteString(w, strings.Repeat(" ", 64<<10))
			}
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, strings.Repeat(" ", 64<<10-len(`{"verified":true}`)))
		case "big-body":
			w.Header().Set("Content-Length", strconv.Itoa(leanMaxBody+1))
			_, _ = io.WriteString(w, `{"verified":true}`+strings.Repeat(" ", leanMaxBody+1-len(`{"verified":true}`)))
		case "big-chunked":
			_, _ = io.WriteString(w, `{"verified":true}`)
			for range leanMaxBody / (64 << 10) {
				w.(http.Flusher).Flush()
				if _, err := io.WriteString(w, strings.Repeat(" ", 64<<10)); err != nil {
					return
				}
			}
		}
	}))
	defer srv.Close()
	cases := []struct {
		body string
		want error // nil: a good answer
	}{
		{"good", nil},
		{"status", errAnswerStatus},
		{"refused", errAnswerBody},
		{"big-header", errHeaderTooLarge},
		{"many-fields", errHeaderTooLarge},
		{"max-body", nil},
		{"max-chunked", nil},
		{"big-body", errBodyTooLarge},
		{"big-chunked", errBodyTooLarge},
	}
	bodies := [][]byte{[]byte("good")}
	for _, c := range cases {
		bodies = append(bodies, []byte(c.body))
	}
	c := leanTestConn(t, http.MethodPost, srv.URL, bodies, http.StatusOK, `{"verified":true`)
	for i, tc := range cases {
		err := c.do(i + 1)
		if tc.want == nil && err != nil || !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.body, err, tc.want)
		}
		if err := c.do(0); err != nil {
			t.Errorf("good request after %s: %v", tc.body, err)
		}
	}
}

// TestLoadGenLeanFraming: answers framed in every way RFC 9112 allows
// that the lean client supports are read whole; faulty or unsupported
// framing is an error, never a body read up to a guess.
func TestLoadGenLeanFraming(t *testing.T) {
	cases := []struct {
		name, answer string
		want         error // nil: read, with wantBody and wantClose
		wantBody     string
		wantClose    bool
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", nil, "hello", false},
		{"LF only", "HTTP/1.1 200 OK\nContent-Length: 5\n\nhello", nil, "hello", false},
		{"no reason", "HTTP/1.1 200\r\ncontent-length: 2\r\n\r\nhi", nil, "hi", false},
		{"same length twice", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi", nil, "hi", false},
		{"interim answers", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", nil, "hi", false},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=1\r\nhe\r\n3 \r\nllo\r\n0\r\nX-T: 1\r\n\r\n", nil, "hello", false},
		{"204", "HTTP/1.1 204 No Content\r\n\r\n", nil, "", false},
		{"connection close", "HTTP/1.1 200 OK\r\nConnection: Keep-Alive, close\r\nContent-Length: 2\r\n\r\nhi", nil, "hi", true},
		{"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", nil, "hi", true},
		{"HTTP/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi", nil, "hi", false},
		{"no length", "HTTP/1.1 200 OK\r\n\r\nhello", errNoLength, "", false},
		{"both lengths", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", errMalformedResponse, "", false},
		{"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", errMalformedResponse, "", false},
		{"signed length", "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello", errMalformedResponse, "", false},
		{"huge length", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", errBodyTooLarge, "", false},
		{"gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", errUnsupported, "", false},
		{"chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", errUnsupported, "", false},
		{"chunked in HTTP/1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", errMalformedResponse, "", false},
		{"chunk longer than its size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n", errMalformedResponse, "", false},
		{"huge chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n", errBodyTooLarge, "", false},
		{"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n", errMalformedResponse, "", false},
		{"upgrade", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", errUnsupported, "", false},
		{"HTTP/2 status line", "HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", errMalformedResponse, "", false},
		{"status with letters", "HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nhi", errMalformedResponse, "", false},
		{"status glued to reason", "HTTP/1.1 200OK\r\nContent-Length: 2\r\n\r\nhi", errMalformedResponse, "", false},
		{"folded field", "HTTP/1.1 200 OK\r\nX-A: 1\r\n  2\r\nContent-Length: 2\r\n\r\nhi", errMalformedResponse, "", false},
		{"space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nhi", errMalformedResponse, "", false},
		{"control character", "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2\r\n\r\nhi", errMalformedResponse, "", false},
		{"too many interim answers", strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", leanMaxHeader/20), errHeaderTooLarge, "", false},
		{"truncated header", "HTTP/1.1 200 OK\r\nContent-Len", io.ErrUnexpectedEOF, "", false},
		{"truncated body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", io.ErrUnexpectedEOF, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := readLeanResponse(bufio.NewReaderSize(strings.NewReader(tc.answer), leanBufSize), nil)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("%v, want %v", err, tc.want)
				}
				return
			}
			if err != nil || string(resp.body) != tc.wantBody || resp.close != tc.wantClose {
				t.Fatalf("body %q close %v (%v), want %q close %v", resp.body, resp.close, err, tc.wantBody, tc.wantClose)
			}
		})
	}
}

// TestLoadGenLeanDeadline: a server that accepts and never answers
// makes a request fail at the connection's deadline.
func TestLoadGenLeanDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if conn, err := ln.Accept(); err == nil {
			accepted <- conn
		}
	}()
	c := leanTestConn(t, http.MethodGet, "http://"+ln.Addr().String()+"/", nil, http.StatusOK, "")
	if err := c.setUntil(time.Now().Add(100 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := c.do(0); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%v, want a timeout", err)
	}
	(<-accepted).Close()
}

// TestLoadGenLeanBadTarget: the lean client refuses what it cannot send.
func TestLoadGenLeanBadTarget(t *testing.T) {
	for _, spec := range []loadSpec{
		{Method: "GET", URL: "https://127.0.0.1/"},
		{Method: "GET", URL: "http:///path"},
		{Method: "GET", URL: "http://u:p@127.0.0.1/"},
		{Method: "GE T", URL: "http://127.0.0.1/"},
		{Method: "GET\r\nX: 1", URL: "http://127.0.0.1/"},
		{Method: "", URL: "http://127.0.0.1/"},
		{Method: "HEAD", URL: "http://127.0.0.1/"},
	} {
		if _, err := newLeanTarget(spec); !errors.Is(err, errBadTarget) {
			t.Errorf("%q %q: %v, want %v", spec.Method, spec.URL, err, errBadTarget)
		}
	}
}

// TestLoadGenCountsEveryRequest: with either client, every request the
// load generator counts (warm-up and timed) was answered by the server,
// each of the connections was kept alive, and an unknown client is
// refused.
func TestLoadGenCountsEveryRequest(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		served.Add(1)
		_, _ = io.WriteString(w, `{"verified":true}`)
	}))
	conns := countConns(srv)
	srv.Start()
	defer srv.Close()
	for _, client := range []string{"", clientLean, clientNetHTTP} {
		served.Store(0)
		conns.Store(0)
		spec := loadSpec{Method: http.MethodPost, URL: srv.URL, Bodies: [][]byte{[]byte(`{}`), []byte(`{"a":1}`)}, Conns: 4, Warmup: 3,
			Span: 100 * time.Millisecond, Want: http.StatusOK, WantBody: wantTrivial, Client: client}
		res, err := generateLoad(spec)
		if err != nil {
			t.Fatalf("%q: %v", client, err)
		}
		if res.Bad != 0 || res.Requests == 0 || res.Warmups != 12 || served.Load() != res.Requests+res.Warmups {
			t.Errorf("%q: %+v; the server served %d", client, res, served.Load())
		}
		if res.Dials != 4 || conns.Load() != 4 || res.Closes != 0 {
			t.Errorf("%q: %d dials, %d connections accepted, %d closes; want 4, 4, 0", client, res.Dials, conns.Load(), res.Closes)
		}
		if want := cmp.Or(client, clientLean); res.Client != want {
			t.Errorf("%q: client %q, want %q", client, res.Client, want)
		}
	}
	if _, err := generateLoad(loadSpec{Method: http.MethodGet, URL: srv.URL, Conns: 1, Client: "curl"}); err == nil {
		t.Error("an unknown client was accepted")
	}
}

// TestLoadGenRefusedCredential: through a real node, a credential whose
// signature has one character changed is refused (400, not verified)
// and counted bad by either client, in both formats; the unchanged
// credentials beside it are counted good.
func TestLoadGenRefusedCredential(t *testing.T) {
	n := startBenchNode(t)
	for _, format := range []string{"vc+jwt", "eddsa-rdfc-2022"} {
		good := n.issueBench(t, format, 2)
		var body struct {
			VC map[string]any `json:"verifiableCredential"`
		}
		if err := json.Unmarshal(good[1], &body); err != nil {
			t.Fatal(err)
		}
		if format == "vc+jwt" {
			id := body.VC["id"].(string)
			sig := strings.LastIndexByte(id, '.') + 20
			body.VC["id"] = id[:sig] + flip(id[sig]) + id[sig+1:]
		} else {
			proof := body.VC["proof"].(map[string]any)
			pv := proof["proofValue"].(string)
			proof["proofValue"] = pv[:40] + flip(pv[40]) + pv[41:]
		}
		forged, _ := json.Marshal(body)
		for _, client := range []string{clientLean, clientNetHTTP} {
			// Span 0: the warm-up alone, each connection alternating
			// between the good credential and the forged one.
			res, err := generateLoad(loadSpec{Method: http.MethodPost, URL: n.url + "/credentials/verify", Bodies: [][]byte{good[0], forged},
				Conns: 2, Warmup: 4, Want: http.StatusOK, WantBody: wantVerified, Client: client})
			if err != nil {
				t.Fatal(err)
			}
			if res.Bad != 4 || res.Warmups != 8 || !strings.Contains(res.First, "status 400") || !strings.Contains(res.First, `{"verified":false,`) {
				t.Errorf("%s, %s client: %d of %d bad (want 4); the first: %s", format, client, res.Bad, res.Warmups, res.First)
			}
		}
	}
}

// flip returns c changed to another character of the same alphabets
// (base64url, base58btc).
func flip(c byte) string {
	if c == 'b' {
		return "c"
	}
	return "b"
}

// FuzzLoadGenLeanResponse: the lean client's reading of an answer never
// panics, keeps within its bounds and, where net/http reads the same
// bytes as a final answer too, agrees with it on the status and the
// body.
func FuzzLoadGenLeanResponse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x\r\nhe\r\n3\r\nllo\r\n0\r\nT: 1\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno",
		"HTTP/1.0 204 No Content\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		resp, err := readLeanResponse(bufio.NewReaderSize(bytes.NewReader(data), 64), nil)
		if len(resp.body) > leanMaxBody {
			t.Fatalf("a body of %d bytes", len(resp.body))
		}
		if err != nil {
			return
		}
		if resp.status < 200 || resp.status > 999 {
			t.Fatalf("final status %d", resp.status)
		}
		std, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(data)), &http.Request{Method: http.MethodGet})
		if err != nil || std.StatusCode < 200 {
			return
		}
		body, err := io.ReadAll(std.Body)
		if err != nil {
			return
		}
		if std.StatusCode != resp.status || !bytes.Equal(body, resp.body) {
			t.Fatalf("lean: %d %q; net/http: %d %q", resp.status, resp.body, std.StatusCode, body)
		}
	})
}
