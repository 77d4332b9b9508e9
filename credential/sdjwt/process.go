package sdjwt

import (
	"slices"
	"strconv"

	"github.com/idmesh/idmesh/credential"
)

// processor rebuilds the claims from an issuer-signed payload and the
// Disclosures (RFC 9901 section 7.1, step 3).
type processor struct {
	ds       []Disclosure
	byDigest map[string]int // digest → index in ds
	seen     map[string]bool
	used     []bool
	ptr      [][]string // where each used Disclosure landed
	parent   []int      // the Disclosure whose value held its digest, or -1
	maxDepth int
}

// placement tells where a Disclosure went in the processed claims.
type placement struct {
	ptr    []string
	parent int
}

// process returns the processed payload (without "_sd", "_sd_alg" and
// undisclosed digests) and the place of each Disclosure. It refuses a
// digest seen twice, a Disclosure of the wrong form for its place, a
// claim name that collides, nesting over maxDepth and a Disclosure
// that no digest references.
func process(payload map[string]any, ds []Disclosure, maxDepth int) (map[string]any, []placement, error) {
	if v, ok := payload["_sd_alg"]; ok && v != HashAlg {
		return nil, nil, credential.Errorf(credential.CryptographicSecurityError, "verify: _sd_alg %v is not supported (only %q)", v, HashAlg)
	}
	p := &processor{
		ds:       ds,
		byDigest: make(map[string]int, len(ds)),
		seen:     map[string]bool{},
		used:     make([]bool, len(ds)),
		ptr:      make([][]string, len(ds)),
		parent:   make([]int, len(ds)),
		maxDepth: maxDepth,
	}
	for i, d := range ds {
		p.byDigest[d.Digest] = i
	}
	claims, err := p.object(payload, nil, 1, -1, true)
	if err != nil {
		return nil, nil, err
	}
	out := make([]placement, len(ds))
	for i := range ds {
		if !p.used[i] {
			return nil, nil, credential.Errorf(credential.CryptographicSecurityError, "verify: %w: disclosure %d (digest %s)", ErrUnreferencedDisclosure, i+1, ds[i].Digest)
		}
		out[i] = placement{ptr: p.ptr[i], parent: p.parent[i]}
	}
	return claims, out, nil
}

func (p *processor) tooDeep(path []string) error {
	return credential.Errorf(credential.LimitExceededError, "verify: %w: claims at %s nest deeper than %d", ErrLimit, where(path), p.maxDepth)
}

func (p *processor) value(v any, path []string, depth, within int) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		return p.object(v, path, depth, within, false)
	case []any:
		return p.array(v, path, depth, within)
	}
	return v, nil
}

// digest checks that d, a digest found in the payload, is new, and
// returns the index of its Disclosure, or -1.
func (p *processor) digest(d string, path []string) (int, error) {
	if p.seen[d] {
		return -1, credential.Errorf(credential.MalformedValueError, "verify: %w: %s at %s", ErrDuplicateDigest, d, where(path))
	}
	p.seen[d] = true
	if i, ok := p.byDigest[d]; ok {
		return i, nil
	}
	return -1, nil
}

func (p *processor) object(m map[string]any, path []string, depth, within int, top bool) (map[string]any, error) {
	if depth > p.maxDepth {
		return nil, p.tooDeep(path)
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	out := make(map[string]any, len(m))
	for _, k := range names {
		switch k {
		case "_sd":
			continue
		case "_sd_alg":
			if top {
				continue
			}
			return nil, credential.Errorf(credential.MalformedValueError, "verify: %w: _sd_alg below the top level, at %s", ErrForbiddenName, where(path))
		case "...":
			return nil, credential.Errorf(credential.MalformedValueError, "verify: %w: a \"...\" member outside an array element digest, at %s", ErrForbiddenName, where(path))
		}
		v, err := p.value(m[k], child(path, k), depth+1, within)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	raw, ok := m["_sd"]
	if !ok {
		return out, nil
	}
	sd, ok := raw.([]any)
	if !ok {
		return nil, credential.Errorf(credential.MalformedValueError, "verify: _sd at %s is not an array", where(path))
	}
	for _, e := range sd {
		d, ok := e.(string)
		if !ok {
			return nil, credential.Errorf(credential.MalformedValueError, "verify: _sd at %s holds a non-string", where(path))
		}
		i, err := p.digest(d, path)
		if err != nil {
			return nil, err
		}
		if i < 0 {
			continue // a decoy, or a claim not disclosed
		}
		disc := p.ds[i]
		if disc.IsArrayElement {
			return nil, credential.Errorf(credential.MalformedValueError, "verify: %w: disclosure %d is an array element but its digest is in the _sd of %s", ErrMalformedDisclosure, i+1, where(path))
		}
		if _, dup := out[disc.Name]; dup {
			return nil, credential.Errorf(credential.MalformedValueError, "verify: %w: disclosure %d names %q, which %s already has", ErrForbiddenName, i+1, disc.Name, where(path))
		}
		cp := child(path, disc.Name)
		p.used[i], p.ptr[i], p.parent[i] = true, cp, within
		v, err := p.value(disc.Value, cp, depth+1, i)
		if err != nil {
			return nil, err
		}
		out[disc.Name] = v
	}
	return out, nil
}

func (p *processor) array(a []any, path []string, depth, within int) ([]any, error) {
	if depth > p.maxDepth {
		return nil, p.tooDeep(path)
	}
	out := make([]any, 0, len(a))
	for _, e := range a {
		if m, ok := e.(map[string]any); ok {
			if raw, ok := m["..."]; ok {
				d, ok := raw.(string)
				if !ok || len(m) != 1 {
					return nil, credential.Errorf(credential.MalformedValueError, "verify: an array element digest in %s is not {\"...\": digest}", where(path))
				}
				i, err := p.digest(d, path)
				if err != nil {
					return nil, err
				}
				if i < 0 {
					continue // not disclosed: the element is left out
				}
				disc := p.ds[i]
				if !disc.IsArrayElement {
					return nil, credential.Errorf(credential.MalformedValueError, "verify: %w: disclosure %d names a claim but its digest is an element of %s", ErrMalformedDisclosure, i+1, where(path))
				}
				cp := child(path, strconv.Itoa(len(out)))
				p.used[i], p.ptr[i], p.parent[i] = true, cp, within
				v, err := p.value(disc.Value, cp, depth+1, i)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
				continue
			}
		}
		v, err := p.value(e, child(path, strconv.Itoa(len(out))), depth+1, within)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// where names a place in the claims for an error message.
func where(path []string) string {
	if len(path) == 0 {
		return "the top level"
	}
	return strconv.Quote(formatPointer(path))
}
