package did

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
)

// relationship returns the entries of a verification relationship, or nil
// for an unknown name.
func (d *Document) relationship(rel string) []Relationship {
	if p := d.relationshipPtr(rel); p != nil {
		return *p
	}
	return nil
}

func (d *Document) relationshipPtr(rel string) *[]Relationship {
	switch rel {
	case RelAuthentication:
		return &d.Authentication
	case RelAssertionMethod:
		return &d.AssertionMethod
	case RelKeyAgreement:
		return &d.KeyAgreement
	case RelCapabilityInvocation:
		return &d.CapabilityInvocation
	case RelCapabilityDelegation:
		return &d.CapabilityDelegation
	}
	return nil
}

// Relationship returns the entries of the named verification relationship
// (one of the Rel constants), or nil for an unknown name. The slice is
// shared with d.
func (d *Document) Relationship(rel string) []Relationship { return d.relationship(rel) }

// topLevelMethod finds a top-level method by absolute id; method ids that
// are relative are resolved against d.ID.
func (d *Document) topLevelMethod(abs string) (VerificationMethod, bool) {
	for _, vm := range d.VerificationMethod {
		if AbsoluteRef(d.ID, vm.ID) == abs {
			return vm, true
		}
	}
	return VerificationMethod{}, false
}

// VerificationMethodByID finds a verification method by its id, given
// absolute or relative to the document ("#key-1"). It searches the
// verificationMethod array first and then methods embedded in
// relationships. The result shares its PublicKeyJwk map with d.
func (d *Document) VerificationMethodByID(ref string) (VerificationMethod, bool) {
	abs := AbsoluteRef(d.ID, ref)
	if vm, ok := d.topLevelMethod(abs); ok {
		return vm, true
	}
	for _, rel := range relationshipNames {
		for _, r := range d.relationship(rel) {
			if r.Embedded != nil && AbsoluteRef(d.ID, r.Embedded.ID) == abs {
				return *r.Embedded, true
			}
		}
	}
	return VerificationMethod{}, false
}

// Methods returns the verification methods of a relationship (one of the
// Rel constants) in order: embedded methods, and referenced methods found
// in this document's verificationMethod array. References to other DIDs'
// documents and dangling references are skipped. The results share their
// PublicKeyJwk maps with d.
func (d *Document) Methods(rel string) []VerificationMethod {
	var out []VerificationMethod
	for _, r := range d.relationship(rel) {
		if r.Embedded != nil {
			out = append(out, *r.Embedded)
			continue
		}
		if vm, ok := d.topLevelMethod(AbsoluteRef(d.ID, r.Reference)); ok {
			out = append(out, vm)
		}
	}
	return out
}

// ControllerDIDs returns the DIDs that control the document: the
// controller property if set, else the document's own id. The slice is
// fresh.
func (d *Document) ControllerDIDs() []string {
	if len(d.Controller) > 0 {
		return slices.Clone(d.Controller)
	}
	return []string{d.ID}
}

// WithID returns a deep copy of d whose id is id and in which every
// relative reference ("#frag") is made absolute against id: verification
// method ids (top-level and embedded), relationship references and service
// ids. Verification methods with an empty controller get id. Self-certifying
// methods use it to turn a template into the document of a new DID. The
// error wraps [ErrInvalidDID] if id is not a DID.
func (d *Document) WithID(id string) (*Document, error) {
	if _, err := Parse(id); err != nil {
		return nil, fmt.Errorf("with id: %w", err)
	}
	c := d.Clone()
	if c == nil {
		c = &Document{}
	}
	c.ID = id
	fix := func(vm *VerificationMethod) {
		vm.ID = AbsoluteRef(id, vm.ID)
		if vm.Controller == "" {
			vm.Controller = id
		}
	}
	for i := range c.VerificationMethod {
		fix(&c.VerificationMethod[i])
	}
	for _, rel := range relationshipNames {
		for i := range *c.relationshipPtr(rel) {
			r := &(*c.relationshipPtr(rel))[i]
			if r.Embedded != nil {
				fix(r.Embedded)
			} else {
				r.Reference = AbsoluteRef(id, r.Reference)
			}
		}
	}
	for i := range c.Service {
		c.Service[i].ID = AbsoluteRef(id, c.Service[i].ID)
	}
	return c, nil
}

// Clone returns a deep copy of d; nil for nil.
func (d *Document) Clone() *Document {
	if d == nil {
		return nil
	}
	c := *d
	if d.Context != nil {
		c.Context = make([]any, len(d.Context))
		for i, v := range d.Context {
			c.Context[i] = cloneJSON(v)
		}
	}
	c.AlsoKnownAs = slices.Clone(d.AlsoKnownAs)
	c.Controller = slices.Clone(d.Controller)
	if d.VerificationMethod != nil {
		c.VerificationMethod = make([]VerificationMethod, len(d.VerificationMethod))
		for i, vm := range d.VerificationMethod {
			c.VerificationMethod[i] = vm.clone()
		}
	}
	for _, rel := range relationshipNames {
		src := d.relationship(rel)
		if src == nil {
			continue
		}
		dst := make([]Relationship, len(src))
		for i, r := range src {
			dst[i] = r
			if r.Embedded != nil {
				vm := r.Embedded.clone()
				dst[i].Embedded = &vm
			}
		}
		*c.relationshipPtr(rel) = dst
	}
	if d.Service != nil {
		c.Service = make([]Service, len(d.Service))
		for i, s := range d.Service {
			c.Service[i] = Service{ID: s.ID, Type: slices.Clone(s.Type), ServiceEndpoint: bytes.Clone(s.ServiceEndpoint)}
		}
	}
	return &c
}

func (vm VerificationMethod) clone() VerificationMethod {
	if vm.PublicKeyJwk != nil {
		vm.PublicKeyJwk = cloneJSON(vm.PublicKeyJwk).(map[string]any)
	}
	return vm
}

// cloneJSON deep-copies a value decoded by encoding/json.
func cloneJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := maps.Clone(v)
		for k, e := range m {
			m[k] = cloneJSON(e)
		}
		return m
	case []any:
		s := slices.Clone(v)
		for i, e := range s {
			s[i] = cloneJSON(e)
		}
		return s
	}
	return v
}

// AllMethods returns the top-level verification methods and those
// embedded in relationships, in document order.
func (d *Document) AllMethods() []VerificationMethod {
	out := append([]VerificationMethod(nil), d.VerificationMethod...)
	for _, rel := range RelationshipNames() {
		for _, r := range d.relationship(rel) {
			if r.Embedded != nil {
				out = append(out, *r.Embedded)
			}
		}
	}
	return out
}
