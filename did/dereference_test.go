package did_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/keys"
)

const derefDID = "did:example:123"

// derefDocument is a document with a relative and an absolute method id,
// an embedded method and services of each endpoint shape.
func derefDocument(tb testing.TB) *did.Document {
	tb.Helper()
	rng := rand.NewChaCha8([32]byte{1})
	k1, err := keys.Generate(keys.Ed25519, rng)
	if err != nil {
		tb.Fatal(err)
	}
	k2, err := keys.Generate(keys.P256, rng)
	if err != nil {
		tb.Fatal(err)
	}
	embedded := did.NewJsonWebKey(derefDID+"#embedded", derefDID, k2.Public())
	return &did.Document{
		Context: []any{did.ContextV1, did.ContextMultikey},
		ID:      derefDID,
		VerificationMethod: []did.VerificationMethod{
			did.NewMultikey("#key-1", derefDID, k1.Public()),
			did.NewMultikey(derefDID+"#key-2", derefDID, k2.Public()),
		},
		Authentication: []did.Relationship{did.Ref("#key-1"), {Embedded: &embedded}},
		Service: []did.Service{
			{ID: "#files", Type: did.StringSet{"Files"}, ServiceEndpoint: json.RawMessage(`"https://files.example/base/"`)},
			{ID: derefDID + "#one", Type: did.StringSet{"One"}, ServiceEndpoint: json.RawMessage(`["https://one.example/x"]`)},
			{ID: "#map", Type: did.StringSet{"Map"}, ServiceEndpoint: json.RawMessage(`{"origins":["https://a.example"]}`)},
			{ID: "#many", Type: did.StringSet{"Many"}, ServiceEndpoint: json.RawMessage(`["https://a.example","https://b.example"]`)},
			{ID: "#frag", Type: did.StringSet{"Frag"}, ServiceEndpoint: json.RawMessage(`"https://f.example/p#top"`)},
		},
	}
}

func TestParseParameters(t *testing.T) {
	vt := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ok := []struct {
		name    string
		queries []string
		want    did.Parameters
	}{
		{"none", nil, did.Parameters{}},
		{"empty queries", []string{"", ""}, did.Parameters{}},
		{"service and relativeRef decoded once", []string{"service=files&relativeRef=%2Fa%2Fb%3Fv%3D1"}, did.Parameters{Service: "files", RelativeRef: "/a/b?v=1"}},
		{"plus is not a space", []string{"service=a+b"}, did.Parameters{Service: "a+b"}},
		{"unknown names ignored", []string{"x=1&y&service=s&z=%2F"}, did.Parameters{Service: "s"}},
		{"across queries", []string{"service=s", "versionId=v1"}, did.Parameters{Service: "s", VersionID: "v1"}},
		{"versionTime", []string{"versionTime=2026-01-02T03:04:05Z"}, did.Parameters{VersionTime: vt}},
		{"pct-encoded name", []string{"%73ervice=s"}, did.Parameters{Service: "s"}},
		{"relativeRef with a fragment", []string{"service=s&relativeRef=a%23b"}, did.Parameters{Service: "s", RelativeRef: "a#b"}},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			got, err := did.ParseParameters(tt.queries...)
			if err != nil || got != tt.want {
				t.Fatalf("ParseParameters(%q) = %+v, %v; want %+v", tt.queries, got, err, tt.want)
			}
		})
	}
	many := strings.Repeat("x=1&", did.MaxQueryParameters) + "x=1"
	bad := []struct {
		name    string
		queries []string
		want    error
	}{
		{"duplicate service", []string{"service=a&service=b"}, did.ErrInvalidDIDURL},
		{"duplicate across queries", []string{"versionId=a", "versionId=a"}, did.ErrInvalidDIDURL},
		{"duplicate through pct-encoding", []string{"service=a&%73ervice=a"}, did.ErrInvalidDIDURL},
		{"empty value", []string{"service="}, did.ErrInvalidDIDURL},
		{"no value", []string{"relativeRef"}, did.ErrInvalidDIDURL},
		{"malformed pct-encoding in a value", []string{"x=%zz"}, did.ErrInvalidDIDURL},
		{"malformed pct-encoding in a name", []string{"%zz=1"}, did.ErrInvalidDIDURL},
		{"too many parameters", []string{many}, did.ErrInvalidDIDURL},
		{"too many across queries", []string{strings.Repeat("x=1&", 10) + "x=1", strings.Repeat("y=1&", 10) + "y=1"}, did.ErrInvalidDIDURL},
		{"too long", []string{"x=" + strings.Repeat("a", did.MaxQueryBytes)}, did.ErrInvalidDIDURL},
		{"relativeRef with a scheme", []string{"service=s&relativeRef=https%3A%2F%2Fevil.example%2F"}, did.ErrInvalidDIDURL},
		{"relativeRef to another host", []string{"service=s&relativeRef=%2F%2Fevil.example%2Fx"}, did.ErrInvalidDIDURL},
		{"relativeRef with a space", []string{"service=s&relativeRef=a%20b"}, did.ErrInvalidDIDURL},
		{"relativeRef with a newline", []string{"service=s&relativeRef=a%0D%0ALocation:x"}, did.ErrInvalidDIDURL},
		{"relativeRef with two fragments", []string{"service=s&relativeRef=a%23b%23c"}, did.ErrInvalidDIDURL},
		{"relativeRef javascript", []string{"service=s&relativeRef=javascript:alert(1)"}, did.ErrInvalidDIDURL},
		{"versionTime not a datetime", []string{"versionTime=yesterday"}, did.ErrInvalidOptions},
		{"verificationRelationship", []string{"verificationRelationship=authentication"}, did.ErrFeatureNotSupported},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := did.ParseParameters(tt.queries...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseParameters(%.80q) error %v, want %v", tt.queries, err, tt.want)
			}
		})
	}
}

func TestDocumentSelect(t *testing.T) {
	doc := derefDocument(t)
	for _, tt := range []struct {
		fragment, wantID string
		service          bool
	}{
		{"key-1", "#key-1", false},            // relative id in the document
		{"key-2", derefDID + "#key-2", false}, // absolute id in the document
		{"key%2D1", "#key-1", false},          // unreserved pct-encoding normalized
		{"embedded", derefDID + "#embedded", false},
		{"files", "#files", true},
		{"one", derefDID + "#one", true},
	} {
		got, ok := doc.Select(tt.fragment)
		if !ok {
			t.Fatalf("Select(%q) found nothing", tt.fragment)
		}
		switch {
		case tt.service && (got.Service == nil || got.Service.ID != tt.wantID || got.Method != nil):
			t.Fatalf("Select(%q) = %+v, want service %s", tt.fragment, got, tt.wantID)
		case !tt.service && (got.Method == nil || got.Method.ID != tt.wantID || got.Service != nil):
			t.Fatalf("Select(%q) = %+v, want method %s", tt.fragment, got, tt.wantID)
		}
		if len(got.Context) != 2 {
			t.Fatalf("Select(%q) context %v", tt.fragment, got.Context)
		}
	}
	for _, f := range []string{"key-3", "KEY-1", "", "key-1#x", derefDID + "#key-1"} {
		if got, ok := doc.Select(f); ok {
			t.Fatalf("Select(%q) = %+v, want nothing", f, got)
		}
	}
}

func TestResourceJSON(t *testing.T) {
	doc := derefDocument(t)
	vm, _ := doc.Select("key-1")
	b, err := json.Marshal(vm)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), `{"@context":["https://www.w3.org/ns/did/v1","https://w3id.org/security/multikey/v1"],"id":"#key-1","type":"Multikey"`) {
		t.Fatalf("method with context: %s", b)
	}
	b, _ = json.Marshal(vm.WithoutContext())
	if strings.Contains(string(b), "@context") || !strings.HasPrefix(string(b), `{"id":"#key-1"`) {
		t.Fatalf("method without context: %s", b)
	}
	svc, _ := doc.Select("files")
	b, _ = json.Marshal(svc)
	if string(b) != `{"@context":["https://www.w3.org/ns/did/v1","https://w3id.org/security/multikey/v1"],"id":"#files","type":"Files","serviceEndpoint":"https://files.example/base/"}` {
		t.Fatalf("service with context: %s", b)
	}
	b, _ = json.Marshal(svc.WithoutContext())
	if string(b) != `{"id":"#files","type":"Files","serviceEndpoint":"https://files.example/base/"}` {
		t.Fatalf("service without context: %s", b)
	}
}

func TestServiceURL(t *testing.T) {
	doc := derefDocument(t)
	ok := []struct{ service, ref, fragment, want string }{
		{"files", "", "", "https://files.example/base/"},
		{"#files", "", "", "https://files.example/base/"},
		{derefDID + "#files", "", "", "https://files.example/base/"},
		{"files", "doc.pdf", "", "https://files.example/base/doc.pdf"},
		{"files", "/root?v=2", "", "https://files.example/root?v=2"},
		{"files", "../../../../x", "", "https://files.example/x"},
		{"files", "a", "intro", "https://files.example/base/a#intro"},
		{"files", "a#sec", "", "https://files.example/base/a#sec"},
		{"one", "y", "", "https://one.example/y"},
		{"frag", "", "", "https://f.example/p#top"},
	}
	for _, tt := range ok {
		got, err := doc.ServiceURL(tt.service, tt.ref, tt.fragment)
		if err != nil || got != tt.want {
			t.Errorf("ServiceURL(%q, %q, %q) = %q, %v; want %q", tt.service, tt.ref, tt.fragment, got, err, tt.want)
		}
	}
	bad := []struct {
		service, ref, fragment string
		want                   error
	}{
		{"nothing", "", "", did.ErrNotFound},
		{"did:example:other#files", "", "", did.ErrNotFound},
		{"map", "", "", did.ErrNotFound},
		{"many", "", "", did.ErrFeatureNotSupported},
		{"files", "//evil.example/", "", did.ErrInvalidDIDURL},
		{"files", "https://evil.example/", "", did.ErrInvalidDIDURL},
		{"frag", "", "intro", did.ErrInvalidDIDURL}, // the endpoint has a fragment already
		{"files", "a#sec", "intro", did.ErrInvalidDIDURL},
	}
	for _, tt := range bad {
		got, err := doc.ServiceURL(tt.service, tt.ref, tt.fragment)
		if !errors.Is(err, tt.want) {
			t.Errorf("ServiceURL(%q, %q, %q) = %q, %v; want %v", tt.service, tt.ref, tt.fragment, got, err, tt.want)
		}
	}
	// The not-found detail is about the resource, not the DID.
	if _, err := doc.ServiceURL("nothing", "", ""); strings.Contains(err.Error(), did.ErrNotFound.Error()) {
		t.Fatalf("detail %q says the DID was not found", err)
	}
}

// optsResolver answers with a fixed result and records its options.
type optsResolver struct {
	res  *did.ResolutionResult
	err  error
	did  string
	opts did.Options
}

func (r *optsResolver) Resolve(_ context.Context, d string, opts did.Options) (*did.ResolutionResult, error) {
	r.did, r.opts = d, opts
	if r.err != nil {
		return nil, r.err
	}
	res := *r.res
	return &res, nil
}

func TestDereference(t *testing.T) {
	doc := derefDocument(t)
	md := did.DocumentMetadata{VersionID: "v2"}
	r := &optsResolver{res: &did.ResolutionResult{DIDDocument: doc, DIDDocumentMetadata: md}}
	vt := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	t.Run("fragment", func(t *testing.T) {
		res, err := did.Dereference(t.Context(), r, did.URL{DID: did.MustParse(derefDID), Fragment: "key-1"}, did.Parameters{VersionTime: vt})
		if err != nil {
			t.Fatal(err)
		}
		n, ok := res.ContentStream.(did.Resource)
		if !ok || n.Method == nil || n.Method.ID != "#key-1" || res.DereferencingMetadata.ContentType != did.MediaTypeDIDLDJSON || res.ContentMetadata.VersionID != "v2" {
			t.Fatalf("result %+v", res)
		}
		if r.did != derefDID || !r.opts.VersionTime.Equal(vt) || r.opts.Accept != did.MediaTypeDIDLDJSON {
			t.Fatalf("resolved %s with %+v", r.did, r.opts)
		}
	})
	t.Run("service", func(t *testing.T) {
		res, err := did.Dereference(t.Context(), r, did.URL{DID: did.MustParse(derefDID), Fragment: "f"}, did.Parameters{Service: "files", RelativeRef: "x", VersionID: "v1"})
		if err != nil {
			t.Fatal(err)
		}
		if res.ContentStream != "https://files.example/base/x#f" || res.DereferencingMetadata.ContentType != did.MediaTypeURIList || r.opts.VersionID != "v1" {
			t.Fatalf("result %+v, options %+v", res, r.opts)
		}
	})
	t.Run("document", func(t *testing.T) {
		res, err := did.Dereference(t.Context(), r, did.URL{DID: did.MustParse(derefDID)}, did.Parameters{})
		if err != nil || res.ContentStream != doc {
			t.Fatalf("result %+v, %v", res, err)
		}
	})
	for _, tt := range []struct {
		name string
		u    did.URL
		p    did.Parameters
		want error
	}{
		{"no such fragment", did.URL{DID: did.MustParse(derefDID), Fragment: "nope"}, did.Parameters{}, did.ErrNotFound},
		{"path", did.URL{DID: did.MustParse(derefDID), Path: "/x"}, did.Parameters{}, did.ErrNotFound},
		{"serviceType", did.URL{DID: did.MustParse(derefDID)}, did.Parameters{ServiceType: "Files"}, did.ErrFeatureNotSupported},
		{"relativeRef alone", did.URL{DID: did.MustParse(derefDID)}, did.Parameters{RelativeRef: "x"}, did.ErrInvalidDIDURL},
		{"no such service", did.URL{DID: did.MustParse(derefDID)}, did.Parameters{Service: "nope"}, did.ErrNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if res, err := did.Dereference(t.Context(), r, tt.u, tt.p); !errors.Is(err, tt.want) {
				t.Fatalf("result %+v, error %v; want %v", res, err, tt.want)
			}
		})
	}
	t.Run("resolver error", func(t *testing.T) {
		failing := &optsResolver{err: did.ErrNotFound}
		if _, err := did.Dereference(t.Context(), failing, did.URL{DID: did.MustParse(derefDID), Fragment: "key-1"}, did.Parameters{}); !errors.Is(err, did.ErrNotFound) {
			t.Fatal(err)
		}
	})
	t.Run("deactivated", func(t *testing.T) {
		gone := &optsResolver{res: &did.ResolutionResult{DIDDocument: &did.Document{Context: []any{did.ContextV1}, ID: derefDID}, DIDDocumentMetadata: did.DocumentMetadata{Deactivated: true}}}
		for _, u := range []did.URL{{DID: did.MustParse(derefDID), Fragment: "key-1"}, {DID: did.MustParse(derefDID)}} {
			res, err := did.Dereference(t.Context(), gone, u, did.Parameters{})
			if err != nil || !res.ContentMetadata.Deactivated {
				t.Fatalf("%s: %+v, %v", u, res, err)
			}
		}
		res, err := did.Dereference(t.Context(), gone, did.URL{DID: did.MustParse(derefDID)}, did.Parameters{Service: "files"})
		if err != nil || res.ContentStream != nil || !res.ContentMetadata.Deactivated {
			t.Fatalf("service of a deactivated DID: %+v, %v", res, err)
		}
	})
}

func TestDereferencingErrorJSON(t *testing.T) {
	b, err := json.Marshal(did.DereferencingError(did.ErrNotFound))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"@context":"https://w3id.org/did-resolution/v1","dereferencingMetadata":{"error":{"type":"https://www.w3.org/ns/did#NOT_FOUND","title":"Not found","detail":"DID not found"}},"contentStream":null,"contentMetadata":{}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

// FuzzParseParameters checks that any query parses or fails with one of
// the documented sentinels, within the bounds, and that an accepted
// relativeRef keeps its service's scheme and host.
func FuzzParseParameters(f *testing.F) {
	for _, s := range []string{
		"service=files&relativeRef=%2Fa%3Fb", "service=a&service=b", "versionTime=2026-01-02T03:04:05Z",
		"x=%zz", "relativeRef=%2F%2Fevil", "&&&", "=", "service=%23x", "verificationRelationship=a",
	} {
		f.Add(s, "versionId=1")
	}
	doc := derefDocument(f)
	f.Fuzz(func(t *testing.T, q1, q2 string) {
		p, err := did.ParseParameters(q1, q2)
		if err != nil {
			if !errors.Is(err, did.ErrInvalidDIDURL) && !errors.Is(err, did.ErrInvalidOptions) && !errors.Is(err, did.ErrFeatureNotSupported) {
				t.Fatalf("error %v wraps no documented sentinel", err)
			}
			return
		}
		if len(q1) > did.MaxQueryBytes || len(q2) > did.MaxQueryBytes {
			t.Fatal("a query over the bound parsed")
		}
		if p.RelativeRef == "" {
			return
		}
		u, err := doc.ServiceURL("files", p.RelativeRef, "")
		if err != nil {
			t.Fatalf("an accepted relativeRef %q is refused: %v", p.RelativeRef, err)
		}
		if !strings.HasPrefix(u, "https://files.example/") {
			t.Fatalf("relativeRef %q leads to %q", p.RelativeRef, u)
		}
	})
}
