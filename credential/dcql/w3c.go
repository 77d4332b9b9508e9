package dcql

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/idmesh/idmesh/credential/ld"
	"github.com/idmesh/idmesh/credential/sdjwt"
)

// ErrNotW3C reports a value that is not a W3C credential W3CCandidate can
// read.
var ErrNotW3C = errors.New("not a W3C verifiable credential")

// maxTypes bounds the types W3CTypes reads from one credential.
const maxTypes = 64

// W3CCandidate makes the candidate of a W3C verifiable credential, vc
// being the credential itself (for a VC Data Model 1.1 JWT, its "vc"
// claim): format (FormatJWTVC or FormatLDPVC), the types of W3CTypes,
// the holder binding as given, and vc as the claims, whose paths start
// at the credential's root (OpenID4VP Appendix B.1.2).
func W3CCandidate(format string, vc map[string]any, holderBinding bool) (Candidate, error) {
	types, err := W3CTypes(vc)
	if err != nil {
		return Candidate{}, err
	}
	return Candidate{Format: format, Types: types, HolderBinding: holderBinding, Claims: vc}, nil
}

// W3CTypes returns a W3C credential's types for matching type_values:
// each type as written and, when the credential's @context defines it,
// its expansion (an IRI), so that queries naming either form match
// (Appendix B.1.1 asks for fully expanded types and lets an undefined
// type stand for itself). Expansion reads the term definitions of the
// contexts bundled in credential/ld and of inline context objects, in
// order (a later definition wins, null resets), with @vocab and compact
// IRIs (prefix:suffix); contexts that are not bundled define nothing.
// It is not full JSON-LD processing: scoped contexts are not applied,
// which for the type member itself changes nothing in the bundled
// contexts. No network, no files.
func W3CTypes(vc map[string]any) ([]string, error) {
	var written []string
	switch t := vc["type"].(type) {
	case string:
		written = []string{t}
	case []any:
		if len(t) > maxTypes {
			return nil, fmt.Errorf("%w: %d types, at most %d", ErrLimit, len(t), maxTypes)
		}
		for i, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%w: type[%d] is not a string", ErrNotW3C, i)
			}
			written = append(written, s)
		}
	default:
		return nil, fmt.Errorf("%w: no type", ErrNotW3C)
	}
	ac := activeContext{terms: map[string]string{}}
	if err := ac.add(vc["@context"], 0); err != nil {
		return nil, err
	}
	out := slices.Clone(written)
	for _, t := range written {
		if x := ac.expand(t); x != t && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out, nil
}

// activeContext is the part of a JSON-LD active context that type
// expansion needs: term IRIs and the vocabulary mapping.
type activeContext struct {
	terms map[string]string
	vocab string
}

// maxContextDepth bounds nested context arrays and remote contexts.
const maxContextDepth = 4

func (ac *activeContext) add(c any, depth int) error {
	if depth > maxContextDepth {
		return fmt.Errorf("%w: @context nested deeper than %d", ErrLimit, maxContextDepth)
	}
	switch c := c.(type) {
	case nil:
		if depth > 0 { // a null in a context array resets it
			ac.terms, ac.vocab = map[string]string{}, ""
		}
	case string:
		doc, ok := bundledContext(c)
		if !ok {
			return nil // not bundled: it defines nothing we know
		}
		return ac.add(doc, depth+1)
	case []any:
		if len(c) > maxTypes {
			return fmt.Errorf("%w: %d contexts, at most %d", ErrLimit, len(c), maxTypes)
		}
		for _, e := range c {
			if err := ac.add(e, depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		if v, ok := c["@vocab"]; ok {
			s, _ := v.(string)
			ac.vocab = s
		}
		for term, def := range c {
			if strings.HasPrefix(term, "@") {
				continue
			}
			switch d := def.(type) {
			case string:
				ac.terms[term] = d
			case map[string]any:
				if id, ok := d["@id"].(string); ok {
					ac.terms[term] = id
				} else {
					delete(ac.terms, term)
				}
			case nil:
				delete(ac.terms, term)
			}
		}
	}
	return nil
}

// expand maps a type to an IRI: a defined term to its definition, a
// compact IRI whose prefix is a term to the prefix's IRI and the suffix,
// anything else with a colon to itself, and a bare word to @vocab plus
// the word (or itself without @vocab).
func (ac *activeContext) expand(t string) string {
	for range 4 { // a term may map to a compact IRI or another term
		if v, ok := ac.terms[t]; ok && v != t {
			t = v
			continue
		}
		if p, s, ok := strings.Cut(t, ":"); ok {
			if v, isTerm := ac.terms[p]; isTerm && !strings.HasPrefix(s, "//") {
				return v + s
			}
			return t
		}
		if ac.vocab != "" && !strings.HasPrefix(t, "@") {
			return ac.vocab + t
		}
		return t
	}
	return t
}

// contextDocs caches the decoded "@context" of bundled contexts, which
// never change.
var contextDocs sync.Map // url → any

func bundledContext(url string) (any, bool) {
	if v, ok := contextDocs.Load(url); ok {
		return v, true
	}
	b, ok := ld.Context(url)
	if !ok {
		return nil, false
	}
	var doc map[string]any
	if json.Unmarshal(b, &doc) != nil {
		return nil, false
	}
	v, _ := contextDocs.LoadOrStore(strings.Clone(url), doc["@context"]) // not a view of the request (review R8)
	return v, true
}

// SDJWTCandidate makes the candidate of a verified SD-JWT VC: for a
// wallet, r is its stored credential verified with every Disclosure (so
// Disclosed lists every selectively disclosable claim) and holderBinding
// whether it holds the key of cnf; for a verifier, r is what was
// presented and holderBinding r.KeyBound.
func SDJWTCandidate(r *sdjwt.Result, holderBinding bool) Candidate {
	vct := r.VCT
	if vct == "" { // VerifyWithKey leaves VCT to the caller
		vct, _ = r.Claims["vct"].(string)
	}
	return Candidate{Format: FormatSDJWT, VCT: vct, HolderBinding: holderBinding, Claims: r.Claims, Disclosable: r.Disclosed}
}
