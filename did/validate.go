package did

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Bounds enforced by [Document.Validate].
const (
	// MaxDocumentSize bounds the JSON that [ParseDocument] accepts.
	MaxDocumentSize = 64 << 10
	// MaxStringLength bounds every string property, in bytes.
	MaxStringLength = 2048
	// MaxVerificationMethods bounds the verificationMethod array.
	MaxVerificationMethods = 64
	// MaxServices bounds the service array.
	MaxServices = 64
	// MaxRelationshipEntries bounds each verification relationship.
	MaxRelationshipEntries = 64
	// MaxControllers bounds the controller set.
	MaxControllers = 16
	// MaxAlsoKnownAs bounds alsoKnownAs.
	MaxAlsoKnownAs = 16
	// MaxContexts bounds @context.
	MaxContexts = 16
)

// ParseDocument decodes a JSON DID document of at most [MaxDocumentSize]
// bytes and validates it. Errors wrap [ErrInvalidDocument].
func ParseDocument(b []byte) (*Document, error) {
	if len(b) > MaxDocumentSize {
		return nil, fmt.Errorf("parse did document: %w: %d bytes exceeds %d", ErrInvalidDocument, len(b), MaxDocumentSize)
	}
	var d Document
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, decodeError(err)
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("parse did document: %w", err)
	}
	return &d, nil
}

// decodeError wraps a JSON decoding error in ErrInvalidDocument once.
func decodeError(err error) error {
	if errors.Is(err, ErrInvalidDocument) {
		return fmt.Errorf("parse did document: %w", err)
	}
	return fmt.Errorf("parse did document: %w: %w", ErrInvalidDocument, err)
}

// invalid builds a validation error wrapping ErrInvalidDocument.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidDocument}, args...)...)
}

// Validate checks the document and returns nil or the first violation as an
// error wrapping [ErrInvalidDocument] (and the key error, where one caused
// it). The rules:
//
//   - @context is non-empty, its first item is [ContextV1], and every item
//     is a string or an object;
//   - id is a DID; controller entries are DIDs; alsoKnownAs entries are URIs;
//   - every verification method (top-level or embedded in a relationship)
//     has an absolute DID URL id with a fragment, a non-empty type, a DID
//     controller, and exactly one of publicKeyMultibase and publicKeyJwk
//     that decodes to a supported key (see [VerificationMethod.PublicKey]);
//   - verification method and service ids are unique across the document;
//   - relationship references are DID URLs (relative "#frag" allowed) and
//     those that point into this document name a top-level method;
//   - services have an absolute URI id, a non-empty type whose entries are
//     non-empty, and an endpoint that is a URI string, a map, or a
//     non-empty array of those;
//   - bounds: see the Max constants.
func (d *Document) Validate() error {
	if d == nil {
		return invalid("nil document")
	}
	if err := d.validateContext(); err != nil {
		return err
	}
	if err := checkLen("id", d.ID); err != nil {
		return err
	}
	if _, err := Parse(d.ID); err != nil {
		return invalid("id: %w", err)
	}
	if len(d.Controller) > MaxControllers {
		return invalid("controller: %d entries exceeds %d", len(d.Controller), MaxControllers)
	}
	for i, c := range d.Controller {
		if err := checkLenAt("controller", i, c); err != nil {
			return err
		}
		if _, err := Parse(c); err != nil {
			return invalid("controller[%d]: %w", i, err)
		}
	}
	if len(d.AlsoKnownAs) > MaxAlsoKnownAs {
		return invalid("alsoKnownAs: %d entries exceeds %d", len(d.AlsoKnownAs), MaxAlsoKnownAs)
	}
	for i, a := range d.AlsoKnownAs {
		if err := checkLenAt("alsoKnownAs", i, a); err != nil {
			return err
		}
		if !isURI(a) {
			return invalid("alsoKnownAs[%d]: %s is not a URI", i, quote(a))
		}
	}

	ids := make(map[string]string) // id -> where it was first seen
	seen := func(id, where string) error {
		if first, dup := ids[id]; dup {
			return invalid("%s: duplicate id %s (also %s)", where, quote(id), first)
		}
		ids[id] = where
		return nil
	}
	if len(d.VerificationMethod) > MaxVerificationMethods {
		return invalid("verificationMethod: %d entries exceeds %d", len(d.VerificationMethod), MaxVerificationMethods)
	}
	for i, vm := range d.VerificationMethod {
		where := indexed("verificationMethod", i)
		if err := validateMethod(where, vm); err != nil {
			return err
		}
		if err := seen(vm.ID, where); err != nil {
			return err
		}
	}
	for _, rel := range relationshipNames {
		entries := d.relationship(rel)
		if len(entries) > MaxRelationshipEntries {
			return invalid("%s: %d entries exceeds %d", rel, len(entries), MaxRelationshipEntries)
		}
		for i, r := range entries {
			where := indexed(rel, i)
			if r.Embedded != nil {
				if err := validateMethod(where, *r.Embedded); err != nil {
					return err
				}
				if err := seen(r.Embedded.ID, where); err != nil {
					return err
				}
				continue
			}
			if err := d.validateReference(where, r.Reference); err != nil {
				return err
			}
		}
	}
	if len(d.Service) > MaxServices {
		return invalid("service: %d entries exceeds %d", len(d.Service), MaxServices)
	}
	for i, s := range d.Service {
		where := indexed("service", i)
		if err := validateService(where, s); err != nil {
			return err
		}
		if err := seen(s.ID, where); err != nil {
			return err
		}
	}
	return nil
}

func (d *Document) validateContext() error {
	if len(d.Context) == 0 {
		return invalid("@context is missing")
	}
	if len(d.Context) > MaxContexts {
		return invalid("@context: %d entries exceeds %d", len(d.Context), MaxContexts)
	}
	if s, _ := d.Context[0].(string); s != ContextV1 {
		return invalid("@context: first entry must be %q", ContextV1)
	}
	for i, c := range d.Context {
		switch c := c.(type) {
		case string:
			if err := checkLenAt("@context", i, c); err != nil {
				return err
			}
		case map[string]any:
		default:
			return invalid("@context[%d]: want a string or an object, got %T", i, c)
		}
	}
	return nil
}

// checkLenAt is checkLen of the i-th entry of name; the location is
// formatted only for an error.
func checkLenAt(name string, i int, s string) error {
	if len(s) > MaxStringLength {
		return checkLen(indexed(name, i), s)
	}
	return nil
}

// indexed returns name[i], the location of an array entry in errors.
func indexed(name string, i int) string {
	return name + "[" + strconv.Itoa(i) + "]"
}

func checkLen(where, s string) error {
	if len(s) > MaxStringLength {
		return invalid("%s: %d bytes exceeds %d", where, len(s), MaxStringLength)
	}
	return nil
}

func validateMethod(where string, vm VerificationMethod) error {
	for _, f := range []struct{ name, v string }{
		{"id", vm.ID}, {"type", vm.Type}, {"controller", vm.Controller}, {"publicKeyMultibase", vm.PublicKeyMultibase},
	} {
		if len(f.v) > MaxStringLength {
			return checkLen(where+"."+f.name, f.v)
		}
	}
	u, err := ParseURL(vm.ID)
	if err != nil {
		return invalid("%s.id: %w", where, err)
	}
	if u.Fragment == "" {
		return invalid("%s.id: %s has no fragment", where, quote(vm.ID))
	}
	if vm.Type == "" {
		return invalid("%s.type is empty", where)
	}
	if _, err := Parse(vm.Controller); err != nil {
		return invalid("%s.controller: %w", where, err)
	}
	if vm.PublicKeyJwk != nil {
		b, err := json.Marshal(vm.PublicKeyJwk)
		if err != nil {
			return invalid("%s.publicKeyJwk: %w", where, err)
		}
		if len(b) > MaxStringLength {
			return invalid("%s.publicKeyJwk: %d bytes exceeds %d", where, len(b), MaxStringLength)
		}
	}
	if _, err := vm.PublicKey(); err != nil {
		return invalid("%s %s: %w", where, quote(vm.ID), err)
	}
	return nil
}

func (d *Document) validateReference(where, ref string) error {
	if err := checkLen(where, ref); err != nil {
		return err
	}
	abs := AbsoluteRef(d.ID, ref)
	u, err := ParseURL(abs)
	if err != nil {
		return invalid("%s: reference: %w", where, err)
	}
	if u.DID.String() != d.ID {
		return nil // a method in another DID's document
	}
	if _, ok := d.topLevelMethod(abs); !ok {
		return invalid("%s: reference %s names no verification method of this document", where, quote(ref))
	}
	return nil
}

func validateService(where string, s Service) error {
	if err := checkLen(where+".id", s.ID); err != nil {
		return err
	}
	if !isURI(s.ID) {
		return invalid("%s.id: %s is not an absolute URI", where, quote(s.ID))
	}
	if len(s.Type) == 0 {
		return invalid("%s.type is empty", where)
	}
	for i, t := range s.Type {
		if t == "" {
			return invalid("%s.type[%d] is empty", where, i)
		}
		if err := checkLenAt(where+".type", i, t); err != nil {
			return err
		}
	}
	if len(s.ServiceEndpoint) > MaxStringLength*4 {
		return invalid("%s.serviceEndpoint: %d bytes exceeds %d", where, len(s.ServiceEndpoint), MaxStringLength*4)
	}
	raw := bytes.TrimSpace(s.ServiceEndpoint)
	if len(raw) == 0 {
		return invalid("%s.serviceEndpoint is missing", where)
	}
	var ep any
	if err := json.Unmarshal(raw, &ep); err != nil {
		return invalid("%s.serviceEndpoint: %w", where, err)
	}
	if arr, ok := ep.([]any); ok {
		if len(arr) == 0 {
			return invalid("%s.serviceEndpoint is an empty array", where)
		}
		for i, e := range arr {
			if err := checkEndpoint(indexed(where+".serviceEndpoint", i), e); err != nil {
				return err
			}
		}
		return nil
	}
	return checkEndpoint(where+".serviceEndpoint", ep)
}

func checkEndpoint(where string, e any) error {
	switch e := e.(type) {
	case string:
		if err := checkLen(where, e); err != nil {
			return err
		}
		if !isURI(e) {
			return invalid("%s: %s is not a URI", where, quote(e))
		}
	case map[string]any:
	default:
		return invalid("%s: want a URI string or a map, got %T", where, e)
	}
	return nil
}
