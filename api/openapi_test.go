package api_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v4"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/api/openapitest"
)

// validated is h with every response checked against openapi.yaml; a
// response the document does not describe fails tb.
func validated(tb testing.TB, h http.Handler) http.Handler {
	tb.Helper()
	return openapitest.MustNew(tb).Handler(tb, h)
}

// TestOpenAPIValid: openapi.yaml is valid OpenAPI 3.1 to kin-openapi,
// with every $ref inside the file.
func TestOpenAPIValid(t *testing.T) {
	v := openapitest.MustNew(t)
	if got := v.Doc().OpenAPI; !strings.HasPrefix(got, "3.1.") {
		t.Fatalf("openapi %q, want 3.1.x", got)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(api.OpenAPI, &root); err != nil {
		t.Fatal(err)
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, val := n.Content[i], n.Content[i+1]
				if k.Value == "$ref" && !strings.HasPrefix(val.Value, "#/") {
					t.Errorf("line %d: $ref %q leaves the file", k.Line, val.Value)
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&root)
}

// TestOpenAPINoImplicitNulls: no key of openapi.yaml has an implicit
// null value. That is what an unquoted comma in a flow mapping's text
// makes ({description: a, b} is the keys description and "b"): a bogus
// property, which validators reject where the key is not allowed and
// silently keep inside schemas. The document has no intended null.
func TestOpenAPINoImplicitNulls(t *testing.T) {
	var root yaml.Node
	if err := yaml.Unmarshal(api.OpenAPI, &root); err != nil {
		t.Fatal(err)
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, val := n.Content[i], n.Content[i+1]
				if val.Kind == yaml.ScalarNode && val.Tag == "!!null" {
					t.Errorf("line %d: key %q has no value (an unquoted comma in the text before it?)", k.Line, k.Value)
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&root)
}

// TestOpenAPIRefusesBogusDocuments: the validator the tests rely on
// refuses a document with a bogus operation property (the unquoted
// comma), one with an external $ref, and one that is not 3.1.
func TestOpenAPIRefusesBogusDocuments(t *testing.T) {
	for _, tc := range []struct{ name, old, new string }{
		{"unquoted comma", `"Not verified (or a malformed request, as a problem)"`, `Not verified (or a malformed request, as a problem)`},
		{"external ref", `$ref: "#/components/schemas/Status"`, `$ref: "other.yaml#/Status"`},
		{"version 3.0", "openapi: 3.1.0", "openapi: 3.0.3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !bytes.Contains(api.OpenAPI, []byte(tc.old)) {
				t.Fatalf("openapi.yaml has no %s", tc.old)
			}
			doc := bytes.Replace(api.OpenAPI, []byte(tc.old), []byte(tc.new), 1)
			if _, err := openapitest.Load(doc); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// TestOpenAPIServedIsTheFile: GET /openapi.yaml, over the real HTTP
// server, answers exactly the bytes of api/openapi.yaml as
// application/yaml; HEAD the same without a body.
func TestOpenAPIServedIsTheFile(t *testing.T) {
	file, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(mustServer(t, nil))
	t.Cleanup(ts.Close)
	res, body := httpDo(t, http.MethodGet, ts.URL+"/openapi.yaml")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/yaml" {
		t.Fatalf("GET /openapi.yaml: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if !bytes.Equal(body, file) {
		t.Fatalf("GET /openapi.yaml served %d bytes that differ from the file's %d", len(body), len(file))
	}
	res, body = httpDo(t, http.MethodHead, ts.URL+"/openapi.yaml")
	if res.StatusCode != http.StatusOK || len(body) != 0 {
		t.Fatalf("HEAD /openapi.yaml: %d with %d bytes", res.StatusCode, len(body))
	}
}

// recordingTB records Errorf calls: the checks report mismatches there.
type recordingTB struct {
	testing.TB
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.errs = append(r.errs, format)
}

// TestOpenAPIValidatorCatchesMismatches: the checks the api tests run
// on every response fail on what the document does not describe: an
// undocumented status, a body against its schema, an undocumented
// Content-Type, a route the document lacks; and pass a documented answer
// and the 404 and 405 problems, through the handler wrapper and the
// round tripper both.
func TestOpenAPIValidatorCatchesMismatches(t *testing.T) {
	v := openapitest.MustNew(t)
	ctx := context.Background()
	js := http.Header{"Content-Type": {"application/json"}}
	pj := http.Header{"Content-Type": {"application/problem+json"}}
	problem := []byte(`{"type":"https://idmesh.dev/problems/not-found","title":"Not Found","status":404}`)
	for _, tc := range []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		ok                 bool
	}{
		{"documented", "GET", "/healthz", 200, js, `{"status":"ok","height":3}`, true},
		{"HEAD of a GET", "HEAD", "/healthz", 200, js, ``, true},
		{"wrong body", "GET", "/healthz", 200, js, `{"status":"ok","height":"three"}`, false},
		{"undocumented status", "GET", "/healthz", 418, js, `{}`, false},
		{"undocumented content type", "GET", "/healthz", 200, http.Header{"Content-Type": {"text/html"}}, `<p>ok`, false},
		{"bogus problem type", "POST", "/v1/operations", 400, pj, `{"type":"https://example.com/x","title":"x","status":400}`, false},
		{"own JSON media type", "GET", "/1.0/identifiers/did:key:z6Mk", 200, http.Header{"Content-Type": {"application/did-resolution"}}, `{"didDocument":null}`, false},
		{"unknown path 404 problem", "GET", "/no/such/path", 404, pj, string(problem), true},
		{"unknown path answered 200", "GET", "/no/such/path", 200, js, `{}`, false},
		{"unknown path not a problem", "GET", "/no/such/path", 404, js, `{}`, false},
		{"wrong method 405 problem", "DELETE", "/healthz", 405, pj, `{"type":"https://idmesh.dev/problems/method-not-allowed","title":"x","status":405}`, true},
		{"wrong method answered", "DELETE", "/healthz", 204, js, ``, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, nil)
			err := v.Check(ctx, req, tc.status, tc.header, []byte(tc.body), false)
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && !errors.Is(err, openapitest.ErrMismatch) {
				t.Fatalf("accepted (%v)", err)
			}
			// The same through the handler wrapper and the round tripper.
			h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				for k, vs := range tc.header {
					w.Header()[k] = vs
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			})
			rec := &recordingTB{TB: t}
			w := httptest.NewRecorder()
			v.Handler(rec, h).ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
			if w.Code != tc.status || w.Body.String() != tc.body {
				t.Fatalf("the wrapper changed the response: %d %q", w.Code, w.Body)
			}
			if (len(rec.errs) == 0) != tc.ok {
				t.Fatalf("handler wrapper: %d errors, want ok %v", len(rec.errs), tc.ok)
			}
			if tc.method == http.MethodHead {
				return // httptest's server drops HEAD bodies itself
			}
			ts := httptest.NewServer(h)
			defer ts.Close()
			rec = &recordingTB{TB: t}
			c := &http.Client{Transport: v.Transport(rec, ts.Client().Transport)}
			req, err = http.NewRequestWithContext(t.Context(), tc.method, ts.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if string(b) != tc.body {
				t.Fatalf("the round tripper changed the body: %q", b)
			}
			if (len(rec.errs) == 0) != tc.ok {
				t.Fatalf("round tripper: %d errors, want ok %v", len(rec.errs), tc.ok)
			}
		})
	}
}

// notDocumented are the routes the OpenAPI document leaves out on
// purpose, by path template: the web UI's assets (issue 17 item 1),
// which are pages, not API.
var notDocumented = map[string]bool{"/": true, "/ui/{asset}": true}

// TestOpenAPICoversRoutes walks the router of a server with every
// optional route on (the /metrics registry) and compares its methods
// and path templates with the document's operations, both ways: every
// route is documented (HEAD, which every GET route answers, by the
// GET), and every documented operation is routed. A failure lists
// exactly the routes or operations missing on the other side.
func TestOpenAPICoversRoutes(t *testing.T) {
	s := mustServer(t, func(c *api.Config) { c.Registry = prometheus.NewRegistry() })
	routed, err := api.RouteMethods(s.Server)
	if err != nil {
		t.Fatal(err)
	}
	doc := openapitest.MustNew(t).Doc()
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for m := range item.Operations() {
			documented[strings.ToUpper(m)+" "+path] = true
		}
	}
	routes := map[string]bool{}
	var missing []string
	for _, r := range routed {
		method, path, _ := strings.Cut(r, " ")
		if notDocumented[path] {
			continue
		}
		routes[r] = true
		if documented[r] || method == http.MethodHead && (documented[http.MethodGet+" "+path] || slices.Contains(routed, http.MethodGet+" "+path)) {
			continue // HEAD goes with the GET, listed once
		}
		missing = append(missing, r)
	}
	var unrouted []string
	for op := range documented {
		if !routes[op] {
			unrouted = append(unrouted, op)
		}
	}
	slices.Sort(missing)
	slices.Sort(unrouted)
	if len(missing) > 0 {
		t.Errorf("%d routes are missing from api/openapi.yaml (document each, or list a UI asset in notDocumented):\n\t%s", len(missing), strings.Join(missing, "\n\t"))
	}
	if len(unrouted) > 0 {
		t.Errorf("%d operations of api/openapi.yaml have no route:\n\t%s", len(unrouted), strings.Join(unrouted, "\n\t"))
	}
	if len(routes) < 30 {
		t.Fatalf("only %d routes walked", len(routes))
	}
}

// TestOpenAPIValidatorLargeBody: a response body over the validator's
// bound (here 1 KiB; openapitest.MaxBody by default) passes through the handler wrapper and the round
// tripper whole and unchanged; its status and headers are still checked,
// its body (not kept) is not.
func TestOpenAPIValidatorLargeBody(t *testing.T) {
	v := openapitest.MustNew(t).WithMaxBody(1 << 10)
	big := bytes.Repeat([]byte("x"), 64<<10+1) // not even JSON
	for _, tc := range []struct {
		status int
		ok     bool
	}{{http.StatusOK, true}, {http.StatusTeapot, false}} {
		h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			for b := big; len(b) > 0; b = b[min(len(b), 1000):] {
				_, _ = w.Write(b[:min(len(b), 1000)])
			}
		})
		rec := &recordingTB{TB: t}
		w := httptest.NewRecorder()
		v.Handler(rec, h).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/blocks/1", nil))
		if !bytes.Equal(w.Body.Bytes(), big) || (len(rec.errs) == 0) != tc.ok {
			t.Fatalf("handler, status %d: %d bytes through, %d errors", tc.status, w.Body.Len(), len(rec.errs))
		}
		ts := httptest.NewServer(h)
		rec = &recordingTB{TB: t}
		c := &http.Client{Transport: v.Transport(rec, ts.Client().Transport)}
		res, err := c.Get(ts.URL + "/v1/blocks/1")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		ts.Close()
		if err != nil || !bytes.Equal(b, big) || (len(rec.errs) == 0) != tc.ok {
			t.Fatalf("round tripper, status %d: %d bytes through (%v), %d errors", tc.status, len(b), err, len(rec.errs))
		}
	}
}
