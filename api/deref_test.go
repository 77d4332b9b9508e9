package api_test

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/jwk"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/web"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

const (
	derefResultType = "application/did-url-dereferencing"
	webDID          = "did:web:example.com"
)

// derefFixture is the real API over a real chain (loopback TCP, port 0)
// resolving every method: did:idmesh from the chain, did:key and did:jwk
// offline, and did:web from a TLS test server.
//
// On the chain, d was created (v1, at t1) with "#key-1" and services
// "#files" (https://files.example/base/), "#one" (a one-element array),
// "#map" (a map) and "#many" (two URIs); its update (v2, at t2) added
// "#key-2" and moved "#files" to https://files2.example/v2/. gone was
// created (goneV1) and then deactivated.
type derefFixture struct {
	*chainServer
	d, v1, v2      string
	t1, t2         time.Time
	gone, goneV1   string
	keyDID, jwkDID string
}

func mustKeyFrom(tb testing.TB, seed byte) keys.PrivateKey {
	tb.Helper()
	k, err := keys.Generate(keys.Ed25519, rand.NewChaCha8([32]byte{seed}))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func service(id, endpoint string) did.Service {
	return did.Service{ID: id, Type: did.StringSet{"LinkedDomains"}, ServiceEndpoint: json.RawMessage(endpoint)}
}

// webDocument is did:web:example.com's document: "#key-1" and a service
// "#files".
func webDocument(tb testing.TB) []byte {
	tb.Helper()
	k := mustKeyFrom(tb, 90)
	doc := did.Document{
		Context:            []any{did.ContextV1, did.ContextMultikey},
		ID:                 webDID,
		VerificationMethod: []did.VerificationMethod{did.NewMultikey("#key-1", webDID, k.Public())},
		AssertionMethod:    []did.Relationship{did.Ref("#key-1")},
		Service:            []did.Service{service("#files", `"https://web-files.example/"`)},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// webClient sends every request to a TLS test server that serves
// did:web:example.com (its certificate is valid for example.com).
func webClient(tb testing.TB) *http.Client {
	tb.Helper()
	body := webDocument(tb)
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/did.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/did+json")
		_, _ = w.Write(body)
	}))
	tb.Cleanup(ts.Close)
	tr := ts.Client().Transport.(*http.Transport).Clone()
	addr := ts.Listener.Addr().String()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: tr}
}

func mustDerefServer(t *testing.T) *derefFixture {
	t.Helper()
	wc := webClient(t)
	s := mustChainServer(t, 1, func(c *api.Config) {
		m := c.Resolver.(did.Methods)
		m["key"], m["jwk"], m[web.Method] = key.Resolver{}, jwk.Resolver{}, &web.Resolver{Client: wc}
	}, nil)
	f := &derefFixture{chainServer: s}
	commit := func(op *idmesh.Operation) (string, time.Time) {
		t.Helper()
		tx, err := registry.DIDTx(op)
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.chain.CommitBlock([]registry.Tx{tx})
		if err != nil {
			t.Fatal(err)
		}
		vid, err := op.VersionID()
		if err != nil {
			t.Fatal(err)
		}
		return vid, b.Header.Time.UTC()
	}

	k1, k2 := mustKeyFrom(t, 1), mustKeyFrom(t, 2)
	create, err := idmesh.NewCreate(registrytest.ChainID, k1,
		service("#files", `"https://files.example/base/"`),
		service("#one", `["https://one.example/x"]`),
		service("#map", `{"origins":["https://a.example"]}`),
		service("#many", `["https://a.example/","https://b.example/"]`))
	if err != nil {
		t.Fatal(err)
	}
	if f.d, err = create.SubjectDID(); err != nil {
		t.Fatal(err)
	}
	f.v1, f.t1 = commit(create)

	doc := create.Document.Clone()
	doc.VerificationMethod = append(doc.VerificationMethod, did.NewMultikey("#key-2", "", k2.Public()))
	doc.Authentication = append(doc.Authentication, did.Ref("#key-2"))
	doc.Service[0] = service("#files", `"https://files2.example/v2/"`)
	update := &idmesh.Operation{Type: idmesh.Update, DID: f.d, Previous: f.v1, Document: doc}
	if err := update.SignAll(registrytest.ChainID, idmesh.Signer{VM: "#key-1", Key: k1}, idmesh.Signer{VM: "#key-2", Key: k2}); err != nil {
		t.Fatal(err)
	}
	f.v2, f.t2 = commit(update)

	k3 := mustKeyFrom(t, 3)
	gc, err := idmesh.NewCreate(registrytest.ChainID, k3, service("#files", `"https://gone.example/"`))
	if err != nil {
		t.Fatal(err)
	}
	if f.gone, err = gc.SubjectDID(); err != nil {
		t.Fatal(err)
	}
	f.goneV1, _ = commit(gc)
	deactivate := &idmesh.Operation{Type: idmesh.Deactivate, DID: f.gone, Previous: f.goneV1}
	if err := deactivate.Sign(registrytest.ChainID, "#key-1", k3); err != nil {
		t.Fatal(err)
	}
	commit(deactivate)

	f.keyDID = key.New(mustKeyFrom(t, 4).Public())
	f.jwkDID = jwk.New(mustKeyFrom(t, 5).Public())
	return f
}

// answer is one HTTP exchange, redirects not followed.
type derefAnswer struct {
	status      int
	contentType string
	location    string
	body        []byte
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// fetch GETs /1.0/identifiers/ + target with an Accept header ("" for
// none) and does not follow redirects.
func (f *derefFixture) fetch(tb testing.TB, target, accept string) derefAnswer {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, f.url+"/1.0/identifiers/"+target, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return derefAnswer{resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Location"), b}
}

// derefBody is a dereferencing result as the tests read it.
type derefBody struct {
	Context  any `json:"@context"`
	Metadata struct {
		ContentType string       `json:"contentType"`
		Error       *did.Problem `json:"error"`
	} `json:"dereferencingMetadata"`
	ContentStream   json.RawMessage `json:"contentStream"`
	ContentMetadata map[string]any  `json:"contentMetadata"`
}

func mustDerefResult(tb testing.TB, a derefAnswer, status int) derefBody {
	tb.Helper()
	if a.status != status || a.contentType != derefResultType {
		tb.Fatalf("status %d %q, want %d %s: %s", a.status, a.contentType, status, derefResultType, a.body)
	}
	var b derefBody
	if err := json.Unmarshal(a.body, &b); err != nil {
		tb.Fatalf("decode %s: %v", a.body, err)
	}
	if b.Context != did.ContextResolution {
		tb.Fatalf("@context %v", b.Context)
	}
	return b
}

// mustDerefError checks an error result: its status, the error type,
// contentStream null and contentMetadata empty.
func mustDerefError(tb testing.TB, a derefAnswer, status int, typ string) {
	tb.Helper()
	b := mustDerefResult(tb, a, status)
	if b.Metadata.Error == nil || b.Metadata.Error.Type != typ || b.Metadata.Error.Title == "" {
		tb.Fatalf("error %+v, want %s: %s", b.Metadata.Error, typ, a.body)
	}
	if string(b.ContentStream) != "null" || len(b.ContentMetadata) != 0 {
		tb.Fatalf("an error result carries content: %s", a.body)
	}
	if a.location != "" {
		tb.Fatalf("an error redirects to %s", a.location)
	}
}

func mustObject(tb testing.TB, b []byte) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatalf("decode %s: %v", b, err)
	}
	return m
}

// TestDereferenceFragmentAccept dereferences a key fragment and a service
// fragment with each Accept the issue names: the whole result for none,
// */* and application/did-url-dereferencing; the bare object for the
// four JSON types, with the document's @context in the JSON-LD ones.
func TestDereferenceFragmentAccept(t *testing.T) {
	f := mustDerefServer(t)
	for _, frag := range []struct{ name, id, member string }{
		{"key-1", f.d + "#key-1", "publicKeyMultibase"},
		{"files", f.d + "#files", "serviceEndpoint"},
	} {
		for _, tt := range []struct {
			accept, contentType string
			result, context     bool
		}{
			{"", derefResultType, true, true},
			{"*/*", derefResultType, true, true},
			{"application/*", derefResultType, true, true},
			{derefResultType, derefResultType, true, true},
			{"application/did+ld+json", "application/did+ld+json", false, true},
			{"application/ld+json", "application/ld+json", false, true},
			{"application/did+json", "application/did+json", false, false},
			{"application/json", "application/json", false, false},
			{"text/html;q=0.9, application/json", "application/json", false, false},
		} {
			t.Run(frag.name+"/"+tt.accept, func(t *testing.T) {
				a := f.fetch(t, f.d+"%23"+frag.name, tt.accept)
				obj := a.body
				if tt.result {
					b := mustDerefResult(t, a, http.StatusOK)
					if b.Metadata.Error != nil || b.Metadata.ContentType != "application/did+ld+json" || b.ContentMetadata["versionId"] != f.v2 {
						t.Fatalf("result %s", a.body)
					}
					obj = b.ContentStream
				} else if a.status != http.StatusOK || a.contentType != tt.contentType {
					t.Fatalf("status %d %q, want 200 %q: %s", a.status, a.contentType, tt.contentType, a.body)
				}
				m := mustObject(t, obj)
				if m["id"] != frag.id || m[frag.member] == nil || m["didDocument"] != nil || m["contentStream"] != nil {
					t.Fatalf("object %s, want %s", obj, frag.id)
				}
				ctx, has := m["@context"].([]any)
				if has != tt.context || (has && (len(ctx) != 2 || ctx[0] != did.ContextV1)) {
					t.Fatalf("@context %v, want present: %v", m["@context"], tt.context)
				}
			})
		}
	}
}

// TestDereferenceSpellings sends one DID URL in each form the binding
// allows and gets the same answer: '#' as %23 after the DID written as
// is, the DID URL percent-encoded as a whole, and DID parameters in the
// encoded DID URL or in the request's query.
func TestDereferenceSpellings(t *testing.T) {
	f := mustDerefServer(t)
	enc := url.PathEscape(strings.TrimPrefix(f.d, "did:"))
	want := f.fetch(t, f.d+"%23key-1?versionId="+f.v1, "")
	mustDerefResult(t, want, http.StatusOK)
	for _, target := range []string{
		f.d + "%23key-1?versionId=" + f.v1,
		f.d + "%23KEY-1?versionId=" + f.v1, // not the same fragment: compared below
		"did%3A" + enc + "%23key-1?versionId=" + f.v1,
		"did%3a" + enc + "%3FversionId%3D" + f.v1 + "%23key-1",
		"did%3A" + enc + "%3FversionId%3D" + f.v1 + "%26x%3D1%23key%2D1",
	} {
		a := f.fetch(t, target, "")
		if strings.Contains(target, "KEY") {
			mustDerefError(t, a, http.StatusNotFound, did.ProblemNotFound)
			continue
		}
		if a.status != want.status || string(a.body) != string(want.body) {
			t.Errorf("%s: %d %s\nwant %d %s", target, a.status, a.body, want.status, want.body)
		}
	}
}

// TestDereferenceServiceRedirect: ?service=ID&relativeRef=REF answers 303
// to the service endpoint with the reference resolved, for any Accept but
// application/did-url-dereferencing, which gets the result with the URL.
func TestDereferenceServiceRedirect(t *testing.T) {
	f := mustDerefServer(t)
	// '+' is not a space in a DID URL; a space, decoded, is not a URI
	// reference.
	if a := f.fetch(t, f.d+"?service=files&relativeRef=a+b", ""); a.status != http.StatusSeeOther || a.location != "https://files2.example/v2/a+b" {
		t.Fatalf("a relativeRef with '+': %d %q", a.status, a.location)
	}
	if a := f.fetch(t, f.d+"?service=files&relativeRef=a%20b", ""); a.status != http.StatusBadRequest {
		t.Fatalf("a relativeRef with a space: %d %s", a.status, a.body) // not a URI reference
	}
	for _, tt := range []struct{ name, target, location string }{
		{"relativeRef decoded once", f.d + "?service=files&relativeRef=%2Fdocs%2Fa%2520b.pdf%3Fx%3D1", "https://files2.example/docs/a%20b.pdf?x=1"},
		{"relative path", f.d + "?service=files&relativeRef=a%2Fb", "https://files2.example/v2/a/b"},
		{"dot segments stay on the host", f.d + "?service=files&relativeRef=..%2F..%2F..%2Fetc", "https://files2.example/etc"},
		{"no relativeRef", f.d + "?service=files", "https://files2.example/v2/"},
		{"service as a fragment", f.d + "?service=%23files", "https://files2.example/v2/"},
		{"service as an absolute id", f.d + "?service=" + url.QueryEscape(f.d+"#files"), "https://files2.example/v2/"},
		{"one-element array", f.d + "?service=one&relativeRef=y", "https://one.example/y"},
		{"fragment inherited", "did%3A" + url.PathEscape(strings.TrimPrefix(f.d, "did:")) + "%3Fservice%3Dfiles%26relativeRef%3D%252Fdoc%23intro", "https://files2.example/doc#intro"},
		{"parameters split between the DID URL and the query", "did%3A" + url.PathEscape(strings.TrimPrefix(f.d, "did:")) + "%3Fservice%3Dfiles?relativeRef=x", "https://files2.example/v2/x"},
		{"versionId", f.d + "?service=files&relativeRef=x&versionId=" + f.v1, "https://files.example/base/x"},
		{"versionTime", f.d + "?service=files&versionTime=" + f.t1.Format(time.RFC3339), "https://files.example/base/"},
	} {
		for _, accept := range []string{"", "*/*", "text/html", "application/did+json", "application/did-url-dereferencing;q=0.5, text/html"} {
			t.Run(tt.name+"/"+accept, func(t *testing.T) {
				a := f.fetch(t, tt.target, accept)
				if a.status != http.StatusSeeOther || a.location != tt.location || len(a.body) != 0 {
					t.Fatalf("%d Location %q body %q, want 303 to %s", a.status, a.location, a.body, tt.location)
				}
			})
		}
		t.Run(tt.name+"/result", func(t *testing.T) {
			for _, accept := range []string{derefResultType, "text/html, application/did-url-dereferencing"} {
				b := mustDerefResult(t, f.fetch(t, tt.target, accept), http.StatusOK)
				var u string
				if err := json.Unmarshal(b.ContentStream, &u); err != nil || u != tt.location || b.Metadata.ContentType != did.MediaTypeURIList || b.ContentMetadata["versionId"] == nil {
					t.Fatalf("result %+v %s, want %s", b, b.ContentStream, tt.location)
				}
			}
		})
	}
}

// TestDereferenceVersions: versionId and versionTime select the version
// that fragments are taken from.
func TestDereferenceVersions(t *testing.T) {
	f := mustDerefServer(t)
	key2 := f.d + "%23key-2"
	for _, tt := range []struct {
		name, query string
		found       bool
		version     string
	}{
		{"latest", "", true, f.v2},
		{"versionId of v1", "?versionId=" + f.v1, false, ""},
		{"versionId of v2", "?versionId=" + f.v2, true, f.v2},
		{"versionTime of v1", "?versionTime=" + f.t1.Format(time.RFC3339), false, ""},
		{"versionTime of v2", "?versionTime=" + f.t2.Format(time.RFC3339), true, f.v2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := f.fetch(t, key2+tt.query, "")
			if !tt.found {
				mustDerefError(t, a, http.StatusNotFound, did.ProblemNotFound)
				return
			}
			b := mustDerefResult(t, a, http.StatusOK)
			if b.ContentMetadata["versionId"] != tt.version || mustObject(t, b.ContentStream)["id"] != f.d+"#key-2" {
				t.Fatalf("result %s", a.body)
			}
		})
	}
	// The service's endpoint of each version, as a bare object.
	for vid, want := range map[string]string{f.v1: "https://files.example/base/", f.v2: "https://files2.example/v2/"} {
		a := f.fetch(t, f.d+"%23files?versionId="+vid, "application/did+json")
		if m := mustObject(t, a.body); a.status != http.StatusOK || m["serviceEndpoint"] != want {
			t.Fatalf("version %s: %d %s", vid, a.status, a.body)
		}
	}
	// A document with versionId, dereferenced: the document and its metadata.
	b := mustDerefResult(t, f.fetch(t, "did%3A"+url.PathEscape(strings.TrimPrefix(f.d, "did:"))+"%3FversionId%3D"+f.v1, ""), http.StatusOK)
	if doc := mustObject(t, b.ContentStream); doc["id"] != f.d || b.ContentMetadata["versionId"] != f.v1 || b.ContentMetadata["nextVersionId"] != f.v2 {
		t.Fatalf("document: %s", b.ContentStream)
	}
}

// TestDereferenceErrors: each bad request gets its DID Resolution error
// type and status code in a dereferencing result.
func TestDereferenceErrors(t *testing.T) {
	f := mustDerefServer(t)
	enc := "did%3A" + url.PathEscape(strings.TrimPrefix(f.d, "did:"))
	for _, tt := range []struct {
		name, target, accept string
		status               int
		typ                  string
	}{
		{"DID not found", "did:idmesh:11111111111111111111111111111111%23key-1", "", 404, did.ProblemNotFound},
		{"no such fragment", f.d + "%23key-9", "", 404, did.ProblemNotFound},
		{"no such service", f.d + "?service=nothing", "", 404, did.ProblemNotFound},
		{"a map endpoint has no URL", f.d + "?service=map", "", 404, did.ProblemNotFound},
		{"several endpoints", f.d + "?service=many", "", 501, did.ProblemFeatureNotSupported},
		{"serviceType", f.d + "?serviceType=LinkedDomains", "", 501, did.ProblemFeatureNotSupported},
		{"verificationRelationship", f.d + "%23key-1?verificationRelationship=authentication", "", 501, did.ProblemFeatureNotSupported},
		{"method not supported", "did:example:123%23key-1", "", 501, did.ProblemMethodNotSupported},
		{"a DID path", enc + "%2Fpath%23key-1", "", 404, did.ProblemNotFound},
		{"invalid character in the fragment", enc + "%23a%5Eb", "", 400, did.ProblemInvalidDIDURL},
		{"empty method-specific id", "did:idmesh:%23key-1", "", 400, did.ProblemInvalidDIDURL},
		{"not a DID", "foo%23key-1", "", 400, did.ProblemInvalidDIDURL},
		{"duplicate service", f.d + "?service=files&service=files", "", 400, did.ProblemInvalidDIDURL},
		{"duplicate across the DID URL and the query", enc + "%3Fservice%3Dfiles?service=files", "", 400, did.ProblemInvalidDIDURL},
		{"relativeRef without service", f.d + "?relativeRef=x", "", 400, did.ProblemInvalidDIDURL},
		{"relativeRef to another host", f.d + "?service=files&relativeRef=%2F%2Fevil.example%2F", "", 400, did.ProblemInvalidDIDURL},
		{"relativeRef with a scheme", f.d + "?service=files&relativeRef=javascript%3Aalert(1)", "", 400, did.ProblemInvalidDIDURL},
		{"relativeRef with CRLF", f.d + "?service=files&relativeRef=x%0D%0ASet-Cookie%3A%20a", "", 400, did.ProblemInvalidDIDURL},
		{"fragment where the URL has one", f.d + "%23intro?service=files&relativeRef=a%23b", "", 400, did.ProblemInvalidDIDURL},
		{"bad versionTime", f.d + "%23key-1?versionTime=yesterday", "", 400, did.ProblemInvalidOptions},
		{"both versionId and versionTime", f.d + "%23key-1?versionId=" + f.v1 + "&versionTime=" + f.t1.Format(time.RFC3339), "", 400, did.ProblemInvalidOptions},
		{"unknown versionId", f.d + "%23key-1?versionId=nope", "", 404, did.ProblemNotFound},
		{"unsupported Accept", f.d + "%23key-1", "text/html", 406, did.ProblemRepresentationNotSupported},
		{"application/did is a document type", f.d + "%23key-1", "application/did", 406, did.ProblemRepresentationNotSupported},
		{"resolution result asked for", f.d + "%23key-1", "application/did-resolution", 406, did.ProblemRepresentationNotSupported},
		{"refused with q=0", f.d + "%23key-1", "*/*, application/did-url-dereferencing;q=0, application/did+ld+json;q=0, application/did+json;q=0, application/ld+json;q=0, application/json;q=0", 406, did.ProblemRepresentationNotSupported},
		{"query too long", f.d + "%23key-1?x=" + strings.Repeat("a", did.MaxQueryBytes), "", 400, did.ProblemInvalidDIDURL},
		{"too many parameters", f.d + "%23key-1?" + strings.Repeat("x=1&", did.MaxQueryParameters) + "x=1", "", 400, did.ProblemInvalidDIDURL},
		{"DID URL too long", f.d + "%23" + strings.Repeat("k", did.MaxLength), "", 400, did.ProblemInvalidDIDURL},
		{"identifier too long to decode", "did%3A" + strings.Repeat("%41", did.MaxLength+1) + "%23k", "", 400, did.ProblemInvalidDIDURL},
		{"did:key has no versions", f.keyDID + "%23x?versionId=1", "", 501, did.ProblemFeatureNotSupported},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mustDerefError(t, f.fetch(t, tt.target, tt.accept), tt.status, tt.typ)
		})
	}
}

// TestDereferenceDeactivated: a deactivated DID answers 410 with the
// whole result, whatever was asked, and redirects nowhere.
func TestDereferenceDeactivated(t *testing.T) {
	f := mustDerefServer(t)
	for _, tt := range []struct {
		name, target, accept string
		content              bool
	}{
		{"fragment of the latest version", f.gone + "%23key-1", "application/did+json", false},
		{"fragment of the version before", f.gone + "%23key-1?versionId=" + f.goneV1, "", true},
		{"service", f.gone + "?service=files&relativeRef=x", "", false},
		{"service of the version before", f.gone + "?service=files&versionId=" + f.goneV1, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := mustDerefResult(t, f.fetch(t, tt.target, tt.accept), http.StatusGone)
			if b.ContentMetadata["deactivated"] != true || b.Metadata.Error != nil || (string(b.ContentStream) != "null") == !tt.content {
				t.Fatalf("result %+v %s", b, b.ContentStream)
			}
		})
	}
}

// TestDereferenceEveryMethod dereferences a key fragment of each method
// idmesh resolves, and a did:web service.
func TestDereferenceEveryMethod(t *testing.T) {
	f := mustDerefServer(t)
	keyFrag := f.keyDID[len("did:key:"):]
	for _, tt := range []struct{ method, target, id string }{
		{"idmesh", f.d + "%23key-1", f.d + "#key-1"},
		{"key", f.keyDID + "%23" + keyFrag, f.keyDID + "#" + keyFrag},
		{"jwk", f.jwkDID + "%230", f.jwkDID + "#0"},
		{"web", webDID + "%23key-1", webDID + "#key-1"},
		{"web, encoded as a whole", "did%3Aweb%3Aexample.com%23key-1", webDID + "#key-1"},
	} {
		t.Run(tt.method, func(t *testing.T) {
			b := mustDerefResult(t, f.fetch(t, tt.target, ""), http.StatusOK)
			if m := mustObject(t, b.ContentStream); m["id"] != tt.id || m["type"] == nil {
				t.Fatalf("content %s, want %s", b.ContentStream, tt.id)
			}
			a := f.fetch(t, tt.target, "application/did+json")
			if m := mustObject(t, a.body); a.status != 200 || m["id"] != tt.id || m["@context"] != nil {
				t.Fatalf("bare: %d %s", a.status, a.body)
			}
		})
	}
	if a := f.fetch(t, webDID+"?service=files&relativeRef=p", ""); a.status != http.StatusSeeOther || a.location != "https://web-files.example/p" {
		t.Fatalf("did:web service: %d %q %s", a.status, a.location, a.body)
	}
}

// TestResolvePlainDIDWithDereferencingAccept: a plain DID asked for with
// application/did-url-dereferencing, which resolution alone answered 406,
// is dereferenced to its document; every other answer is resolution's.
func TestResolvePlainDIDWithDereferencingAccept(t *testing.T) {
	f := mustDerefServer(t)
	b := mustDerefResult(t, f.fetch(t, f.d, derefResultType), http.StatusOK)
	if doc := mustObject(t, b.ContentStream); doc["id"] != f.d || b.ContentMetadata["versionId"] != f.v2 || b.Metadata.ContentType != "application/did+ld+json" {
		t.Fatalf("result %+v", b)
	}
	for accept, status := range map[string]int{"": 200, "application/json": 406, "application/ld+json": 406, "text/html": 406} {
		a := f.fetch(t, f.d, accept)
		if a.status != status || a.contentType != did.MediaTypeDIDResolution && status != 200 {
			t.Fatalf("Accept %q: %d %q", accept, a.status, a.contentType)
		}
	}
	// Unknown query parameters are still ignored, but a query beyond the
	// bounds is refused.
	if a := f.fetch(t, f.d+"?foo=bar", ""); a.status != 200 {
		t.Fatalf("?foo=bar: %d", a.status)
	}
	a := f.fetch(t, f.d+"?"+strings.Repeat("x=1&", did.MaxQueryParameters)+"x=1", "")
	var res resolutionBody
	if err := json.Unmarshal(a.body, &res); err != nil || a.status != 400 || res.Metadata.Error == nil || res.Metadata.Error.Type != did.ProblemInvalidDIDURL {
		t.Fatalf("too many parameters: %d %s", a.status, a.body)
	}
}

// TestDereferenceConcurrent sends many dereferences at once, with
// distinct relativeRefs, fragments and representations, and checks each
// answer (run with -race).
func TestDereferenceConcurrent(t *testing.T) {
	f := mustDerefServer(t)
	type request struct{ target, accept string }
	reqs := make([]request, 64)
	for i := range reqs {
		switch i % 3 {
		case 0:
			reqs[i] = request{f.d + "?service=files&relativeRef=" + strings.Repeat("a", i+1), ""}
		case 1:
			reqs[i] = request{f.d + "%23key-1", "application/did+json"}
		default:
			reqs[i] = request{f.d + "%23nope", ""}
		}
	}
	answers := make([]derefAnswer, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() {
			req, err := http.NewRequest(http.MethodGet, f.url+"/1.0/identifiers/"+r.target, nil)
			if err != nil {
				errs[i] = err
				return
			}
			if r.accept != "" {
				req.Header.Set("Accept", r.accept)
			}
			resp, err := noRedirects.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			answers[i], errs[i] = derefAnswer{resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Location"), b}, err
		})
	}
	wg.Wait()
	for i, a := range answers {
		if errs[i] != nil {
			t.Fatalf("%d: %v", i, errs[i])
		}
		switch i % 3 {
		case 0:
			if want := "https://files2.example/v2/" + strings.Repeat("a", i+1); a.status != 303 || a.location != want {
				t.Errorf("%d: %d %q, want 303 to %s", i, a.status, a.location, want)
			}
		case 1:
			if a.status != 200 || mustObject(t, a.body)["id"] != f.d+"#key-1" {
				t.Errorf("%d: %d %s", i, a.status, a.body)
			}
		default:
			mustDerefError(t, a, 404, did.ProblemNotFound)
		}
	}
}

// TestDereferenceCache: a dereferencing answer, a redirect included, is
// cached until the next block; errors are not; a different relativeRef or
// representation is another entry.
func TestDereferenceCache(t *testing.T) {
	s := mustServer(t, func(c *api.Config) { c.ResolveCacheBytes = 1 << 20 })
	s.resolver.res.DIDDocument.Service = []did.Service{service("#files", `"https://files.example/"`)}
	s.resolver.res.DIDDocument.VerificationMethod = []did.VerificationMethod{did.NewMultikey("#key-1", testDID, mustKeyFrom(t, 7).Public())}
	get := func(target, accept string) *httptest.ResponseRecorder {
		return s.do(http.MethodGet, "/1.0/identifiers/"+target, nil, "Accept", accept)
	}
	for range 2 {
		if w := get(testDID+"?service=files&relativeRef=a", ""); w.Code != 303 || w.Header().Get("Location") != "https://files.example/a" {
			t.Fatalf("%d %q", w.Code, w.Header().Get("Location"))
		}
	}
	if n := s.resolver.numCalls(); n != 1 {
		t.Fatalf("resolver called %d times for one redirect, want 1", n)
	}
	get(testDID+"?service=files&relativeRef=b", "")
	first := get(testDID+"%23key-1", "")
	second := get(testDID+"%23key-1", "")
	if n := s.resolver.numCalls(); n != 3 || first.Body.String() != second.Body.String() || second.Header().Get("Content-Type") != derefResultType {
		t.Fatalf("resolver called %d times, want 3; %s", n, second.Body)
	}
	get(testDID+"%23key-1", "application/did+json")
	get(testDID+"%23nope", "")
	get(testDID+"%23nope", "")
	if n := s.resolver.numCalls(); n != 6 {
		t.Fatalf("resolver called %d times, want 6 (errors not cached)", n)
	}
	s.ledger.addBlock()
	get(testDID+"%23key-1", "")
	if n := s.resolver.numCalls(); n != 7 {
		t.Fatalf("resolver called %d times after a block, want 7", n)
	}
}

// TestDereferenceRedirectsOnlyToWeb: the node answers a service
// dereference with a 303 only to an http or https endpoint; an endpoint
// of any other scheme (javascript:, data:, a custom one) is named in the
// dereferencing result (200, no Location) for the client to judge, so
// that the node's origin never redirects a browser there.
func TestDereferenceRedirectsOnlyToWeb(t *testing.T) {
	f := mustDerefServer(t)
	k := mustKeyFrom(t, 9)
	create, err := idmesh.NewCreate(registrytest.ChainID, k,
		service("#script", `"javascript:alert(1)"`), service("#data", `"data:text/html,hi"`), service("#web", `"HTTPS://web.example/"`))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := registry.DIDTx(create)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.chain.CommitBlock([]registry.Tx{tx}); err != nil {
		t.Fatal(err)
	}
	d, _ := create.SubjectDID()
	for svc, scheme := range map[string]string{"script": "javascript:", "data": "data:"} {
		for _, accept := range []string{"", "text/html", "application/did+json"} {
			a := f.fetch(t, d+"?service="+svc, accept)
			if a.status != http.StatusOK || a.location != "" {
				t.Fatalf("%s, Accept %q: %d Location %q, want 200 without a redirect", svc, accept, a.status, a.location)
			}
			b := mustDerefResult(t, a, http.StatusOK)
			var u string
			if err := json.Unmarshal(b.ContentStream, &u); err != nil || !strings.HasPrefix(u, scheme) {
				t.Fatalf("%s: contentStream %s", svc, b.ContentStream)
			}
		}
	}
	if a := f.fetch(t, d+"?service=web", ""); a.status != http.StatusSeeOther || a.location != "HTTPS://web.example/" {
		t.Fatalf("an https endpoint: %d %q", a.status, a.location)
	}
}
