package credential

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/idmesh/idmesh/did/strictjson"
)

// Base contexts: the first @context entry of a credential or presentation.
const (
	ContextV2 = "https://www.w3.org/ns/credentials/v2"
	ContextV1 = "https://www.w3.org/2018/credentials/v1"
)

// Types the data model defines.
const (
	TypeCredential            = "VerifiableCredential"
	TypePresentation          = "VerifiablePresentation"
	TypeEnvelopedCredential   = "EnvelopedVerifiableCredential"
	TypeEnvelopedPresentation = "EnvelopedVerifiablePresentation"
)

// MaxBytes bounds a credential or presentation accepted for parsing.
const MaxBytes = 1 << 20

// Version is the data model version a document declares by its base context.
type Version int

// Data model versions.
const (
	V2 Version = 2 // VC Data Model 2.0
	V1 Version = 1 // VC Data Model 1.1, accepted for verification
)

// Credential is a verifiable credential: the JSON object exactly as
// received (proofs are computed over it) and the members the data model
// gives meaning to, checked by [ParseCredential].
type Credential struct {
	// Object is the credential as decoded (numbers as json.Number).
	Object map[string]any
	// Version is the data model the base context declares.
	Version Version
	// ID is the optional identifier.
	ID string
	// Types lists the types; it includes VerifiableCredential.
	Types []string
	// Issuer is the issuer's URL (the id when issuer is an object).
	Issuer string
	// ValidFrom and ValidUntil bound the validity period; zero when
	// absent. For 1.1 they come from issuanceDate and expirationDate.
	ValidFrom, ValidUntil time.Time
	// Subjects are the credentialSubject objects.
	Subjects []map[string]any
	// Status, Schemas, Evidence, TermsOfUse and RefreshServices are the
	// typed objects of those members (each with a type), kept as given.
	Status, Schemas, Evidence, TermsOfUse, RefreshServices []map[string]any
	// RelatedResources are the relatedResource entries.
	RelatedResources []RelatedResource
	// Enveloped is set for an EnvelopedVerifiableCredential, whose id is
	// a data: URL carrying the secured credential.
	Enveloped bool
}

// RelatedResource is one relatedResource entry: a resource and the digest
// it must have.
type RelatedResource struct {
	ID              string
	DigestSRI       string
	DigestMultibase string
	MediaType       string
}

// ParseCredential decodes and validates a credential (at most MaxBytes,
// no repeated members). Errors carry ParsingError or MalformedValueError.
func ParseCredential(b []byte) (*Credential, error) {
	m, err := strictjson.Object(b, MaxBytes)
	if err != nil {
		return nil, Errorf(ParsingError, "credential: %v", err)
	}
	return CredentialFrom(m)
}

// CredentialFrom validates a decoded credential object against the data
// model. The object is kept, not copied.
func CredentialFrom(m map[string]any) (*Credential, error) { //nolint:revive // pairs with PresentationFrom
	c := &Credential{Object: m}
	if err := c.parse(); err != nil {
		return nil, err
	}
	return c, nil
}

func malformed(format string, args ...any) error {
	return Errorf(MalformedValueError, format, args...)
}

func (c *Credential) parse() error {
	m := c.Object
	v, err := baseContext(m)
	if err != nil {
		return err
	}
	c.Version = v
	if c.Types, err = types(m, "credential"); err != nil {
		return err
	}
	if slices.Contains(c.Types, TypeEnvelopedCredential) {
		return c.parseEnveloped()
	}
	if !slices.Contains(c.Types, TypeCredential) {
		return malformed("credential: type must include %s", TypeCredential)
	}
	if c.ID, err = OptionalURL(m, "id"); err != nil {
		return err
	}
	if c.Issuer, err = idOf(m["issuer"], "issuer", true); err != nil {
		return err
	}
	if err := c.parseSubjects(); err != nil {
		return err
	}
	if err := c.parseValidity(); err != nil {
		return err
	}
	for _, f := range []struct {
		name   string
		out    *[]map[string]any
		needID bool
	}{
		{"credentialStatus", &c.Status, false},
		{"credentialSchema", &c.Schemas, true},
		{"evidence", &c.Evidence, false},
		{"termsOfUse", &c.TermsOfUse, false},
		{"refreshService", &c.RefreshServices, false},
	} {
		if *f.out, err = typedObjects(m, f.name, f.needID); err != nil {
			return err
		}
	}
	if c.RelatedResources, err = relatedResources(m); err != nil {
		return err
	}
	for _, name := range []string{"name", "description"} {
		if err := languageValue(m, name); err != nil {
			return err
		}
	}
	return nil
}

func (c *Credential) parseEnveloped() error {
	id, _ := c.Object["id"].(string)
	if !strings.HasPrefix(id, "data:") {
		return malformed("enveloped credential: id must be a data: URL")
	}
	c.ID, c.Enveloped = id, true
	return nil
}

func (c *Credential) parseSubjects() error {
	raw, ok := c.Object["credentialSubject"]
	if !ok {
		return malformed("credential: credentialSubject is required")
	}
	objs, err := objects(raw, "credentialSubject")
	if err != nil {
		return err
	}
	if len(objs) == 0 {
		return malformed("credential: credentialSubject is empty")
	}
	for _, s := range objs {
		if len(s) == 0 {
			return malformed("credential: a credentialSubject has no claims")
		}
		if _, err := OptionalURL(s, "id"); err != nil {
			return err
		}
	}
	c.Subjects = objs
	return nil
}

func (c *Credential) parseValidity() error {
	from, until := "validFrom", "validUntil"
	if c.Version == V1 {
		from, until = "issuanceDate", "expirationDate"
		if _, ok := c.Object[from]; !ok {
			return malformed("credential: issuanceDate is required by the 1.1 data model")
		}
	}
	var err error
	if c.ValidFrom, err = dateTime(c.Object, from); err != nil {
		return err
	}
	if c.ValidUntil, err = dateTime(c.Object, until); err != nil {
		return err
	}
	if !c.ValidFrom.IsZero() && !c.ValidUntil.IsZero() && c.ValidUntil.Before(c.ValidFrom) {
		return malformed("credential: %s is before %s", until, from)
	}
	// The other data model's pair binds too, when present: a holder can
	// give a signed 1.1 credential a 2.0 @context whose inline terms keep
	// issuanceDate and expirationDate meaning what was signed, and the
	// graph, so the proof, stays the same; reading only the declared
	// version's pair would then lose the expiry. Both windows apply.
	otherFrom, otherUntil := "issuanceDate", "expirationDate"
	if c.Version == V1 {
		otherFrom, otherUntil = "validFrom", "validUntil"
	}
	of, err := dateTime(c.Object, otherFrom)
	if err != nil {
		return err
	}
	ou, err := dateTime(c.Object, otherUntil)
	if err != nil {
		return err
	}
	if !of.IsZero() && of.After(c.ValidFrom) {
		c.ValidFrom = of
	}
	if !ou.IsZero() && (c.ValidUntil.IsZero() || ou.Before(c.ValidUntil)) {
		c.ValidUntil = ou
	}
	return nil
}

// SubjectIDs returns the ids of the credential's subjects that have one.
func (c *Credential) SubjectIDs() []string {
	var ids []string
	for _, s := range c.Subjects {
		if id, ok := s["id"].(string); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// HasType reports whether the credential lists typ among its types.
func (c *Credential) HasType(typ string) bool { return slices.Contains(c.Types, typ) }

// baseContext checks @context: a non-empty list (a single string is
// accepted for 1.1) whose first entry is a base context, with every other
// entry a URL or an object.
func baseContext(m map[string]any) (Version, error) {
	raw, ok := m["@context"]
	if !ok {
		return 0, malformed("@context is required")
	}
	var list []any
	switch v := raw.(type) {
	case string:
		list = []any{v}
	case []any:
		list = v
	default:
		return 0, malformed("@context must be an array")
	}
	if len(list) == 0 {
		return 0, malformed("@context is empty")
	}
	var ver Version
	switch list[0] {
	case ContextV2:
		ver = V2
	case ContextV1:
		ver = V1
	default:
		return 0, malformed("the first @context must be %s (or %s for 1.1)", ContextV2, ContextV1)
	}
	if ver == V2 {
		if _, ok := raw.([]any); !ok && len(list) > 1 {
			return 0, malformed("@context must be an array")
		}
	}
	for _, e := range list[1:] {
		switch e := e.(type) {
		case string:
			if !IsURL(e) {
				return 0, malformed("@context entry %q is not a URL", e)
			}
		case map[string]any:
		default:
			return 0, malformed("@context entries must be URLs or objects")
		}
	}
	return ver, nil
}

// types reads "type": a string or a non-empty array of strings.
func types(m map[string]any, what string) ([]string, error) {
	switch v := m["type"].(type) {
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok || s == "" {
				return nil, malformed("%s: type entries must be strings", what)
			}
			out = append(out, s)
		}
		if len(out) == 0 {
			return nil, malformed("%s: type is empty", what)
		}
		return out, nil
	case nil:
		return nil, malformed("%s: type is required", what)
	}
	return nil, malformed("%s: type must be a string or an array", what)
}

// checkTypes checks m's type as types does (the same errors) without
// making the list.
func checkTypes(m map[string]any, what string) error {
	switch v := m["type"].(type) {
	case string:
		return nil
	case []any:
		for _, e := range v {
			if s, ok := e.(string); !ok || s == "" {
				return malformed("%s: type entries must be strings", what)
			}
		}
		if len(v) == 0 {
			return malformed("%s: type is empty", what)
		}
		return nil
	}
	_, err := types(m, what)
	return err
}

// idOf reads a member that is a URL or an object with an id URL.
func idOf(raw any, name string, required bool) (string, error) {
	switch v := raw.(type) {
	case nil:
		if required {
			return "", malformed("%s is required", name)
		}
		return "", nil
	case string:
		if !IsURL(v) {
			return "", malformed("%s %q is not a URL", name, v)
		}
		return v, nil
	case map[string]any:
		id, ok := v["id"].(string)
		if !ok || !IsURL(id) {
			return "", malformed("%s.id must be a URL", name)
		}
		if err := languageValue(v, "name"); err != nil {
			return "", err
		}
		return id, nil
	}
	return "", malformed("%s must be a URL or an object with an id", name)
}

// OptionalURL reads member name of m, which may be absent ("") but when
// present must be a URL (MALFORMED_VALUE_ERROR otherwise).
func OptionalURL(m map[string]any, name string) (string, error) {
	raw, ok := m[name]
	if !ok {
		return "", nil
	}
	s, ok := raw.(string)
	if !ok || !IsURL(s) {
		return "", malformed("%s must be a URL", name)
	}
	return s, nil
}

// objects reads a member that is one object or an array of objects.
func objects(raw any, name string) ([]map[string]any, error) {
	switch v := raw.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return []map[string]any{v}, nil
	case []any:
		out := make([]map[string]any, 0, len(v))
		for _, e := range v {
			o, ok := e.(map[string]any)
			if !ok {
				return nil, malformed("%s entries must be objects", name)
			}
			out = append(out, o)
		}
		return out, nil
	}
	return nil, malformed("%s must be an object or an array of objects", name)
}

// typedObjects reads objects that each need a type (and an id URL when
// needID; an id present is a URL in any case).
func typedObjects(m map[string]any, name string, needID bool) ([]map[string]any, error) {
	objs, err := objects(m[name], name)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if err := checkTypes(o, name); err != nil {
			return nil, err
		}
		id, err := OptionalURL(o, "id")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if needID && id == "" {
			return nil, malformed("%s: id is required", name)
		}
	}
	return objs, nil
}

// languageValue checks name and description: a string, a value object
// with @value, or an array of value objects.
func languageValue(m map[string]any, name string) error {
	raw, ok := m[name]
	if !ok {
		return nil
	}
	check := func(v any) bool {
		switch v := v.(type) {
		case string:
			return true
		case map[string]any:
			_, ok := v["@value"].(string)
			return ok
		}
		return false
	}
	if arr, ok := raw.([]any); ok {
		for _, e := range arr {
			if !check(e) {
				return malformed("%s entries must be strings or language value objects", name)
			}
		}
		return nil
	}
	if !check(raw) {
		return malformed("%s must be a string or a language value object", name)
	}
	return nil
}

// dateTime reads an XML Schema dateTimeStamp (a time zone is required).
func dateTime(m map[string]any, name string) (time.Time, error) {
	raw, ok := m[name]
	if !ok {
		return time.Time{}, nil
	}
	s, ok := raw.(string)
	if !ok {
		return time.Time{}, malformed("%s must be a dateTimeStamp string", name)
	}
	t, err := ParseDateTime(s)
	if err != nil {
		return time.Time{}, malformed("%s: %v", name, err)
	}
	return t, nil
}

// ParseDateTime parses an XML Schema dateTimeStamp such as
// 2025-01-01T00:00:00Z or 2025-01-01T00:00:00.5+02:00.
func ParseDateTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || len(s) < len("2006-01-02T15:04:05Z") || (s[10] != 'T') {
		return time.Time{}, fmt.Errorf("%q is not a dateTimeStamp (RFC 3339 with a time zone)", s)
	}
	return t, nil
}

// FormatDateTime formats t as a dateTimeStamp in UTC, to the second.
func FormatDateTime(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

// IsURL reports whether s is an absolute URL (a scheme and something after
// it), which includes DIDs, URNs and data: URLs.
//
// It checks RFC 3986's scheme ("ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )"),
// that something follows the colon, that every byte is printable (no
// spaces or controls) and that percent signs start valid escapes, without
// allocating: it runs on every identifier of every credential verified.
func IsURL(s string) bool {
	colon := strings.IndexByte(s, ':')
	if colon < 1 || colon == len(s)-1 || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < colon; i++ {
		if c := s[i]; !isAlpha(c) && (c < '0' || c > '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	for i := colon + 1; i < len(s); i++ {
		switch c := s[i]; {
		case c <= ' ' || c == 0x7f:
			return false
		case c == '%':
			if i+2 >= len(s) || !isHexDigit(s[i+1]) || !isHexDigit(s[i+2]) {
				return false
			}
		}
	}
	return true
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
