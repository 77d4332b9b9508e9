package keys

import (
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

var b64 = base64.RawURLEncoding.Strict()

// privateMembers are JWK members that carry secret key material (RFC 7518
// sections 6.2.2, 6.3.2 and 6.4; RFC 8037 section 2).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// JWK returns p as a public JSON Web Key: {"kty":"OKP","crv":"Ed25519"|
// "X25519","x":...} or {"kty":"EC","crv":"P-256","x":...,"y":...}, with
// base64url coordinates. It returns nil for the zero key. The map is fresh;
// callers may modify it.
func (p PublicKey) JWK() map[string]any {
	switch p.t {
	case Ed25519, X25519:
		return map[string]any{"kty": "OKP", "crv": string(p.t), "x": b64.EncodeToString([]byte(p.b))}
	case P256:
		x, y := elliptic.UnmarshalCompressed(elliptic.P256(), []byte(p.b))
		if x == nil {
			return nil // unreachable: P-256 keys are validated when built
		}
		return map[string]any{
			"kty": "EC",
			"crv": "P-256",
			"x":   b64.EncodeToString(x.FillBytes(make([]byte, 32))),
			"y":   b64.EncodeToString(y.FillBytes(make([]byte, 32))),
		}
	}
	return nil
}

// Thumbprint returns the RFC 7638 JWK thumbprint of p: base64url (no
// padding) of SHA-256 over the required members in lexicographic order.
// It returns "" for the zero key.
func (p PublicKey) Thumbprint() string {
	j := p.JWK()
	if j == nil {
		return ""
	}
	var in []byte
	// Member values are base64url strings and fixed names, so encoding/json
	// produces exactly the RFC 7638 form; building the object by hand keeps
	// the member order explicit.
	q := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	switch j["kty"] {
	case "OKP":
		in = []byte(`{"crv":` + q(j["crv"]) + `,"kty":"OKP","x":` + q(j["x"]) + `}`)
	case "EC":
		in = []byte(`{"crv":` + q(j["crv"]) + `,"kty":"EC","x":` + q(j["x"]) + `,"y":` + q(j["y"]) + `}`)
	}
	sum := sha256.Sum256(in)
	return b64.EncodeToString(sum[:])
}

// ParseJWK parses a public JSON Web Key, as decoded by encoding/json. It
// accepts OKP Ed25519 and X25519 keys and EC P-256 keys; other members
// (kid, use, alg, key_ops, ...) are ignored. It rejects private members
// ("d" and the other RSA/oct secrets) with [ErrInvalidKey], unknown kty or
// crv with [ErrUnsupportedKey], and bad encodings, lengths and off-curve
// points with [ErrInvalidKey].
func ParseJWK(jwk map[string]any) (PublicKey, error) {
	for _, m := range privateMembers {
		if _, ok := jwk[m]; ok {
			return PublicKey{}, fmt.Errorf("parse jwk: %w: private member %q", ErrInvalidKey, m)
		}
	}
	kty, err := member(jwk, "kty")
	if err != nil {
		return PublicKey{}, err
	}
	crv, err := member(jwk, "crv")
	if err != nil {
		return PublicKey{}, err
	}
	switch {
	case kty == "OKP" && (crv == "Ed25519" || crv == "X25519"):
		x, err := coordinate(jwk, "x", 32)
		if err != nil {
			return PublicKey{}, err
		}
		k, err := FromRaw(Type(crv), x)
		if err != nil {
			return PublicKey{}, fmt.Errorf("parse jwk: %w", err)
		}
		return k, nil
	case kty == "EC" && crv == "P-256":
		x, err := coordinate(jwk, "x", 32)
		if err != nil {
			return PublicKey{}, err
		}
		y, err := coordinate(jwk, "y", 32)
		if err != nil {
			return PublicKey{}, err
		}
		pt := make([]byte, 0, P256UncompressedSize)
		pt = append(append(append(pt, 4), x...), y...)
		k, err := FromRaw(P256, pt)
		if err != nil {
			return PublicKey{}, fmt.Errorf("parse jwk: %w", err)
		}
		return k, nil
	}
	return PublicKey{}, fmt.Errorf("parse jwk: %w: kty %q crv %q", ErrUnsupportedKey, kty, crv)
}

// member returns a required string member.
func member(jwk map[string]any, name string) (string, error) {
	v, ok := jwk[name]
	if !ok {
		return "", fmt.Errorf("parse jwk: %w: missing %q", ErrInvalidKey, name)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("parse jwk: %w: %q is not a string", ErrInvalidKey, name)
	}
	return s, nil
}

// coordinate decodes a base64url member of exactly size bytes.
func coordinate(jwk map[string]any, name string, size int) ([]byte, error) {
	s, err := member(jwk, name)
	if err != nil {
		return nil, err
	}
	if len(s) != b64.EncodedLen(size) {
		return nil, fmt.Errorf("parse jwk: %w: %q has %d characters, want %d", ErrInvalidKey, name, len(s), b64.EncodedLen(size))
	}
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("parse jwk: %w: %q: %w", ErrInvalidKey, name, err)
	}
	return b, nil
}
