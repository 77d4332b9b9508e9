package did_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/idmesh/idmesh/did"
)

func TestProblemFor(t *testing.T) {
	tests := []struct {
		err    error
		uri    string
		status int
	}{
		{did.ErrInvalidDID, "https://www.w3.org/ns/did#INVALID_DID", 400},
		{did.ErrInvalidDIDURL, "https://www.w3.org/ns/did#INVALID_DID_URL", 400},
		{did.ErrInvalidOptions, "https://www.w3.org/ns/did#INVALID_OPTIONS", 400},
		{did.ErrNotFound, "https://www.w3.org/ns/did#NOT_FOUND", 404},
		{did.ErrRepresentationNotSupported, "https://www.w3.org/ns/did#REPRESENTATION_NOT_SUPPORTED", 406},
		{did.ErrInvalidDocument, "https://www.w3.org/ns/did#INVALID_DID_DOCUMENT", 500},
		{did.ErrMethodNotSupported, "https://www.w3.org/ns/did#METHOD_NOT_SUPPORTED", 501},
		{did.ErrFeatureNotSupported, "https://www.w3.org/ns/did#FEATURE_NOT_SUPPORTED", 501},
		{did.ErrInternal, "https://www.w3.org/ns/did#INTERNAL_ERROR", 500},
		{errors.New("disk on fire"), "https://www.w3.org/ns/did#INTERNAL_ERROR", 500},
	}
	for _, tc := range tests {
		t.Run(tc.uri, func(t *testing.T) {
			wrapped := fmt.Errorf("resolve did:ex:1: %w", tc.err)
			p := did.ProblemFor(wrapped)
			if p.Type != tc.uri || p.Title == "" || p.Detail != wrapped.Error() {
				t.Fatalf("ProblemFor = %+v", p)
			}
			if p.HTTPStatus() != tc.status {
				t.Fatalf("HTTPStatus() = %d, want %d", p.HTTPStatus(), tc.status)
			}
			back := p.Err()
			if tc.uri != did.ProblemInternalError && !errors.Is(back, tc.err) {
				t.Fatalf("Err() = %v, want it to wrap %v", back, tc.err)
			}
			if !errors.Is(back, did.ErrInternal) && tc.uri == did.ProblemInternalError {
				t.Fatalf("Err() = %v, want ErrInternal", back)
			}
		})
	}
	if did.ProblemFor(nil) != nil {
		t.Fatal("ProblemFor(nil) != nil")
	}
	// An invalid DID URL also wraps ErrInvalidDID; it maps to INVALID_DID_URL.
	_, err := did.ParseURL("did:X:1")
	if p := did.ProblemFor(err); p.Type != did.ProblemInvalidDIDURL {
		t.Fatalf("ProblemFor(ParseURL error) = %s", p.Type)
	}
	unknown := &did.Problem{Type: "https://example.com/other", Detail: "x"}
	if unknown.HTTPStatus() != 500 || !errors.Is(unknown.Err(), did.ErrInternal) {
		t.Fatal("unknown problem type")
	}
}

func TestErrorResultJSON(t *testing.T) {
	b, err := json.Marshal(did.ErrorResult(fmt.Errorf("resolve: %w", did.ErrNotFound)))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"didDocument": nil,
		"didResolutionMetadata": map[string]any{
			"error": map[string]any{
				"type":   "https://www.w3.org/ns/did#NOT_FOUND",
				"title":  "Not found",
				"detail": "resolve: DID not found",
			},
		},
		"didDocumentMetadata": map[string]any{},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ErrorResult JSON = %s", b)
	}
}

func TestResolutionResultJSON(t *testing.T) {
	res := &did.ResolutionResult{
		Context:               did.ContextResolution,
		DIDDocument:           MustLoadDocument(t),
		DIDResolutionMetadata: did.ResolutionMetadata{ContentType: did.MediaTypeDIDLDJSON},
		DIDDocumentMetadata: did.DocumentMetadata{
			Created:     "2024-01-02T03:04:05Z",
			Deactivated: true,
			VersionID:   "7",
			Extra: map[string]any{
				"blockHeight": 42.0,
				"versionId":   "ignored: named fields win",
				"method":      map[string]any{"network": "test"},
			},
		},
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	meta := raw["didDocumentMetadata"].(map[string]any)
	wantMeta := map[string]any{
		"created": "2024-01-02T03:04:05Z", "deactivated": true, "versionId": "7",
		"blockHeight": 42.0, "method": map[string]any{"network": "test"},
	}
	if !reflect.DeepEqual(meta, wantMeta) {
		t.Fatalf("didDocumentMetadata = %v", meta)
	}
	if raw["@context"] != did.ContextResolution {
		t.Fatalf("@context = %v", raw["@context"])
	}
	var back did.ResolutionResult
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	wantExtra := map[string]any{"blockHeight": 42.0, "method": map[string]any{"network": "test"}}
	if !reflect.DeepEqual(back.DIDDocumentMetadata.Extra, wantExtra) || back.DIDDocumentMetadata.VersionID != "7" || !back.DIDDocumentMetadata.Deactivated {
		t.Fatalf("decoded metadata = %+v", back.DIDDocumentMetadata)
	}
	if back.DIDDocument == nil || back.DIDDocument.ID != "did:example:123" {
		t.Fatalf("decoded document = %+v", back.DIDDocument)
	}
	var empty did.DocumentMetadata
	if err := json.Unmarshal([]byte(`{}`), &empty); err != nil || empty.Extra != nil {
		t.Fatalf("empty metadata = %+v, %v", empty, err)
	}
}

func TestFormatTime(t *testing.T) {
	var m did.DocumentMetadata
	if err := json.Unmarshal([]byte(`{"created":"2024-01-02T03:04:05Z"}`), &m); err != nil {
		t.Fatal(err)
	}
	tm, err := timeParse(m.Created)
	if err != nil {
		t.Fatal(err)
	}
	if got := did.FormatTime(tm.Add(999_000_000)); got != "2024-01-02T03:04:05Z" {
		t.Fatalf("FormatTime = %s", got)
	}
}

// fakeResolver returns a fixed result or error and records calls.
type fakeResolver struct {
	res   *did.ResolutionResult
	err   error
	calls int
}

func (f *fakeResolver) Resolve(_ context.Context, _ string, _ did.Options) (*did.ResolutionResult, error) {
	f.calls++
	return f.res, f.err
}

func TestMethodsDispatch(t *testing.T) {
	doc := MustLoadDocument(t)
	ok := &fakeResolver{res: &did.ResolutionResult{DIDDocument: doc}}
	missing := &fakeResolver{err: fmt.Errorf("resolve: %w", did.ErrNotFound)}
	wrongID := &fakeResolver{res: &did.ResolutionResult{DIDDocument: doc}}
	nilRes := &fakeResolver{}
	m := did.Methods{"example": ok, "gone": missing, "liar": wrongID, "nil": nilRes}

	tests := []struct {
		name, did string
		opts      did.Options
		want      error
	}{
		{"ok", "did:example:123", did.Options{}, nil},
		{"not found", "did:gone:1", did.Options{}, did.ErrNotFound},
		{"unknown method", "did:other:1", did.Options{}, did.ErrMethodNotSupported},
		{"invalid did", "did:Example:1", did.Options{}, did.ErrInvalidDID},
		{"did url", "did:example:123#key-1", did.Options{}, did.ErrInvalidDID},
		{"bad accept", "did:example:123", did.Options{Accept: "text/html"}, did.ErrRepresentationNotSupported},
		{"wrong document id", "did:liar:1", did.Options{}, did.ErrInvalidDocument},
		{"nil result", "did:nil:1", did.Options{}, did.ErrInternal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := m.Resolve(t.Context(), tc.did, tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Resolve error = %v, want %v", err, tc.want)
			}
			if (err == nil) != (res != nil) {
				t.Fatalf("Resolve = %v, %v", res, err)
			}
		})
	}
	if ok.calls != 1 {
		t.Fatalf("ok resolver called %d times", ok.calls)
	}
}

func TestNegotiateContentType(t *testing.T) {
	tests := []struct {
		accept, want string
		err          error
	}{
		{"", did.MediaTypeDIDLDJSON, nil},
		{"*/*", did.MediaTypeDIDLDJSON, nil},
		{"application/did-resolution", did.MediaTypeDIDLDJSON, nil},
		{"application/did+json", did.MediaTypeDIDJSON, nil},
		{"application/did", did.MediaTypeDID, nil},
		{"text/html, application/did+json;q=0.5, application/did+ld+json;q=0.9", did.MediaTypeDIDLDJSON, nil},
		{"application/did+json;q=0, */*;q=0.1", did.MediaTypeDIDLDJSON, nil},
		{"APPLICATION/DID+JSON", did.MediaTypeDIDJSON, nil},
		{"text/html", "", did.ErrRepresentationNotSupported},
		{"application/did+cbor", "", did.ErrRepresentationNotSupported},
		{"application/did+json;q=0", "", did.ErrRepresentationNotSupported},
		{"application/did+json;q=abc", "", did.ErrInvalidOptions},
	}
	for _, tc := range tests {
		t.Run(tc.accept, func(t *testing.T) {
			got, err := did.NegotiateContentType(tc.accept)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Fatalf("NegotiateContentType = %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
}
