package idmesh

import (
	"bytes"

	"github.com/idmesh/idmesh/did"
)

// decodeTyped decodes a canonical operation (isCanonical holds for b) into
// an Operation in one pass, giving exactly what encoding/json gives
// (a Decoder with DisallowUnknownFields, and the did package's
// UnmarshalJSON methods) for the operations it understands: every member
// name spelled as the model spells it, every value of the type its field
// wants, no null where the model has a field. For anything else ok is
// false and Decode uses encoding/json, which gives the same result or
// the error. Strings and numbers inside @context entries and
// publicKeyJwk are decoded as encoding/json decodes into an any
// (fastDecoder).
//
// kept reports that nothing of b is dropped by the model: that subsumed
// finds every member and value of b in what json.Marshal writes for op,
// as keptAsSent would show, so Decode need not encode op to compare.
// It holds because every member decodeTyped takes lands in a field that
// json.Marshal writes back with the same value (strings are valid UTF-8
// without surrogates, so they survive; @context, publicKeyJwk and
// serviceEndpoint values are re-encoded to the same tree; a string the
// model writes as a one-element array, or the reverse, subsumed takes
// as the same), except where a field is omitempty: a slice or map sent
// empty ([] or {}) is left out, which subsumed allows, but a string
// sent empty ("") is left out too, which it does not. kept is false
// when did, previous or a method's publicKeyMultibase is sent as "" (the
// omitempty strings of Operation, did.Document and its parts);
// TestTypedKeptMatchesKeptAsSent and FuzzTypedKept hold kept to
// json.Marshal and keptAsSent.
func decodeTyped(b []byte) (op *Operation, kept, ok bool) {
	d := typedDecoder{fastDecoder: fastDecoder{b: b}}
	op = new(Operation)
	if !d.object(func(name string) bool {
		switch name {
		case "type":
			s, ok := d.string()
			op.Type = Type(s)
			return ok
		case "did":
			var ok bool
			op.DID, ok = d.string()
			d.dropped = d.dropped || op.DID == "" // omitempty
			return ok
		case "previous":
			var ok bool
			op.Previous, ok = d.string()
			d.dropped = d.dropped || op.Previous == "" // omitempty
			return ok
		case "document":
			op.Document = new(did.Document)
			return d.document(op.Document)
		case "compromised":
			var ok bool
			op.Compromised, ok = d.strings()
			return ok
		case "proof":
			op.Proof = []Proof{}
			return d.array(func() bool {
				var p Proof
				ok := d.object(func(name string) bool {
					var ok bool
					switch name {
					case "verificationMethod":
						p.VerificationMethod, ok = d.string()
					case "signature":
						p.Signature, ok = d.string()
					}
					return ok
				})
				op.Proof = append(op.Proof, p)
				return ok
			})
		}
		return false
	}) || d.i != len(b) {
		return nil, false, false
	}
	return op, !d.dropped, true
}

// typedDecoder reads canonical JSON (no white space) into typed values.
// Each method reads one value at d.i and reports false for a value it
// does not take: the wrong JSON type, null, or a member it does not know.
// dropped records a member whose value json.Marshal leaves out although
// subsumed counts it (an omitempty string sent as "").
type typedDecoder struct {
	fastDecoder
	dropped bool
}

func (d *typedDecoder) peek(c byte) bool { return d.i < len(d.b) && d.b[d.i] == c }

func (d *typedDecoder) string() (string, bool) {
	if !d.peek('"') {
		return "", false
	}
	return d.str()
}

// object reads an object, calling member for each member name with d.i at
// its value; member reads the value.
func (d *typedDecoder) object(member func(name string) bool) bool {
	if !d.peek('{') || !d.enter() {
		return false
	}
	if d.peek('}') {
		d.i++
		d.depth--
		return true
	}
	for {
		name, ok := d.string()
		if !ok || !d.peek(':') {
			return false
		}
		d.i++
		if !member(name) || d.i >= len(d.b) {
			return false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			d.depth--
			return true
		default:
			return false
		}
	}
}

// array reads an array, calling elem with d.i at each element.
func (d *typedDecoder) array(elem func() bool) bool {
	if !d.peek('[') || !d.enter() {
		return false
	}
	if d.peek(']') {
		d.i++
		d.depth--
		return true
	}
	for {
		if !elem() || d.i >= len(d.b) {
			return false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			d.depth--
			return true
		default:
			return false
		}
	}
}

// strings reads an array of strings ([]string; [] gives an empty,
// non-nil slice, as encoding/json does).
func (d *typedDecoder) strings() ([]string, bool) {
	out := []string{}
	ok := d.array(func() bool {
		s, ok := d.string()
		out = append(out, s)
		return ok
	})
	return out, ok
}

// stringSet reads a did.StringSet: a string or an array of strings.
func (d *typedDecoder) stringSet() (did.StringSet, bool) {
	if d.peek('"') {
		s, ok := d.str()
		return did.StringSet{s}, ok
	}
	return d.strings()
}

// document reads a DID document as did.Document.UnmarshalJSON does; a
// member the model does not know (which it would drop, and Decode then
// refuses) is not taken.
func (d *typedDecoder) document(doc *did.Document) bool {
	return d.object(func(name string) bool {
		var ok bool
		switch name {
		case "@context":
			// A string is a one-element array; an array holds any JSON.
			if d.peek('"') {
				var s string
				s, ok = d.str()
				doc.Context = []any{s}
				return ok
			}
			if !d.peek('[') {
				return false
			}
			var v any
			if v, ok = d.value(); ok {
				doc.Context = v.([]any)
			}
		case "id":
			doc.ID, ok = d.string()
		case "alsoKnownAs":
			doc.AlsoKnownAs, ok = d.strings()
		case "controller":
			doc.Controller, ok = d.stringSet()
		case "verificationMethod":
			doc.VerificationMethod = []did.VerificationMethod{}
			ok = d.array(func() bool {
				var vm did.VerificationMethod
				ok := d.method(&vm)
				doc.VerificationMethod = append(doc.VerificationMethod, vm)
				return ok
			})
		case did.RelAuthentication:
			doc.Authentication, ok = d.relationships()
		case did.RelAssertionMethod:
			doc.AssertionMethod, ok = d.relationships()
		case did.RelKeyAgreement:
			doc.KeyAgreement, ok = d.relationships()
		case did.RelCapabilityInvocation:
			doc.CapabilityInvocation, ok = d.relationships()
		case did.RelCapabilityDelegation:
			doc.CapabilityDelegation, ok = d.relationships()
		case "service":
			doc.Service = []did.Service{}
			ok = d.array(func() bool {
				var s did.Service
				ok := d.service(&s)
				doc.Service = append(doc.Service, s)
				return ok
			})
		}
		return ok
	})
}

// method reads a verification method map.
func (d *typedDecoder) method(vm *did.VerificationMethod) bool {
	return d.object(func(name string) bool {
		var ok bool
		switch name {
		case "id":
			vm.ID, ok = d.string()
		case "type":
			vm.Type, ok = d.string()
		case "controller":
			vm.Controller, ok = d.string()
		case "publicKeyMultibase":
			vm.PublicKeyMultibase, ok = d.string()
			d.dropped = d.dropped || vm.PublicKeyMultibase == "" // omitempty
		case "publicKeyJwk":
			if !d.peek('{') {
				return false
			}
			var v any
			if v, ok = d.value(); ok {
				vm.PublicKeyJwk = v.(map[string]any)
			}
		}
		return ok
	})
}

// relationships reads a verification relationship: references (strings)
// and embedded methods (objects).
func (d *typedDecoder) relationships() ([]did.Relationship, bool) {
	out := []did.Relationship{}
	ok := d.array(func() bool {
		if d.peek('"') {
			s, ok := d.str()
			out = append(out, did.Relationship{Reference: s})
			return ok
		}
		vm := new(did.VerificationMethod)
		ok := d.method(vm)
		out = append(out, did.Relationship{Embedded: vm})
		return ok
	})
	return out, ok
}

// service reads a service map; serviceEndpoint keeps its JSON as it
// stands in b (a copy), as json.RawMessage does.
func (d *typedDecoder) service(s *did.Service) bool {
	return d.object(func(name string) bool {
		var ok bool
		switch name {
		case "id":
			s.ID, ok = d.string()
		case "type":
			s.Type, ok = d.stringSet()
		case "serviceEndpoint":
			if d.peek('n') { // null: leave it to encoding/json
				return false
			}
			start := d.i
			if _, ok = d.value(); ok {
				s.ServiceEndpoint = bytes.Clone(d.b[start:d.i])
			}
		}
		return ok
	})
}
