package credential

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/base64"
	"hash"
	"strings"

	"github.com/mr-tron/base58"
)

// relatedResources reads relatedResource: objects each with an id URL and
// at least one digest; ids are unique (VC DM 2.0 §5.3).
func relatedResources(m map[string]any) ([]RelatedResource, error) {
	objs, err := objects(m["relatedResource"], "relatedResource")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	out := make([]RelatedResource, 0, len(objs))
	for _, o := range objs {
		id, err := OptionalURL(o, "id")
		if err != nil || id == "" {
			return nil, malformed("relatedResource: id must be a URL")
		}
		if seen[id] {
			return nil, malformed("relatedResource: %s appears twice", id)
		}
		seen[id] = true
		r := RelatedResource{ID: id}
		r.DigestSRI, _ = o["digestSRI"].(string)
		r.DigestMultibase, _ = o["digestMultibase"].(string)
		r.MediaType, _ = o["mediaType"].(string)
		if r.DigestSRI == "" && r.DigestMultibase == "" {
			return nil, malformed("relatedResource %s: digestSRI or digestMultibase is required", id)
		}
		if r.DigestSRI != "" {
			if _, err := parseSRI(r.DigestSRI); err != nil {
				return nil, malformed("relatedResource %s: %v", id, err)
			}
		}
		if r.DigestMultibase != "" {
			if _, _, err := parseMultihash(r.DigestMultibase); err != nil {
				return nil, malformed("relatedResource %s: %v", id, err)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// Check reports whether content has the resource's digests (every digest
// given must match). Errors carry ResourceIntegrityError.
func (r RelatedResource) Check(content []byte) error {
	if r.DigestSRI != "" {
		sums, err := parseSRI(r.DigestSRI)
		if err != nil {
			return Errorf(ResourceIntegrityError, "%s: %v", r.ID, err)
		}
		ok := false // SRI: any one of the listed digests matching suffices
		for _, s := range sums {
			h := s.alg()
			h.Write(content)
			ok = ok || bytes.Equal(h.Sum(nil), s.sum)
		}
		if !ok {
			return Errorf(ResourceIntegrityError, "%s: content does not match digestSRI", r.ID)
		}
	}
	if r.DigestMultibase != "" {
		newHash, sum, err := parseMultihash(r.DigestMultibase)
		if err != nil {
			return Errorf(ResourceIntegrityError, "%s: %v", r.ID, err)
		}
		h := newHash()
		h.Write(content)
		if !bytes.Equal(h.Sum(nil), sum) {
			return Errorf(ResourceIntegrityError, "%s: content does not match digestMultibase", r.ID)
		}
	}
	return nil
}

// CheckRelatedResources checks the digests of every related resource
// whose content held returns (held reports false for a resource the caller
// does not have: nothing is fetched). It returns the ids of the resources
// it could not check, in order, and the first mismatch, an error with
// ResourceIntegrityError. Issuers and verifiers call it with the same
// held (the bundled contexts), so that issuing is never looser than
// verifying.
func CheckRelatedResources(rs []RelatedResource, held func(id string) ([]byte, bool)) (unchecked []string, err error) {
	for _, r := range rs {
		content, ok := held(r.ID)
		if !ok {
			unchecked = append(unchecked, r.ID)
			continue
		}
		if err := r.Check(content); err != nil {
			return unchecked, err
		}
	}
	return unchecked, nil
}

type sriDigest struct {
	alg func() hash.Hash
	sum []byte
}

var sriAlgs = map[string]struct {
	new  func() hash.Hash
	size int
}{
	"sha256": {sha256.New, 32},
	"sha384": {sha512.New384, 48},
	"sha512": {sha512.New, 64},
}

// parseSRI parses Subresource Integrity metadata: space-separated
// "alg-base64" tokens (options after '?' ignored).
func parseSRI(s string) ([]sriDigest, error) {
	var out []sriDigest
	for _, tok := range strings.Fields(s) {
		tok, _, _ = strings.Cut(tok, "?")
		alg, b64, ok := strings.Cut(tok, "-")
		a, known := sriAlgs[alg]
		if !ok || !known {
			return nil, Errorf(MalformedValueError, "digestSRI %q: unsupported algorithm", tok)
		}
		sum, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(sum) != a.size {
			return nil, Errorf(MalformedValueError, "digestSRI %q: bad digest", tok)
		}
		out = append(out, sriDigest{alg: a.new, sum: sum})
	}
	if len(out) == 0 {
		return nil, Errorf(MalformedValueError, "digestSRI is empty")
	}
	return out, nil
}

// Multihash codes of the digests accepted in digestMultibase.
var multihashes = map[byte]struct {
	new  func() hash.Hash
	size int
}{
	0x12: {sha256.New, 32},
	0x20: {sha512.New384, 48},
	0x13: {sha512.New, 64},
	0x16: {func() hash.Hash { return sha3.New256() }, 32},
	0x15: {func() hash.Hash { return sha3.New384() }, 48},
	0x14: {func() hash.Hash { return sha3.New512() }, 64},
}

// parseMultihash decodes a multibase (base58btc 'z' or base64url 'u')
// multihash with a one-byte code and length.
func parseMultihash(s string) (func() hash.Hash, []byte, error) {
	if len(s) < 2 {
		return nil, nil, Errorf(MalformedValueError, "digestMultibase is empty")
	}
	var b []byte
	var err error
	switch s[0] {
	case 'z':
		b, err = base58.Decode(s[1:])
	case 'u':
		b, err = base64.RawURLEncoding.DecodeString(s[1:])
	default:
		return nil, nil, Errorf(MalformedValueError, "digestMultibase: unsupported multibase %q", s[:1])
	}
	if err != nil || len(b) < 2 {
		return nil, nil, Errorf(MalformedValueError, "digestMultibase: bad encoding")
	}
	mh, ok := multihashes[b[0]]
	if !ok || int(b[1]) != mh.size || len(b) != 2+mh.size {
		return nil, nil, Errorf(MalformedValueError, "digestMultibase: unsupported or malformed multihash")
	}
	return mh.new, b[2:], nil
}
