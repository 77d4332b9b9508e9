package did

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// MediaTypeURIList is the media type of a DID URL dereferenced to a
// service endpoint URL (RFC 2483).
const MediaTypeURIList = "text/uri-list"

// DID parameters (DID Resolution, section "DID Parameters") and the
// dereferencing option this package knows.
const (
	ParamService     = "service"
	ParamServiceType = "serviceType"
	ParamRelativeRef = "relativeRef"
	ParamVersionID   = "versionId"
	ParamVersionTime = "versionTime"
	// OptionVerificationRelationship is a dereferencing option that
	// Dereference does not implement: [ParseParameters] refuses it rather
	// than ignore a check the caller asked for.
	OptionVerificationRelationship = "verificationRelationship"
)

// Bounds of the queries [ParseParameters] reads.
const (
	// MaxQueryBytes bounds each query, in bytes.
	MaxQueryBytes = 4096
	// MaxQueryParameters bounds the name=value pairs of all queries
	// together.
	MaxQueryParameters = 16
)

// Parameters are the DID parameters of a DID URL that [Dereference] acts
// on, decoded. Empty strings and the zero time are absent parameters.
type Parameters struct {
	Service     string
	ServiceType string
	RelativeRef string
	VersionID   string
	VersionTime time.Time
}

// IsService reports whether p selects a service endpoint (service,
// serviceType or relativeRef is present): a dereference that answers a
// URL, not a document or a part of one.
func (p Parameters) IsService() bool {
	return p.Service != "" || p.ServiceType != "" || p.RelativeRef != ""
}

// ParseParameters reads the DID parameters from queries: the query of a
// DID URL, and for the HTTP binding also the query of the request that
// carries it. Each query is name=value pairs separated by '&', names and
// values pct-decoded once ('+' is not a space). The DID parameters
// service, serviceType, relativeRef, versionId and versionTime are read;
// other names are ignored, as resolvers ignore options they do not know.
//
// Errors wrap [ErrInvalidDIDURL] for a query longer than [MaxQueryBytes],
// more than [MaxQueryParameters] pairs in all, malformed pct-encoding, a
// DID parameter without a value or given more than once (in one query or
// across them: DID Resolution leaves duplicates undefined, so they are
// refused), and a relativeRef that is not a relative reference within its
// service (see [Document.ServiceURL]); [ErrInvalidOptions] for a
// versionTime that is not an RFC 3339 datetime; [ErrFeatureNotSupported]
// for the verificationRelationship option.
func ParseParameters(queries ...string) (Parameters, error) {
	var p Parameters
	seen := make(map[string]bool, 5)
	pairs := 0
	for _, q := range queries {
		if len(q) > MaxQueryBytes {
			return Parameters{}, fmt.Errorf("parse did parameters: %w: query longer than %d bytes", ErrInvalidDIDURL, MaxQueryBytes)
		}
		if q == "" {
			continue
		}
		for pair := range strings.SplitSeq(q, "&") {
			if pairs++; pairs > MaxQueryParameters {
				return Parameters{}, fmt.Errorf("parse did parameters: %w: more than %d parameters", ErrInvalidDIDURL, MaxQueryParameters)
			}
			rawName, rawValue, _ := strings.Cut(pair, "=")
			name, err := url.PathUnescape(rawName)
			if err != nil {
				return Parameters{}, fmt.Errorf("parse did parameters: %w: parameter name %s: malformed pct-encoding", ErrInvalidDIDURL, quote(rawName))
			}
			value, err := url.PathUnescape(rawValue)
			if err != nil {
				return Parameters{}, fmt.Errorf("parse did parameters: %w: %s: malformed pct-encoding", ErrInvalidDIDURL, quote(name))
			}
			var dst *string
			switch name {
			case ParamService:
				dst = &p.Service
			case ParamServiceType:
				dst = &p.ServiceType
			case ParamRelativeRef:
				dst = &p.RelativeRef
			case ParamVersionID:
				dst = &p.VersionID
			case ParamVersionTime:
			case OptionVerificationRelationship:
				return Parameters{}, fmt.Errorf("parse did parameters: %w: the %s option", ErrFeatureNotSupported, name)
			default:
				continue
			}
			if seen[name] {
				return Parameters{}, fmt.Errorf("parse did parameters: %w: %s given more than once", ErrInvalidDIDURL, name)
			}
			seen[name] = true
			if value == "" {
				return Parameters{}, fmt.Errorf("parse did parameters: %w: %s has no value", ErrInvalidDIDURL, name)
			}
			if dst != nil {
				*dst = value
				continue
			}
			t, err := time.Parse(time.RFC3339, value)
			if err != nil {
				return Parameters{}, fmt.Errorf("parse did parameters: %w: versionTime %s is not an XML datetime", ErrInvalidOptions, quote(value))
			}
			p.VersionTime = t
		}
	}
	if p.RelativeRef != "" {
		if err := checkRelativeRef(p.RelativeRef); err != nil {
			return Parameters{}, fmt.Errorf("parse did parameters: %w: relativeRef %s: %w", ErrInvalidDIDURL, quote(p.RelativeRef), err)
		}
	}
	return p, nil
}

// checkRelativeRef checks that ref is an RFC 3986 relative-ref that keeps
// the scheme and authority of the endpoint it is resolved against: no
// scheme and no authority (a network-path reference, "//host/...", would
// make the resolver redirect to any host a link names).
func checkRelativeRef(ref string) error {
	if err := checkURIPart(ref, "/?#"); err != nil {
		return err
	}
	if strings.Count(ref, "#") > 1 {
		return syntaxError("more than one '#'")
	}
	p := splitURI(ref)
	switch {
	case p.scheme != "":
		return syntaxError("not a relative reference: it has a scheme")
	case p.hasAuthority:
		return syntaxError("a network-path reference (//host) would leave the service's host")
	}
	return nil
}

// Resource is the part of a DID document that a DID URL's fragment
// selects: a verification method (top-level or embedded in a
// relationship) or a service. Exactly one of Method and Service is set.
// JSON writes the node's own members, after "@context" when Context is
// set (the JSON-LD representations: the node is read in the document's
// context).
type Resource struct {
	Context []any
	Method  *VerificationMethod
	Service *Service
}

// MarshalJSON writes the node, with "@context" first when set.
func (r Resource) MarshalJSON() ([]byte, error) {
	switch {
	case r.Method != nil && r.Context != nil:
		return json.Marshal(struct {
			Context []any `json:"@context"`
			*VerificationMethod
		}{r.Context, r.Method})
	case r.Method != nil:
		return json.Marshal(r.Method)
	case r.Service != nil && r.Context != nil:
		return json.Marshal(struct {
			Context []any `json:"@context"`
			*Service
		}{r.Context, r.Service})
	case r.Service != nil:
		return json.Marshal(r.Service)
	}
	return []byte("null"), nil
}

// WithoutContext returns r without its @context: the plain JSON
// representations.
func (r Resource) WithoutContext() Resource {
	r.Context = nil
	return r
}

// Select returns the verification method or service of d whose id is the
// DID URL d.ID + "#" + fragment, comparing absolute ids (relative
// "#key-1" and absolute ids both match) after pct-encoding normalization
// (RFC 3986 section 6.2.2.2: octets of unreserved characters decoded,
// hexadecimal digits in upper case). The result carries d's @context and
// shares its maps with d.
func (d *Document) Select(fragment string) (Resource, bool) {
	want := normalizePct(d.ID + "#" + fragment)
	match := func(id string) bool { return normalizePct(AbsoluteRef(d.ID, id)) == want }
	for i := range d.VerificationMethod {
		if match(d.VerificationMethod[i].ID) {
			return Resource{Context: d.Context, Method: &d.VerificationMethod[i]}, true
		}
	}
	for _, rel := range relationshipNames {
		for _, r := range d.relationship(rel) {
			if r.Embedded != nil && match(r.Embedded.ID) {
				return Resource{Context: d.Context, Method: r.Embedded}, true
			}
		}
	}
	for i := range d.Service {
		if match(d.Service[i].ID) {
			return Resource{Context: d.Context, Service: &d.Service[i]}, true
		}
	}
	return Resource{}, false
}

// ServiceURL selects the service of d named by service (DID Resolution's
// service parameter: "files", "#files" or an absolute "did:...#files", all
// naming the service whose absolute id is d.ID + "#files") and returns its
// endpoint URL with relativeRef resolved against it (RFC 3986 section 5;
// "" for none) and fragment, if not empty, appended.
//
// The endpoint must be one URI: a string, or an array holding exactly one
// string. Errors wrap [ErrNotFound] when no service matches or its
// endpoint holds no URI (a map, as DID Resolution skips maps);
// [ErrFeatureNotSupported] when it lists several (DID Resolution would
// return them all as text/uri-list, which a single redirect cannot);
// [ErrInvalidDIDURL] for a relativeRef that [ParseParameters] would
// refuse, or a fragment given where the resolved URL has one already.
func (d *Document) ServiceURL(service, relativeRef, fragment string) (string, error) {
	want := service
	switch {
	case strings.HasPrefix(service, "#"):
		want = d.ID + service
	case !strings.Contains(service, ":"):
		want = d.ID + "#" + service
	}
	want = normalizePct(want)
	var svc *Service
	for i := range d.Service {
		if normalizePct(AbsoluteRef(d.ID, d.Service[i].ID)) == want {
			svc = &d.Service[i]
			break
		}
	}
	if svc == nil {
		return "", resourceError(fmt.Sprintf("dereference %s: not found: no service %s", quote(d.ID), quote(service)))
	}
	var one string
	var many []any
	if err := json.Unmarshal(svc.ServiceEndpoint, &one); err != nil {
		if err := json.Unmarshal(svc.ServiceEndpoint, &many); err != nil || len(many) == 0 {
			return "", resourceError(fmt.Sprintf("dereference %s: not found: service %s has no URI endpoint (a map is not a URL)", quote(d.ID), quote(svc.ID)))
		}
		if len(many) > 1 {
			return "", fmt.Errorf("dereference %s: %w: service %s lists %d endpoints; only a single URI is dereferenced", quote(d.ID), ErrFeatureNotSupported, quote(svc.ID), len(many))
		}
		s, ok := many[0].(string)
		if !ok {
			return "", resourceError(fmt.Sprintf("dereference %s: not found: service %s has no URI endpoint (a map is not a URL)", quote(d.ID), quote(svc.ID)))
		}
		one = s
	}
	if !isURI(one) {
		return "", fmt.Errorf("dereference %s: %w: service %s endpoint is not an absolute URI", quote(d.ID), ErrInvalidDocument, quote(svc.ID))
	}
	u := one
	if relativeRef != "" {
		if err := checkRelativeRef(relativeRef); err != nil {
			return "", fmt.Errorf("dereference %s: %w: relativeRef %s: %w", quote(d.ID), ErrInvalidDIDURL, quote(relativeRef), err)
		}
		u = resolveReference(one, relativeRef)
	}
	if fragment != "" {
		if strings.Contains(u, "#") {
			return "", fmt.Errorf("dereference %s: %w: the service endpoint URL %s has a fragment already", quote(d.ID), ErrInvalidDIDURL, quote(u))
		}
		u += "#" + fragment
	}
	return u, nil
}

// resourceError reports a DID URL whose DID resolves but whose document
// lacks the resource; it wraps [ErrNotFound] without repeating its text
// ("DID not found" would mislead).
type resourceError string

func (e resourceError) Error() string { return string(e) }
func (e resourceError) Unwrap() error { return ErrNotFound }

// normalizePct decodes pct-encoded octets of unreserved characters and
// writes the hexadecimal digits of the others in upper case (RFC 3986
// section 6.2.2). Malformed pct-encoding is left as it is.
func normalizePct(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			b.WriteByte(s[i])
			continue
		}
		c := unhex(s[i+1])<<4 | unhex(s[i+2])
		if isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteString(strings.ToUpper(s[i : i+3]))
		}
		i += 2
	}
	return b.String()
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// DereferencingMetadata is dereferencingMetadata.
type DereferencingMetadata struct {
	// ContentType is the media type of the contentStream.
	ContentType string `json:"contentType,omitempty"`
	// Error is set when dereferencing failed.
	Error *Problem `json:"error,omitempty"`
}

// DereferencingResult is a DID URL dereferencing result (media type
// application/did-url-dereferencing). ContentStream is a *Document, a
// [Resource] or a URL string; nil on failure, when
// DereferencingMetadata.Error is set and ContentMetadata is empty.
// ContentMetadata is the document metadata of the resolved DID document
// (also for a resource or a URL taken from it: it says which version, and
// whether the DID is deactivated).
type DereferencingResult struct {
	Context               any                   `json:"@context,omitempty"`
	DereferencingMetadata DereferencingMetadata `json:"dereferencingMetadata"`
	ContentStream         any                   `json:"contentStream"`
	ContentMetadata       DocumentMetadata      `json:"contentMetadata"`
}

// DereferencingError returns the result that reports err: contentStream
// null, contentMetadata empty and dereferencingMetadata.error =
// [ProblemFor](err).
func DereferencingError(err error) *DereferencingResult {
	return &DereferencingResult{Context: ContextResolution, DereferencingMetadata: DereferencingMetadata{Error: ProblemFor(err)}}
}

// Dereference runs the DID URL dereferencing algorithm of DID Resolution
// (section "DID URL Dereferencing Algorithm") on u with the DID parameters
// p (the caller reads them from u.Query, and from wherever else its binding
// carries them, with [ParseParameters]). It resolves u's DID with r, passing
// versionId and versionTime, and then:
//
//   - with service (and optionally relativeRef): the service endpoint URL,
//     see [Document.ServiceURL], with u's fragment appended; contentType
//     text/uri-list;
//   - else with a fragment: the verification method or service it names,
//     see [Document.Select], with the document's @context; contentType
//     application/did+ld+json;
//   - else the document itself.
//
// ContentMetadata is the resolved document's metadata. A deactivated DID
// is not an error: the result has ContentMetadata.Deactivated set and
// ContentStream nil if the (deactivated) document has nothing at u.
//
// Errors are those of r, and wrap [ErrNotFound] for a DID path (no path is
// dereferenced here) or a resource the document lacks;
// [ErrFeatureNotSupported] for serviceType; [ErrInvalidDIDURL] for a
// relativeRef without service, and those of [Document.ServiceURL].
func Dereference(ctx context.Context, r Resolver, u URL, p Parameters) (*DereferencingResult, error) {
	switch {
	case u.Path != "":
		return nil, resourceError(fmt.Sprintf("dereference %s: not found: DID paths are not dereferenced here", quote(u.String())))
	case p.ServiceType != "":
		return nil, fmt.Errorf("dereference %s: %w: the serviceType parameter", quote(u.String()), ErrFeatureNotSupported)
	case p.RelativeRef != "" && p.Service == "":
		return nil, fmt.Errorf("dereference %s: %w: relativeRef needs the service parameter", quote(u.String()), ErrInvalidDIDURL)
	}
	res, err := r.Resolve(ctx, u.DID.String(), Options{Accept: MediaTypeDIDLDJSON, VersionID: p.VersionID, VersionTime: p.VersionTime})
	if err != nil {
		return nil, err
	}
	if res.DIDDocument == nil {
		return nil, fmt.Errorf("dereference %s: %w: the resolver returned no document", quote(u.String()), ErrInternal)
	}
	doc, md := res.DIDDocument, res.DIDDocumentMetadata
	out := &DereferencingResult{Context: ContextResolution, ContentMetadata: md}
	switch {
	case p.Service != "":
		s, err := doc.ServiceURL(p.Service, p.RelativeRef, u.Fragment)
		if err != nil {
			if md.Deactivated {
				return out, nil
			}
			return nil, err
		}
		out.DereferencingMetadata.ContentType, out.ContentStream = MediaTypeURIList, s
	case u.Fragment != "":
		node, ok := doc.Select(u.Fragment)
		if !ok {
			if md.Deactivated {
				return out, nil
			}
			return nil, resourceError(fmt.Sprintf("dereference %s: not found: the document has no verification method or service #%s", quote(u.String()), u.Fragment))
		}
		out.DereferencingMetadata.ContentType, out.ContentStream = MediaTypeDIDLDJSON, node
	default:
		out.DereferencingMetadata.ContentType, out.ContentStream = MediaTypeDIDLDJSON, doc
	}
	return out, nil
}
