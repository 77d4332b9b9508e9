package did

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ContextResolution is the JSON-LD context of DID resolution results.
const ContextResolution = "https://w3id.org/did-resolution/v1"

// Media types of DID Resolution 1.0 and DID Core.
const (
	// MediaTypeDIDResolution is a complete DID resolution result.
	MediaTypeDIDResolution = "application/did-resolution"
	// MediaTypeDIDURLDereferencing is a complete DID URL dereferencing result.
	MediaTypeDIDURLDereferencing = "application/did-url-dereferencing"
	// MediaTypeDIDLDJSON is the JSON-LD representation of a DID document.
	MediaTypeDIDLDJSON = "application/did+ld+json"
	// MediaTypeDIDJSON is the JSON representation of a DID document.
	MediaTypeDIDJSON = "application/did+json"
	// MediaTypeDID is the DID document media type of DID 1.1 and the
	// DID Resolution CR.
	MediaTypeDID = "application/did"
)

// Error type URIs of DID Resolution 1.0, section "Errors".
const (
	ProblemInvalidDID                 = "https://www.w3.org/ns/did#INVALID_DID"
	ProblemInvalidDIDDocument         = "https://www.w3.org/ns/did#INVALID_DID_DOCUMENT"
	ProblemNotFound                   = "https://www.w3.org/ns/did#NOT_FOUND"
	ProblemRepresentationNotSupported = "https://www.w3.org/ns/did#REPRESENTATION_NOT_SUPPORTED"
	ProblemInvalidDIDURL              = "https://www.w3.org/ns/did#INVALID_DID_URL"
	ProblemMethodNotSupported         = "https://www.w3.org/ns/did#METHOD_NOT_SUPPORTED"
	ProblemInvalidOptions             = "https://www.w3.org/ns/did#INVALID_OPTIONS"
	ProblemInternalError              = "https://www.w3.org/ns/did#INTERNAL_ERROR"
	ProblemFeatureNotSupported        = "https://www.w3.org/ns/did#FEATURE_NOT_SUPPORTED"
)

// TimeLayout is the datetime format of document metadata: XML Schema
// dateTime, UTC, second precision.
const TimeLayout = "2006-01-02T15:04:05Z"

// FormatTime formats t with [TimeLayout], in UTC, truncated to seconds.
func FormatTime(t time.Time) string { return t.UTC().Truncate(time.Second).Format(TimeLayout) }

// Problem is an RFC 9457 problem details object, the value of
// didResolutionMetadata.error. Type is one of the Problem* URIs.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// problemKinds maps each sentinel to its type URI, title and HTTP status
// (DID Resolution section 12.1), in lookup order.
var problemKinds = []struct {
	err    error
	uri    string
	title  string
	status int
}{
	// ParseURL errors wrap both ErrInvalidDIDURL and ErrInvalidDID; the
	// URL is the more specific report.
	{ErrInvalidDIDURL, ProblemInvalidDIDURL, "Invalid DID URL", 400},
	{ErrInvalidDID, ProblemInvalidDID, "Invalid DID", 400},
	{ErrInvalidOptions, ProblemInvalidOptions, "Invalid options", 400},
	{ErrNotFound, ProblemNotFound, "Not found", 404},
	{ErrRepresentationNotSupported, ProblemRepresentationNotSupported, "Representation not supported", 406},
	{ErrInvalidDocument, ProblemInvalidDIDDocument, "Invalid DID document", 500},
	{ErrMethodNotSupported, ProblemMethodNotSupported, "Method not supported", 501},
	{ErrFeatureNotSupported, ProblemFeatureNotSupported, "Feature not supported", 501},
	{ErrInternal, ProblemInternalError, "Internal error", 500},
}

// ProblemFor returns the problem details for err: the type URI of the first
// sentinel of this package that err wraps (errors.Is), INTERNAL_ERROR for
// any other error, and nil for nil. Detail is err's message.
func ProblemFor(err error) *Problem {
	if err == nil {
		return nil
	}
	for _, k := range problemKinds {
		if errors.Is(err, k.err) {
			return &Problem{Type: k.uri, Title: k.title, Detail: err.Error()}
		}
	}
	return &Problem{Type: ProblemInternalError, Title: "Internal error", Detail: err.Error()}
}

// Err converts p back into an error wrapping the matching sentinel
// (ErrInternal for unknown types), for clients of remote resolvers.
func (p *Problem) Err() error {
	if p == nil {
		return nil
	}
	for _, k := range problemKinds {
		if k.uri == p.Type {
			return fmt.Errorf("%w: %s", k.err, p.Detail)
		}
	}
	return fmt.Errorf("%w: %s: %s", ErrInternal, p.Type, p.Detail)
}

// HTTPStatus returns the HTTP status code DID Resolution assigns to the
// problem type: 400, 404, 406, 501, or 500 for the rest.
func (p *Problem) HTTPStatus() int {
	if p == nil {
		return 200
	}
	for _, k := range problemKinds {
		if k.uri == p.Type {
			return k.status
		}
	}
	return 500
}

// ResolutionMetadata is didResolutionMetadata.
type ResolutionMetadata struct {
	// ContentType is the media type of the returned document.
	ContentType string `json:"contentType,omitempty"`
	// Error is set when resolution failed.
	Error *Problem `json:"error,omitempty"`
}

// DocumentMetadata is didDocumentMetadata. Extra holds method-specific
// properties: they are merged into the JSON object on output (where they
// never override the named fields) and collected from unknown properties
// on input.
type DocumentMetadata struct {
	// Created and Updated are datetimes in [TimeLayout]; see [FormatTime].
	Created string `json:"created,omitempty"`
	Updated string `json:"updated,omitempty"`
	// Deactivated is true for a deactivated DID.
	Deactivated bool `json:"deactivated,omitempty"`
	// NextUpdate is the datetime of the next update when the resolved
	// version is not the latest.
	NextUpdate    string   `json:"nextUpdate,omitempty"`
	VersionID     string   `json:"versionId,omitempty"`
	NextVersionID string   `json:"nextVersionId,omitempty"`
	EquivalentID  []string `json:"equivalentId,omitempty"`
	CanonicalID   string   `json:"canonicalId,omitempty"`
	// Extra holds method-specific properties.
	Extra map[string]any `json:"-"`
}

// documentMetadataJSON has DocumentMetadata's fields but not its methods.
type documentMetadataJSON DocumentMetadata

var documentMetadataKeys = []string{"created", "updated", "deactivated", "nextUpdate", "versionId", "nextVersionId", "equivalentId", "canonicalId"}

// MarshalJSON writes the named fields and Extra in one object.
func (m DocumentMetadata) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(documentMetadataJSON(m))
	if err != nil || len(m.Extra) == 0 {
		return b, err
	}
	obj := make(map[string]json.RawMessage, len(m.Extra)+4)
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, err
	}
	for k, v := range m.Extra {
		if slices.Contains(documentMetadataKeys, k) {
			continue
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("marshal document metadata %q: %w", k, err)
		}
		obj[k] = raw
	}
	return json.Marshal(obj)
}

// UnmarshalJSON reads the named fields and collects the rest into Extra.
func (m *DocumentMetadata) UnmarshalJSON(b []byte) error {
	var v documentMetadataJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	var all map[string]any
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	for _, k := range documentMetadataKeys {
		delete(all, k)
	}
	v.Extra = nil
	if len(all) > 0 {
		v.Extra = all
	}
	*m = DocumentMetadata(v)
	return nil
}

// ResolutionResult is a DID resolution result (media type
// application/did-resolution). On failure DIDDocument is nil (JSON null),
// DIDResolutionMetadata.Error is set and DIDDocumentMetadata is empty.
type ResolutionResult struct {
	Context               any                `json:"@context,omitempty"`
	DIDDocument           *Document          `json:"didDocument"`
	DIDResolutionMetadata ResolutionMetadata `json:"didResolutionMetadata"`
	DIDDocumentMetadata   DocumentMetadata   `json:"didDocumentMetadata"`
}

// ErrorResult returns the result that reports err: didDocument null and
// didResolutionMetadata.error = [ProblemFor](err).
func ErrorResult(err error) *ResolutionResult {
	return &ResolutionResult{DIDResolutionMetadata: ResolutionMetadata{Error: ProblemFor(err)}}
}

// Options are the DID resolution options.
type Options struct {
	// Accept is the caller's preferred representation, as an HTTP Accept
	// header value; see [NegotiateContentType].
	Accept string
	// VersionID asks for a specific version; "" means the latest.
	VersionID string
	// VersionTime asks for the version current at that time; the zero
	// value means the latest.
	VersionTime time.Time
}

// Resolver resolves DIDs.
//
// Resolve returns a result for every resolvable DID, including deactivated
// ones (DIDDocumentMetadata.Deactivated true, not an error), with
// DIDDocument.ID equal to did and DIDResolutionMetadata.ContentType set.
// On failure it returns nil and an error wrapping one of this package's
// sentinels (ErrInvalidDID, ErrNotFound, ErrMethodNotSupported, ...);
// use [ErrorResult] to serialise it. The caller owns the returned result.
type Resolver interface {
	Resolve(ctx context.Context, did string, opts Options) (*ResolutionResult, error)
}

// Methods is a [Resolver] that dispatches on the DID method name. It
// checks the DID syntax (ErrInvalidDID), the method (ErrMethodNotSupported)
// and the accept option (ErrRepresentationNotSupported) before calling the
// method's resolver, and checks that a returned document belongs to the
// DID (ErrInvalidDocument).
type Methods map[string]Resolver

var _ Resolver = Methods(nil)

// Resolve implements [Resolver].
func (m Methods) Resolve(ctx context.Context, did string, opts Options) (*ResolutionResult, error) {
	d, err := Parse(did)
	if err != nil {
		return nil, fmt.Errorf("resolve: %w", err)
	}
	r := m[d.Method]
	if r == nil {
		return nil, fmt.Errorf("resolve %s: %w: %q", quote(did), ErrMethodNotSupported, d.Method)
	}
	if _, err := NegotiateContentType(opts.Accept); err != nil {
		return nil, fmt.Errorf("resolve %s: %w", quote(did), err)
	}
	res, err := r.Resolve(ctx, did, opts)
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, fmt.Errorf("resolve %s: %w: method %q returned no result", quote(did), ErrInternal, d.Method)
	}
	if res.DIDDocument != nil && res.DIDDocument.ID != did {
		return nil, fmt.Errorf("resolve %s: %w: document id %s differs", quote(did), ErrInvalidDocument, quote(res.DIDDocument.ID))
	}
	return res, nil
}

// documentTypes are the document representations resolvers here produce,
// in order of preference. All are the same JSON, which always carries
// @context.
var documentTypes = []string{MediaTypeDIDLDJSON, MediaTypeDIDJSON, MediaTypeDID}

// NegotiateContentType picks the document representation for an accept
// option (an HTTP Accept value). "" and wildcards give
// application/did+ld+json; application/did-resolution asks for the full
// result, whose document is in the default representation. Parameters other
// than q are ignored. If nothing acceptable is supported the error wraps
// [ErrRepresentationNotSupported].
func NegotiateContentType(accept string) (string, error) {
	if strings.TrimSpace(accept) == "" {
		return documentTypes[0], nil
	}
	type choice struct {
		mt string
		q  float64
	}
	var cs []choice
	for part := range strings.SplitSeq(accept, ",") {
		fields := strings.Split(part, ";")
		mt := strings.ToLower(strings.TrimSpace(fields[0]))
		if mt == "" {
			continue
		}
		q := 1.0
		for _, p := range fields[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 || f > 1 {
					return "", fmt.Errorf("negotiate content type: %w: bad q in %s", ErrInvalidOptions, quote(part))
				}
				q = f
			}
		}
		if q > 0 {
			cs = append(cs, choice{mt, q})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].q > cs[j].q })
	for _, c := range cs {
		switch {
		case c.mt == "*/*" || c.mt == "application/*" || c.mt == MediaTypeDIDResolution:
			return documentTypes[0], nil
		case slices.Contains(documentTypes, c.mt):
			return c.mt, nil
		}
	}
	return "", fmt.Errorf("negotiate content type: %w: %s", ErrRepresentationNotSupported, quote(accept))
}
