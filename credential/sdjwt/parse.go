package sdjwt

import (
	"strings"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/did/strictjson"
)

// SDJWT is a compact SD-JWT or SD-JWT+KB split by [Parse]. Nothing in it
// is verified.
type SDJWT struct {
	// JWT is the issuer-signed JWT, as received.
	JWT string
	// Disclosures are decoded, in the order received.
	Disclosures []Disclosure
	// KeyBinding is the key-binding JWT, or "" for an SD-JWT without one.
	KeyBinding string
	// SDHashInput is the presented SD-JWT up to and including the last
	// "~": the input of the KB-JWT's sd_hash (RFC 9901 section 4.3.1).
	SDHashInput string
}

// Parse splits the compact serialization <JWT>~<D1>~...~<Dn>~[<KB-JWT>]
// (RFC 9901 section 4) within lim and decodes each Disclosure with
// [DecodeDisclosure]. It refuses input without a "~", an empty
// Disclosure ("~~"), the same Disclosure twice, and more bytes or
// Disclosures than lim allows. The JWTs are only split off: their
// checks are [Verify]'s. Errors carry PARSING_ERROR,
// MALFORMED_VALUE_ERROR or LIMIT_EXCEEDED_ERROR.
func Parse(s string, lim Limits) (*SDJWT, error) {
	lim = lim.withDefaults()
	if len(s) > lim.MaxBytes {
		return nil, credential.Errorf(credential.LimitExceededError, "parse: %w: %d bytes, at most %d", ErrLimit, len(s), lim.MaxBytes)
	}
	n := strings.Count(s, "~")
	if n == 0 {
		return nil, credential.Errorf(credential.ParsingError, "parse: not an SD-JWT: no \"~\" after the issuer-signed JWT")
	}
	if n-1 > lim.MaxDisclosures {
		return nil, credential.Errorf(credential.LimitExceededError, "parse: %w: %d disclosures, at most %d", ErrLimit, n-1, lim.MaxDisclosures)
	}
	parts := strings.Split(s, "~")
	if parts[0] == "" {
		return nil, credential.Errorf(credential.ParsingError, "parse: not an SD-JWT: empty issuer-signed JWT")
	}
	if strings.Count(parts[0], ".") != 2 {
		return nil, credential.Errorf(credential.ParsingError, "parse: not an SD-JWT: the issuer-signed JWT is not a compact JWS")
	}
	last := strings.LastIndexByte(s, '~')
	out := &SDJWT{JWT: parts[0], KeyBinding: parts[len(parts)-1], SDHashInput: s[:last+1]}
	if kb := out.KeyBinding; kb != "" && strings.Count(kb, ".") != 2 {
		return nil, credential.Errorf(credential.ParsingError, "parse: the part after the last \"~\" is neither empty nor a compact JWT")
	}
	seen := make(map[string]bool, len(parts)-2)
	for i, p := range parts[1 : len(parts)-1] {
		if p == "" {
			return nil, credential.Errorf(credential.ParsingError, "parse: disclosure %d is empty (\"~~\")", i+1)
		}
		if seen[p] {
			return nil, credential.Errorf(credential.MalformedValueError, "parse: %w: disclosure %d", ErrDuplicateDisclosure, i+1)
		}
		seen[p] = true
		d, err := DecodeDisclosure(p)
		if err != nil {
			return nil, err
		}
		out.Disclosures = append(out.Disclosures, d)
	}
	return out, nil
}

// decodeObject parses one strict JSON object.
func decodeObject(b []byte) (map[string]any, error) {
	return strictjson.Object(b, 0)
}
