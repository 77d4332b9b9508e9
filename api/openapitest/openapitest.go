package openapitest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/idmesh/idmesh/api"
)

// MaxBody bounds, by default, the bytes of a response body the checks
// keep; the body of a longer response is not checked (its status and
// headers are).
const MaxBody = 16 << 20

// ErrMismatch is wrapped by every error Check returns for a response
// the document does not describe.
var ErrMismatch = errors.New("response does not match the OpenAPI description")

// jsonTypes are the JSON media types the API answers with that
// kin-openapi has no decoder for (it decodes application/json, */*+json
// and a few others itself).
var jsonTypes = map[string]bool{
	"application/did-resolution":        true,
	"application/did-url-dereferencing": true,
	"application/did":                   true,
	"application/vc":                    true,
}

// Validator checks responses against an OpenAPI document. It is safe
// for concurrent use.
type Validator struct {
	doc     *openapi3.T
	router  routers.Router
	problem *openapi3.SchemaRef
	maxBody int
	seen    *visited
}

// visited remembers the bodies a schema accepted: compiling a schema for
// JSON Schema 2020-12 costs far more than most responses, and tests
// send the same answers many times.
type visited struct {
	mu sync.Mutex
	ok map[visitKey]bool
}

type visitKey struct {
	schema *openapi3.Schema
	body   [sha256.Size]byte
}

// maxVisited bounds the bodies remembered; beyond it the memory starts
// over.
const maxVisited = 1 << 14

// Load parses and validates an OpenAPI 3.1 document and returns a
// Validator for it. A $ref to anything outside the document is refused.
func Load(data []byte) (*Validator, error) {
	l := openapi3.NewLoader() // IsExternalRefsAllowed is false: the document is self-contained
	doc, err := l.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("load OpenAPI document: %w", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("load OpenAPI document: version %q, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableMultiError()); err != nil {
		return nil, fmt.Errorf("validate OpenAPI document: %w", err)
	}
	// Match paths only: the document's servers name one host, tests
	// serve on others.
	routing := *doc
	routing.Servers = nil
	router, err := gorillamux.NewRouter(&routing)
	if err != nil {
		return nil, fmt.Errorf("route OpenAPI document: %w", err)
	}
	problem := doc.Components.Schemas["Problem"]
	if problem == nil {
		return nil, errors.New("load OpenAPI document: no components/schemas/Problem")
	}
	return &Validator{doc: doc, router: router, problem: problem, maxBody: MaxBody, seen: &visited{ok: map[visitKey]bool{}}}, nil
}

// shared is the Validator of api.OpenAPI, loaded once.
var shared = sync.OnceValues(func() (*Validator, error) { return Load(api.OpenAPI) })

// New returns the Validator of the API's document, api.OpenAPI.
func New() (*Validator, error) { return shared() }

// MustNew is New, failing tb on an error.
func MustNew(tb testing.TB) *Validator {
	tb.Helper()
	v, err := New()
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// WithMaxBody returns a copy of v that keeps at most n bytes of a
// response body (MaxBody by default).
func (v *Validator) WithMaxBody(n int) *Validator {
	c := *v
	c.maxBody = n
	return &c
}

// Doc returns the loaded document; the caller must not change it.
func (v *Validator) Doc() *openapi3.T { return v.doc }

// Check checks one response to req: its status, header and body (the
// body is not checked when truncated is set). It returns nil when the
// document describes the response, and an error wrapping ErrMismatch
// otherwise.
func (v *Validator) Check(ctx context.Context, req *http.Request, status int, header http.Header, body []byte, truncated bool) error {
	if UIPage(req) {
		return nil
	}
	find := req
	if req.Method == http.MethodHead {
		// Every GET route answers HEAD with the GET's status and
		// headers (the server drops the body a handler writes).
		find = req.Clone(ctx)
		find.Method = http.MethodGet
	}
	route, params, err := v.router.FindRoute(find)
	switch {
	case errors.Is(err, routers.ErrPathNotFound):
		return v.checkUnrouted(req, status, header, body, truncated, http.StatusNotFound)
	case errors.Is(err, routers.ErrMethodNotAllowed):
		return v.checkUnrouted(req, status, header, body, truncated, http.StatusMethodNotAllowed)
	case err != nil:
		return fmt.Errorf("%w: %s %s: find route: %w", ErrMismatch, req.Method, req.URL.EscapedPath(), err)
	}
	media := mediaType(header)
	own := kinCannotDecode(media)
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: find, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
			ExcludeResponseBody:   own || truncated || req.Method == http.MethodHead,
		},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
		return fmt.Errorf("%w: %s %s (operation %s): %d %s: %w", ErrMismatch, req.Method, req.URL.EscapedPath(), route.Operation.OperationID, status, media, err)
	}
	if own && !truncated && req.Method != http.MethodHead {
		if err := v.checkBody(route, status, media, body); err != nil {
			return fmt.Errorf("%w: %s %s (operation %s): %d %s: %w", ErrMismatch, req.Method, req.URL.EscapedPath(), route.Operation.OperationID, status, media, err)
		}
	}
	return nil
}

// UIPage reports whether req asks for a page or asset of the web UI
// (GET or HEAD of / or /ui/...), which the document leaves out on
// purpose: pages, not API.
func UIPage(req *http.Request) bool {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return false
	}
	p := req.URL.Path
	return p == "/" || strings.HasPrefix(p, "/ui/")
}

// checkUnrouted checks the answer to a request no operation of the
// document matches: the want (404 or 405) problem.
func (v *Validator) checkUnrouted(req *http.Request, status int, header http.Header, body []byte, truncated bool, want int) error {
	what := "no path of the document matches"
	if want == http.StatusMethodNotAllowed {
		what = "the document has no such method for the path"
	}
	if status != want {
		return fmt.Errorf("%w: %s %s: %s, yet the answer is %d, not %d (an undocumented route?)", ErrMismatch, req.Method, req.URL.EscapedPath(), what, status, want)
	}
	if media := mediaType(header); media != "application/problem+json" {
		return fmt.Errorf("%w: %s %s: %d with Content-Type %q, want application/problem+json", ErrMismatch, req.Method, req.URL.EscapedPath(), status, media)
	}
	if req.Method == http.MethodHead || truncated {
		return nil
	}
	if err := v.visit(v.problem, body); err != nil {
		return fmt.Errorf("%w: %s %s: %d problem: %w", ErrMismatch, req.Method, req.URL.EscapedPath(), status, err)
	}
	return nil
}

// checkBody checks a body kin-openapi cannot decode against the schema
// the operation gives its status and media type: JSON for the API's
// JSON media types, a string otherwise.
func (v *Validator) checkBody(route *routers.Route, status int, media string, body []byte) error {
	resp := route.Operation.Responses.Status(status)
	if resp == nil {
		resp = route.Operation.Responses.Default()
	}
	if resp == nil || resp.Value == nil || len(resp.Value.Content) == 0 {
		return nil // ValidateResponse checked that the status is documented
	}
	mt := resp.Value.Content.Get(media)
	if mt == nil {
		return fmt.Errorf("undocumented Content-Type %q", media)
	}
	if mt.Schema == nil {
		return nil
	}
	if !jsonTypes[media] {
		return mt.Schema.Value.VisitJSON(string(body), openapi3.EnableJSONSchema2020(), openapi3.VisitAsResponse(), openapi3.MultiErrors())
	}
	return v.visit(mt.Schema, body)
}

// visit checks a JSON body against a schema, once per schema and body.
func (v *Validator) visit(schema *openapi3.SchemaRef, body []byte) error {
	key := visitKey{schema.Value, sha256.Sum256(body)}
	v.seen.mu.Lock()
	ok := v.seen.ok[key]
	v.seen.mu.Unlock()
	if ok {
		return nil
	}
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		return fmt.Errorf("decode body: %w", err)
	}
	if err := schema.Value.VisitJSON(value, openapi3.EnableJSONSchema2020(), openapi3.VisitAsResponse(), openapi3.MultiErrors()); err != nil {
		return err
	}
	v.seen.mu.Lock()
	if len(v.seen.ok) >= maxVisited {
		clear(v.seen.ok)
	}
	v.seen.ok[key] = true
	v.seen.mu.Unlock()
	return nil
}

// kinCannotDecode reports whether kin-openapi has no body decoder for
// the media type: the API's JSON media types without a +json suffix,
// and the text ones other than text/plain.
func kinCannotDecode(media string) bool {
	switch {
	case media == "":
		return false
	case strings.HasSuffix(media, "+json"):
		return false
	}
	return openapi3filter.RegisteredBodyDecoder(media) == nil
}

// mediaType is a Content-Type without its parameters, in lower case.
func mediaType(h http.Header) string {
	ct := h.Get("Content-Type")
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(ct))
	}
	return mt
}

// Handler returns h with every response it writes checked against the
// document once h returns; a mismatch fails tb (with Errorf, so it may
// be called from the server's goroutines). The response still reaches
// the client as h wrote it.
func (v *Validator) Handler(tb testing.TB, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w, max: v.maxBody}
		h.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
			rec.header = w.Header().Clone()
		}
		if err := v.Check(r.Context(), r, rec.status, rec.header, rec.body.Bytes(), rec.truncated); err != nil {
			tb.Errorf("openapi: %v\nbody: %.512s", err, rec.body.Bytes())
		}
	})
}

// recorder passes a response through and keeps its status, its header
// as sent, and up to max bytes of its body.
type recorder struct {
	http.ResponseWriter
	max       int
	status    int
	header    http.Header
	body      bytes.Buffer
	truncated bool
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 {
		r.status, r.header = code, r.Header().Clone()
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	if !r.truncated {
		if r.body.Len()+len(p) > r.max {
			r.truncated = true
		} else {
			r.body.Write(p)
		}
	}
	return r.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the server's writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush flushes the server's writer when it can.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Transport returns next (http.DefaultTransport when nil) with every
// response it receives checked against the document; a mismatch fails
// tb. The body is read (up to the Validator's bound) and handed back
// unchanged.
func (v *Validator) Transport(tb testing.TB, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripper{v: v, tb: tb, next: next}
}

type roundTripper struct {
	v    *Validator
	tb   testing.TB
	next http.RoundTripper
}

func (t roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.next.RoundTrip(req)
	if err != nil {
		return res, err
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, int64(t.v.maxBody)+1))
	if err != nil {
		res.Body.Close()
		return nil, fmt.Errorf("read response: %w", err)
	}
	truncated := len(body) > t.v.maxBody
	if truncated {
		res.Body = readCloser{io.MultiReader(bytes.NewReader(body), res.Body), res.Body}
	} else {
		res.Body.Close()
		res.Body = io.NopCloser(bytes.NewReader(body))
	}
	if err := t.v.Check(req.Context(), req, res.StatusCode, res.Header, body, truncated); err != nil {
		t.tb.Errorf("openapi: %v\nbody: %.512s", err, body)
	}
	return res, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}
