package jose

import (
	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/strictjson"
)

// This file exposes the package's compact JWS handling to formats built
// on JWS that are not VC-JOSE-COSE tokens, such as the issuer-signed JWT
// and the key-binding JWT of SD-JWT (credential/sdjwt): the same strict
// split, algorithm profile, signature check and signing, with the typ
// and the claims left to the caller.

// Compact is a compact JWS that [ParseCompact] has split and whose
// protected header passed the algorithm profile. Its signature is not
// yet checked: call [Compact.Verify].
type Compact struct {
	token   string
	payload string // base64url, checked, not yet decoded
	// Header is the decoded protected header.
	Header map[string]any
	// Alg is the header's alg: EdDSA, Ed25519 or ES256.
	Alg string
	// KeyType is the key type Alg needs.
	KeyType keys.Type
}

// ParseCompact splits token, a compact JWS of at most maxBytes (0 means
// DefaultMaxBytes), with the strictness of [Verify]: exactly three
// base64url parts, an attached payload, a strict JSON header. It
// refuses "alg":"none" and algorithms other than EdDSA, Ed25519 and
// ES256, any "crit" header and "b64" other than true. When typ is not
// empty the header's typ must be that media type (with or without
// "application/"). The kid is the caller's business. Errors wrap a
// [credential.Error].
func ParseCompact(token, typ string, maxBytes int) (*Compact, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if len(token) > maxBytes {
		return nil, credential.Errorf(credential.ParsingError, "verify: token of %d bytes exceeds %d", len(token), maxBytes)
	}
	p, err := split(token)
	if err != nil {
		return nil, err
	}
	h := p.header
	alg, kt, err := checkAlg(h)
	if err != nil {
		return nil, err
	}
	if typ != "" {
		got, ok := h["typ"].(string)
		if !ok {
			return nil, credential.Errorf(credential.MalformedValueError, "verify: typ is missing or not a string, want %q", typ)
		}
		if normalizeType(got) != normalizeType(typ) {
			return nil, credential.Errorf(credential.MalformedValueError, "verify: typ %q, want %q", got, typ)
		}
	}
	return &Compact{token: token, payload: p.payload, Header: h, Alg: alg, KeyType: kt}, nil
}

// Payload decodes the payload, before or without a signature check, as
// one strict JSON object (duplicate members, deep nesting and trailing
// data refused; numbers as json.Number).
func (c *Compact) Payload() (map[string]any, error) {
	m, _, err := decodePayloadB64(c.payload, false)
	return m, err
}

// Verify checks the signature with pub, which must be of c.KeyType, and
// returns the payload decoded as by [Compact.Payload]. Errors carry
// CRYPTOGRAPHIC_SECURITY_ERROR (a key that does not fit the alg, a bad
// signature) or PARSING_ERROR (a payload that is not a JSON object).
func (c *Compact) Verify(pub keys.PublicKey) (map[string]any, error) {
	if pub.Type() != c.KeyType {
		return nil, credential.Errorf(credential.CryptographicSecurityError, "verify: %w: alg %s does not fit the %q key", ErrUnsupportedAlgorithm, c.Alg, pub.Type())
	}
	raw, err := verifyJWX(c.token, c.Alg, pub)
	if err != nil {
		return nil, err
	}
	m, _, err := decodePayload(raw, false)
	return m, err
}

// SignCompact returns the compact JWS of payload, which must be one
// JSON object without repeated member names, signed by signer, with the
// protected header {"alg","kid","typ"} in that order; an empty kid is
// left out. alg "" picks the key's default (EdDSA or ES256). Errors
// carry PROOF_GENERATION_ERROR or MALFORMED_VALUE_ERROR.
func SignCompact(payload []byte, typ, kid string, signer credential.Signer, alg string) (string, error) {
	if signer == nil {
		return "", credential.Errorf(credential.ProofGenerationError, "sign: no signer")
	}
	alg, err := signingAlgorithm(signer.Public(), alg)
	if err != nil {
		return "", err
	}
	if _, err := strictjson.Object(payload, DefaultMaxBytes); err != nil {
		return "", credential.Errorf(credential.MalformedValueError, "encode payload: %w", err)
	}
	header := `{"alg":` + quote(alg)
	if kid != "" {
		header += `,"kid":` + quote(kid)
	}
	header += `,"typ":` + quote(typ) + `}`
	return signCompact([]byte(header), payload, signer)
}
