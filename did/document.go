package did

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// JSON-LD contexts.
const (
	// ContextV1 is the DID Core 1.0 context; it must be the first
	// @context entry of every document.
	ContextV1 = "https://www.w3.org/ns/did/v1"
	// ContextMultikey defines the Multikey verification method type.
	ContextMultikey = "https://w3id.org/security/multikey/v1"
	// ContextJWK defines the JsonWebKey verification method type.
	ContextJWK = "https://w3id.org/security/jwk/v1"
)

// Verification relationship names, as used by [Document.Methods].
const (
	RelAuthentication       = "authentication"
	RelAssertionMethod      = "assertionMethod"
	RelKeyAgreement         = "keyAgreement"
	RelCapabilityInvocation = "capabilityInvocation"
	RelCapabilityDelegation = "capabilityDelegation"
)

// relationshipNames lists the verification relationship names in document
// order.
var relationshipNames = [...]string{RelAuthentication, RelAssertionMethod, RelKeyAgreement, RelCapabilityInvocation, RelCapabilityDelegation}

// RelationshipNames returns the five verification relationship names in
// document order, in a fresh slice.
func RelationshipNames() []string { return slices.Clone(relationshipNames[:]) }

// Document is a DID document in its JSON representation. Properties that
// this model does not know are dropped when decoding.
type Document struct {
	// Context is the JSON-LD @context: strings or context objects. JSON
	// input may be a single string; output is always an array.
	Context              []any                `json:"@context"`
	ID                   string               `json:"id"`
	AlsoKnownAs          []string             `json:"alsoKnownAs,omitempty"`
	Controller           StringSet            `json:"controller,omitempty"`
	VerificationMethod   []VerificationMethod `json:"verificationMethod,omitempty"`
	Authentication       []Relationship       `json:"authentication,omitempty"`
	AssertionMethod      []Relationship       `json:"assertionMethod,omitempty"`
	KeyAgreement         []Relationship       `json:"keyAgreement,omitempty"`
	CapabilityInvocation []Relationship       `json:"capabilityInvocation,omitempty"`
	CapabilityDelegation []Relationship       `json:"capabilityDelegation,omitempty"`
	Service              []Service            `json:"service,omitempty"`
}

// documentJSON has Document's fields but not its methods.
type documentJSON Document

// UnmarshalJSON decodes a document, accepting a single string @context.
// Type errors wrap [ErrInvalidDocument].
func (d *Document) UnmarshalJSON(b []byte) error {
	var v struct {
		documentJSON
		Context json.RawMessage `json:"@context"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("decode did document: %w: %w", ErrInvalidDocument, err)
	}
	*d = Document(v.documentJSON)
	d.Context = nil
	switch c := bytes.TrimSpace(v.Context); {
	case len(c) == 0 || string(c) == "null":
	case c[0] == '"':
		var s string
		if err := json.Unmarshal(c, &s); err != nil {
			return fmt.Errorf("decode did document: %w: @context: %w", ErrInvalidDocument, err)
		}
		d.Context = []any{s}
	case c[0] == '[':
		if err := json.Unmarshal(c, &d.Context); err != nil {
			return fmt.Errorf("decode did document: %w: @context: %w", ErrInvalidDocument, err)
		}
	default:
		return fmt.Errorf("decode did document: %w: @context is neither a string nor an array", ErrInvalidDocument)
	}
	return nil
}

// StringSet is a set of strings that JSON writes as a single string when
// it has exactly one element, and reads from a string or an array.
type StringSet []string

// MarshalJSON writes one element as a string and anything else as an array.
func (s StringSet) MarshalJSON() ([]byte, error) {
	if len(s) == 1 {
		return json.Marshal(s[0])
	}
	if s == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]string(s))
}

// UnmarshalJSON reads a string or an array of strings.
func (s *StringSet) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidDocument, err)
		}
		*s = StringSet{v}
		return nil
	}
	var v []string
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("%w: want a string or an array of strings: %w", ErrInvalidDocument, err)
	}
	*s = v
	return nil
}

// VerificationMethod is a verification method map (DID Core 5.2) carrying
// exactly one of PublicKeyMultibase and PublicKeyJwk.
type VerificationMethod struct {
	ID                 string         `json:"id"`
	Type               string         `json:"type"`
	Controller         string         `json:"controller"`
	PublicKeyMultibase string         `json:"publicKeyMultibase,omitempty"`
	PublicKeyJwk       map[string]any `json:"publicKeyJwk,omitempty"`
}

// Relationship is one entry of a verification relationship: either a
// Reference to a verification method (a DID URL, possibly relative such as
// "#key-1") or an Embedded verification method. JSON reads and writes a
// string for a reference and an object for an embedded method.
type Relationship struct {
	Reference string
	Embedded  *VerificationMethod
}

// Ref returns a Relationship that references the method id.
func Ref(id string) Relationship { return Relationship{Reference: id} }

// MarshalJSON writes the embedded method if there is one, else the
// reference string.
func (r Relationship) MarshalJSON() ([]byte, error) {
	if r.Embedded != nil {
		return json.Marshal(r.Embedded)
	}
	return json.Marshal(r.Reference)
}

// UnmarshalJSON reads a reference string or an embedded method object.
func (r *Relationship) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidDocument, err)
		}
		*r = Relationship{Reference: s}
	case len(b) > 0 && b[0] == '{':
		var vm VerificationMethod
		if err := json.Unmarshal(b, &vm); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidDocument, err)
		}
		*r = Relationship{Embedded: &vm}
	default:
		return fmt.Errorf("%w: relationship entry is neither a string nor an object", ErrInvalidDocument)
	}
	return nil
}

// Service is a service map (DID Core 5.4). ServiceEndpoint holds the raw
// JSON: a URI string, a map, or an array of those.
type Service struct {
	ID              string          `json:"id"`
	Type            StringSet       `json:"type"`
	ServiceEndpoint json.RawMessage `json:"serviceEndpoint"`
}
