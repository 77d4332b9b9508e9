package jose

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/strictjson"
)

// Media types of secured credentials and presentations (VC-JOSE-COSE 6.1).
const (
	MediaTypeVC = "application/vc+jwt"
	MediaTypeVP = "application/vp+jwt"
)

// JOSE algorithm names this package signs and verifies.
const (
	AlgEdDSA   = "EdDSA"   // Ed25519 under its RFC 8037 name
	AlgEd25519 = "Ed25519" // Ed25519 under its RFC 9864 name
	AlgES256   = "ES256"   // ECDSA P-256 SHA-256, 64-byte r||s
)

// DefaultMaxBytes bounds the length of a token that [Verify] reads when
// [VerifyOptions.MaxBytes] is zero, and of the tokens the Sign functions
// produce.
const DefaultMaxBytes = 1 << 20

// Errors wrapped (inside a [credential.Error]) by this package.
var (
	// ErrUnsupportedAlgorithm reports a JOSE alg other than EdDSA, Ed25519
	// and ES256, including "none".
	ErrUnsupportedAlgorithm = errors.New("unsupported algorithm")
	// ErrUnsupportedMediaType reports a media type other than
	// application/vc+jwt and application/vp+jwt, such as SD-JWT or COSE.
	ErrUnsupportedMediaType = errors.New("unsupported media type")
	// ErrInvalidDataURL reports a malformed data: URL.
	ErrInvalidDataURL = errors.New("invalid data URL")
)

// SignOptions tune [SignCredential] and [SignPresentation]. The zero value
// signs with the key's default algorithm and binds nothing.
type SignOptions struct {
	// Algorithm is the JOSE alg: for Ed25519 keys "EdDSA" (the default) or
	// "Ed25519" (RFC 9864); for P-256 keys only "ES256" (the default).
	Algorithm string
	// Nonce is the verifier's challenge. SignPresentation puts it in the
	// "nonce" claim; credentials take none.
	Nonce string
	// Audience is the verifier's domain. SignPresentation puts it in the
	// "aud" claim; credentials take none.
	Audience string
	// IssuedAt, when set, is put in the "iat" claim (whole seconds): the
	// time verifiers compare with the retirement of the signing key.
	IssuedAt time.Time
}

var b64 = base64.RawURLEncoding.Strict()

// SignCredential secures cred as an application/vc+jwt compact JWS. The
// protected header is {"alg", "kid": signer.MethodID(), "typ":"vc+jwt"}
// and the payload is cred as JSON. cred must name an issuer and must not
// hold the "vc" or "vp" claims; it is not modified. Errors carry
// PROOF_GENERATION_ERROR or MALFORMED_VALUE_ERROR.
func SignCredential(cred map[string]any, signer credential.Signer, opts SignOptions) (string, error) {
	if opts.Nonce != "" || opts.Audience != "" {
		return "", credential.Errorf(credential.ProofGenerationError, "sign credential: nonce and audience bind presentations only")
	}
	if cred == nil {
		return "", credential.Errorf(credential.MalformedValueError, "sign credential: no credential")
	}
	if id, ok := entityID(cred["issuer"]); !ok || id == "" {
		return "", credential.Errorf(credential.MalformedValueError, "sign credential: issuer is missing or not a string or an object with an id")
	}
	if !opts.IssuedAt.IsZero() {
		cred = withIssuedAt(cred, opts.IssuedAt)
	}
	return sign(cred, signer, opts.Algorithm, "vc+jwt")
}

// withIssuedAt returns a copy of doc with the "iat" claim set to t.
func withIssuedAt(doc map[string]any, t time.Time) map[string]any {
	cp := make(map[string]any, len(doc)+1)
	for k, v := range doc {
		cp[k] = v
	}
	cp["iat"] = t.Unix()
	return cp
}

// SignPresentation secures pres as an application/vp+jwt compact JWS,
// like [SignCredential] with typ "vp+jwt". A non-empty opts.Nonce becomes
// the "nonce" claim and opts.Audience the "aud" claim (the registered JWT
// claims VC-JOSE-COSE 3.1.3 defers to); pres itself is not modified, and a
// conflicting claim already in pres is an error.
func SignPresentation(pres map[string]any, signer credential.Signer, opts SignOptions) (string, error) {
	if pres == nil {
		return "", credential.Errorf(credential.MalformedValueError, "sign presentation: no presentation")
	}
	if opts.Nonce != "" || opts.Audience != "" {
		cp := make(map[string]any, len(pres)+2)
		for k, v := range pres {
			cp[k] = v
		}
		for claim, v := range map[string]string{"nonce": opts.Nonce, "aud": opts.Audience} {
			if v == "" {
				continue
			}
			if old, ok := cp[claim]; ok && old != v {
				return "", credential.Errorf(credential.MalformedValueError, "sign presentation: %q claim %v conflicts with %q", claim, old, v)
			}
			cp[claim] = v
		}
		pres = cp
	}
	return sign(pres, signer, opts.Algorithm, "vp+jwt")
}

// sign checks the document, encodes it and signs it.
func sign(doc map[string]any, signer credential.Signer, alg, typ string) (string, error) {
	for _, claim := range []string{"vc", "vp"} {
		if _, ok := doc[claim]; ok {
			return "", credential.Errorf(credential.MalformedValueError, "sign: the %q claim must not be present (VC-JOSE-COSE 3.1.3)", claim)
		}
	}
	return signClaims(doc, signer, alg, typ)
}

// signClaims encodes the claims set and signs it under typ.
func signClaims(doc map[string]any, signer credential.Signer, alg, typ string) (string, error) {
	if signer == nil {
		return "", credential.Errorf(credential.ProofGenerationError, "sign: no signer")
	}
	alg, err := signingAlgorithm(signer.Public(), alg)
	if err != nil {
		return "", err
	}
	kid := signer.MethodID()
	if kid == "" {
		return "", credential.Errorf(credential.ProofGenerationError, "sign: signer has no verification method ID")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return "", credential.Errorf(credential.MalformedValueError, "encode payload: %w", err)
	}
	payload := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	// Refuse to produce what Verify would refuse to read.
	if err := strictjson.CheckDuplicates(payload); err != nil {
		return "", credential.Errorf(credential.MalformedValueError, "encode payload: %w", err)
	}
	var tok string
	if ks, ok := keySignerOf(signer); ok {
		tok, err = signJWX(payload, alg, kid, typ, ks)
	} else {
		header := `{"alg":` + quote(alg) + `,"kid":` + quote(kid) + `,"typ":` + quote(typ) + `}`
		tok, err = signCompact([]byte(header), payload, signer)
	}
	if err != nil {
		return "", err
	}
	if len(tok) > DefaultMaxBytes {
		return "", credential.Errorf(credential.ProofGenerationError, "sign: token of %d bytes exceeds %d", len(tok), DefaultMaxBytes)
	}
	return tok, nil
}

// keySignerOf returns the in-memory key of signer, if it has one.
func keySignerOf(signer credential.Signer) (credential.KeySigner, bool) {
	switch s := signer.(type) {
	case credential.KeySigner:
		return s, true
	case *credential.KeySigner:
		if s != nil {
			return *s, true
		}
	}
	return credential.KeySigner{}, false
}

// signCompact returns the compact JWS of header and payload, both as
// given, signed by signer. It serves signers whose private key jwx cannot
// hold (Signer implementations other than [credential.KeySigner], such as
// a key in a hardware module): they sign the JWS signing input themselves.
func signCompact(header, payload []byte, signer credential.Signer) (string, error) {
	var sb strings.Builder
	sb.Grow(b64.EncodedLen(len(header)) + b64.EncodedLen(len(payload)) + 2 + b64.EncodedLen(keys.SignatureSize))
	sb.WriteString(b64.EncodeToString(header))
	sb.WriteByte('.')
	sb.WriteString(b64.EncodeToString(payload))
	sig, err := signer.Sign([]byte(sb.String()))
	if err != nil {
		return "", credential.Errorf(credential.ProofGenerationError, "sign: %w", err)
	}
	if len(sig) != keys.SignatureSize {
		return "", credential.Errorf(credential.ProofGenerationError, "sign: signature is %d bytes, want %d", len(sig), keys.SignatureSize)
	}
	sb.WriteByte('.')
	sb.WriteString(b64.EncodeToString(sig))
	return sb.String(), nil
}

// signingAlgorithm picks the alg for pub, honouring a requested one.
func signingAlgorithm(pub keys.PublicKey, want string) (string, error) {
	switch pub.Type() {
	case keys.Ed25519:
		switch want {
		case "", AlgEdDSA:
			return AlgEdDSA, nil
		case AlgEd25519:
			return AlgEd25519, nil
		}
	case keys.P256:
		if want == "" || want == AlgES256 {
			return AlgES256, nil
		}
	default:
		return "", credential.Errorf(credential.ProofGenerationError, "sign: %w: %q keys cannot sign", ErrUnsupportedAlgorithm, pub.Type())
	}
	return "", credential.Errorf(credential.ProofGenerationError, "sign: %w: %q with a %s key", ErrUnsupportedAlgorithm, want, pub.Type())
}

// quote returns s as a JSON string.
func quote(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(buf.String(), "\n")
}

// entityID returns the id of an issuer or holder value: the string
// itself, or the "id" member of an object.
func entityID(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case map[string]any:
		id, ok := v["id"].(string)
		return id, ok
	}
	return "", false
}
