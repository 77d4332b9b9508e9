package jose

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/strictjson"
)

// VerifyOptions tune [Verify]. The zero value applies the defaults and
// checks neither time nor presentation binding.
type VerifyOptions struct {
	// MaxBytes bounds the token length; 0 means DefaultMaxBytes.
	MaxBytes int
	// Nonce, when set, must equal the "nonce" claim (the verifier's
	// challenge); else INVALID_CHALLENGE_ERROR.
	Nonce string
	// Audience, when set, must be the "aud" claim or one of its values
	// (the verifier's domain); else INVALID_DOMAIN_ERROR.
	Audience string
	// Now, when set, is checked against the "exp" and "nbf" claims, which
	// bound the validity of the signature (VC-JOSE-COSE 3.1.3). Data model
	// validity (validFrom, validUntil) is the caller's business.
	Now time.Time
}

// kind is what a media type secures.
type kind struct {
	typ     string // "vc+jwt" or "vp+jwt"
	cty     string // "application/vc" or "application/vp"
	subject string // "issuer" or "holder"
	purpose string // verification relationship of the signing key
	// typOptional accepts a header without typ (the 1.1 JWT's is
	// "if present").
	typOptional bool
}

var (
	kindVC = &kind{typ: "application/vc+jwt", cty: "application/vc", subject: "issuer", purpose: credential.PurposeAssertion}
	kindVP = &kind{typ: "application/vp+jwt", cty: "application/vp", subject: "holder", purpose: credential.PurposeAuthentication}
)

// kindOf maps a media type, with or without "application/", to its kind.
func kindOf(mediaType string) (*kind, error) {
	switch normalizeType(mediaType) {
	case kindVC.typ:
		return kindVC, nil
	case kindVP.typ:
		return kindVP, nil
	}
	return nil, credential.Errorf(credential.ParsingError, "verify: %w: %q", ErrUnsupportedMediaType, mediaType)
}

// isType reports whether normalizeType(t) == want, for a want that
// normalizeType returns (lowercase, with a "/"), without building the
// normalized string when t is ASCII (a header's typ and cty, on every
// verification).
func isType(t, want string) bool {
	for i := 0; i < len(t); i++ {
		if t[i] >= utf8.RuneSelf {
			return normalizeType(t) == want
		}
	}
	if strings.IndexByte(t, '/') < 0 {
		const app = "application/"
		if len(want) < len(app) || want[:len(app)] != app {
			return false
		}
		want = want[len(app):]
	}
	if len(t) != len(want) {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != want[i] {
			return false
		}
	}
	return true
}

// normalizeType lowercases a media type and adds the "application/" that
// JOSE typ and cty values may omit (RFC 7515 sections 4.1.9 and 4.1.10).
func normalizeType(t string) string {
	t = strings.ToLower(t)
	if !strings.Contains(t, "/") {
		t = "application/" + t
	}
	return t
}

// Verify checks token, a compact JWS of mediaType (MediaTypeVC or
// MediaTypeVP), and returns its payload and the key that verified it.
//
// It resolves the "kid" header with resolver for assertionMethod (credentials)
// or authentication (presentations); a kid without a scheme ("#key-1" or
// "key-1") is a fragment of the issuer's (holder's) identifier. The key's
// controller must be the issuer, or the holder when the presentation names
// one, and so must the "iss" claim when present. Numbers in the payload are
// json.Number. See the package documentation for what it rejects; every
// error wraps a [credential.Error].
func Verify(ctx context.Context, token string, mediaType string, resolver credential.KeyResolver, opts VerifyOptions) (map[string]any, credential.VerificationKey, error) {
	payload, _, key, err := verify(ctx, token, mediaType, resolver, opts, false)
	return payload, key, err
}

// VerifyJSON is [Verify] that also returns the payload's JSON text when it
// is byte for byte what encoding/json's Marshal writes for the payload it
// returns (as idmesh's issuer signs it), else "": a caller that encodes
// the payload again can use the text instead, as long as it has not
// changed the payload. The payload's strings share one copy of the
// token's payload: a caller keeps the result for one request, or copies
// what it keeps ([Verify] returns strings of their own).
func VerifyJSON(ctx context.Context, token string, mediaType string, resolver credential.KeyResolver, opts VerifyOptions) (payload map[string]any, text string, key credential.VerificationKey, err error) {
	return verify(ctx, token, mediaType, resolver, opts, true)
}

// verify is [Verify] and [VerifyJSON]; shared says how the payload is
// decoded (see decodePayload).
func verify(ctx context.Context, token string, mediaType string, resolver credential.KeyResolver, opts VerifyOptions, shared bool) (payload map[string]any, text string, key credential.VerificationKey, err error) {
	var none credential.VerificationKey
	k, err := kindOf(mediaType)
	if err != nil {
		return nil, "", none, err
	}
	payload, text, subject, key, err := verifySigned(ctx, token, k, resolver, opts.MaxBytes, shared, func(payload map[string]any) (string, error) { return subjectOf(payload, k) })
	if err != nil {
		return nil, "", none, err
	}
	if subject != "" && key.Controller != subject {
		return nil, "", none, credential.Errorf(credential.IssuerMismatchError, "verify: key %s is controlled by %q, not the %s %q", key.ID, key.Controller, k.subject, subject)
	}
	if err := checkClaims(payload, subject, k, opts); err != nil {
		return nil, "", none, err
	}
	if !key.RetiredAt.IsZero() {
		claimed, err := claimedTime(payload)
		if err != nil {
			return nil, "", none, err
		}
		if err := key.CheckClaimedTime(claimed); err != nil {
			return nil, "", none, err
		}
	}
	return payload, text, key, nil
}

// verifySigned checks token's size, form and header for kind k, resolves
// its kid for k.purpose (a relative kid against the subject that
// subjectOf reads from the payload: the issuer or holder), refuses a
// compromised key or one the alg does not fit, and verifies the
// signature. It returns the payload, its JSON text when it is Marshal's
// (see [VerifyJSON]), its subject and the key. An absolute
// kid names the key on its own: the signature is checked before the
// payload is read.
func verifySigned(ctx context.Context, token string, k *kind, resolver credential.KeyResolver, maxBytes int, shared bool, subjectOf func(map[string]any) (string, error)) (map[string]any, string, string, credential.VerificationKey, error) {
	var none credential.VerificationKey
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if len(token) > maxBytes {
		return nil, "", "", none, credential.Errorf(credential.ParsingError, "verify: token of %d bytes exceeds %d", len(token), maxBytes)
	}
	p, err := split(token)
	if err != nil {
		return nil, "", "", none, err
	}
	alg, keyType, kid, err := checkHeader(p.header, k)
	if err != nil {
		return nil, "", "", none, err
	}
	var payload map[string]any
	var text, subject string
	methodID := kid
	if !isAbsolute(kid) {
		if payload, text, err = decodePayloadB64(p.payload, shared); err != nil {
			return nil, "", "", none, err
		}
		if subject, err = subjectOf(payload); err != nil {
			return nil, "", "", none, err
		}
		if methodID, err = resolveRelative(kid, subject); err != nil {
			return nil, "", "", none, err
		}
	}
	if resolver == nil {
		return nil, "", "", none, credential.Errorf(credential.CryptographicSecurityError, "verify: no key resolver")
	}
	key, err := resolver.ResolveKey(ctx, methodID, k.purpose)
	if err != nil {
		return nil, "", "", none, credential.Errorf(credential.CryptographicSecurityError, "resolve %s: %w", methodID, err)
	}
	if key.Compromised {
		return nil, "", "", none, credential.Errorf(credential.KeyCompromisedError, "verify: key %s is compromised", key.ID)
	}
	if key.Public.Type() != keyType {
		return nil, "", "", none, credential.Errorf(credential.CryptographicSecurityError, "verify: %w: alg does not fit the %q key %s", ErrUnsupportedAlgorithm, key.Public.Type(), methodID)
	}
	raw, err := verifyParts(token, p, alg, key.Public)
	if err != nil {
		return nil, "", "", none, err
	}
	if payload == nil {
		// The payload that verified, base64-decoded: parse that.
		if payload, text, err = decodePayload(raw, shared); err != nil {
			return nil, "", "", none, err
		}
		if subject, err = subjectOf(payload); err != nil {
			return nil, "", "", none, err
		}
	}
	return payload, text, subject, key, nil
}

// claimedTime is when the token says it was signed: the "iat" claim,
// else the credential's validFrom or issuanceDate; zero when it says
// nothing. It is checked against the retirement of the signing key.
func claimedTime(payload map[string]any) (time.Time, error) {
	if iat, ok, err := numericDate(payload, "iat"); err != nil {
		return time.Time{}, err
	} else if ok {
		return time.Unix(iat, 0).UTC(), nil
	}
	for _, member := range []string{"validFrom", "issuanceDate"} {
		v, ok := payload[member]
		if !ok {
			continue
		}
		s, _ := v.(string)
		t, err := credential.ParseDateTime(s)
		if err != nil {
			return time.Time{}, credential.Errorf(credential.MalformedValueError, "verify: %s: %w", member, err)
		}
		return t, nil
	}
	return time.Time{}, nil
}

// parts is a compact JWS split at its dots, with its header decoded.
type parts struct {
	signingInput string // header "." payload, as received
	header       map[string]any
	payload      string // base64url, checked, not yet decoded
	signature    string // base64url, checked, not yet decoded
}

// verifyParts checks the signature of token, split into p by [split]
// and its header checked by [checkHeader] (alg one of the allowed, never
// "none", no crit, b64 absent or true) with alg, against pub, whose type
// the caller has matched to alg. It returns the decoded payload.
//
// An Ed25519 signature is checked here, on the parts already split and
// checked, without a second parse of the token: the signature decoded
// (64 bytes) and [keys.PublicKey.Verify] (crypto/ed25519, RFC 8032, what
// jwx calls) over the signing input as received. ES256 goes to jwx.
func verifyParts(token string, p parts, alg string, pub keys.PublicKey) ([]byte, error) {
	if (alg != AlgEdDSA && alg != AlgEd25519) || pub.Type() != keys.Ed25519 || hasKeyParams(p.header) {
		return verifyJWX(token, alg, pub)
	}
	sig, err := b64.DecodeString(p.signature)
	if err != nil {
		return nil, credential.Errorf(credential.ParsingError, "verify: signature: %w", err)
	}
	if err := pub.VerifyError(readOnlyBytes(p.signingInput), sig); err != nil {
		return nil, credential.Errorf(credential.CryptographicSecurityError, "verify: %w", err)
	}
	payload, err := b64.DecodeString(p.payload)
	if err != nil {
		return nil, credential.Errorf(credential.ParsingError, "verify: payload: %w", err)
	}
	return payload, nil
}

// readOnlyBytes returns s's bytes without copying them (the signing
// input is a kilobyte or more of every token), for a callee that only
// reads them: signature verification.
func readOnlyBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// hasKeyParams reports whether h has a registered header parameter that
// names or carries a key or certificate (RFC 7515 4.1.2–4.1.8). idmesh
// reads none of them (keys come from the issuer's DID), but jwx parses
// and refuses malformed ones, so such a token takes jwx's path and gets
// the verdict it always had (security review R1).
func hasKeyParams(h map[string]any) bool {
	for _, name := range [...]string{"jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256"} {
		if _, ok := h[name]; ok {
			return true
		}
	}
	return false
}

// split checks the compact serialization: exactly three parts of
// base64url characters (no padding, no whitespace: the decoder would
// skip CR and LF), an attached payload. It decodes and parses the header
// and checks that the payload and the signature are strict base64url,
// leaving their decoding to whoever needs the bytes (the signature check
// decodes both).
// base64URLChars are the bytes of unpadded base64url.
var base64URLChars = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		t[c] = 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '-' || b == '_'
	}
	return t
}()

func split(token string) (parts, error) {
	if strings.HasPrefix(strings.TrimLeft(token, " \t\r\n"), "{") {
		return parts{}, credential.Errorf(credential.ParsingError, "verify: the JWS JSON serialization is not supported")
	}
	dots := [2]int{}
	n := 0
	for i := 0; i < len(token); i++ {
		c := token[i]
		switch {
		case base64URLChars[c]:
		case c == '.':
			if n == 2 {
				return parts{}, credential.Errorf(credential.ParsingError, "verify: not a compact JWS: more than 3 parts")
			}
			dots[n] = i
			n++
		default:
			return parts{}, credential.Errorf(credential.ParsingError, "verify: not a compact JWS: character %q at %d is not base64url", c, i)
		}
	}
	if n != 2 {
		return parts{}, credential.Errorf(credential.ParsingError, "verify: not a compact JWS: %d parts, want 3", n+1)
	}
	i, j := dots[0], dots[1]
	if i+1 == j {
		return parts{}, credential.Errorf(credential.ParsingError, "verify: detached payloads are not supported")
	}
	p := parts{signingInput: token[:j]}
	hb, err := b64.DecodeString(token[:i])
	if err != nil {
		return parts{}, credential.Errorf(credential.ParsingError, "verify: protected header: %w", err)
	}
	p.payload, p.signature = token[i+1:j], token[j+1:]
	if err := checkBase64(p.payload); err != nil {
		return parts{}, credential.Errorf(credential.ParsingError, "verify: payload: %w", err)
	}
	if err := checkBase64(token[j+1:]); err != nil {
		return parts{}, credential.Errorf(credential.ParsingError, "verify: signature: %w", err)
	}
	if p.header, err = strictjson.ObjectString(string(hb), 0); err != nil {
		return parts{}, credential.Errorf(credential.ParsingError, "verify: protected header: %w", err)
	}
	return p, nil
}

// checkAlg checks the header parameters every token of this package is
// held to: an alg of EdDSA, Ed25519 or ES256 (never "none"), no crit, and
// b64 absent or true. It returns the alg and the key type it needs.
func checkAlg(h map[string]any) (alg string, kt keys.Type, err error) {
	alg, ok := h["alg"].(string)
	if !ok {
		return "", "", credential.Errorf(credential.MalformedValueError, "verify: alg is missing or not a string")
	}
	switch alg {
	case AlgEdDSA, AlgEd25519:
		kt = keys.Ed25519
	case AlgES256:
		kt = keys.P256
	case "none":
		return "", "", credential.Errorf(credential.CryptographicSecurityError, "verify: %w: \"none\": unsecured JWTs are refused (VC-JOSE-COSE 1.1.2.1, RFC 9901 7.1)", ErrUnsupportedAlgorithm)
	default:
		return "", "", credential.Errorf(credential.CryptographicSecurityError, "verify: %w: %q (supported: EdDSA, Ed25519, ES256)", ErrUnsupportedAlgorithm, alg)
	}
	if _, ok := h["crit"]; ok {
		return "", "", credential.Errorf(credential.MalformedValueError, "verify: crit header: no extensions are understood")
	}
	if v, ok := h["b64"]; ok && v != true {
		return "", "", credential.Errorf(credential.MalformedValueError, "verify: b64 header %v: unencoded payloads are not supported", v)
	}
	return alg, kt, nil
}

// checkHeader enforces the header profile and returns the alg, the key
// type it needs and the kid.
func checkHeader(h map[string]any, k *kind) (alg string, kt keys.Type, kid string, err error) {
	if alg, kt, err = checkAlg(h); err != nil {
		return "", "", "", err
	}
	typ, ok := h["typ"].(string)
	if _, has := h["typ"]; !has && k.typOptional {
		typ, ok = k.typ, true
	}
	if !ok {
		return "", "", "", credential.Errorf(credential.MalformedValueError, "verify: typ is missing or not a string, want %q", k.typ)
	}
	if !isType(typ, k.typ) {
		return "", "", "", credential.Errorf(credential.MalformedValueError, "verify: typ %q, want %q", typ, k.typ)
	}
	if v, ok := h["cty"]; ok {
		if cty, ok := v.(string); !ok || !isType(cty, k.cty) {
			return "", "", "", credential.Errorf(credential.MalformedValueError, "verify: cty %v, want %q", v, k.cty)
		}
	}
	kid, ok = h["kid"].(string)
	if !ok || kid == "" {
		return "", "", "", credential.Errorf(credential.MalformedValueError, "verify: kid is missing or not a non-empty string")
	}
	return alg, kt, kid, nil
}

// checkBase64 reports whether s, already known to hold only base64url
// characters, is what the strict unpadded decoder accepts: a length that
// is not 1 modulo 4 and zero bits after the last full byte.
func checkBase64(s string) error {
	var mask byte
	switch len(s) % 4 {
	case 0:
		return nil
	case 1:
		return base64.CorruptInputError(len(s) - 1)
	case 2:
		mask = 0x0f
	case 3:
		mask = 0x03
	}
	if base64URLValue(s[len(s)-1])&mask != 0 {
		return base64.CorruptInputError(len(s) - 1)
	}
	return nil
}

// base64URLValue returns the 6-bit value of a base64url character.
func base64URLValue(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c - 'A'
	case 'a' <= c && c <= 'z':
		return c - 'a' + 26
	case '0' <= c && c <= '9':
		return c - '0' + 52
	case c == '-':
		return 62
	}
	return 63 // '_'
}

// decodePayloadB64 decodes a checked base64url payload and parses it
// (see decodePayload).
func decodePayloadB64(s string, shared bool) (map[string]any, string, error) {
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, "", credential.Errorf(credential.ParsingError, "verify: payload: %w", err)
	}
	return decodePayload(b, shared)
}

// decodePayload parses the payload as one strict JSON object. With
// shared, for a result that lives one request ([VerifyJSON]), its
// strings are parts of one copy of b (strictjson.ObjectString; the
// payload is bounded by the token's size), and it also returns that copy
// when it is what encoding/json's Marshal writes for the object, else
// "". Without, every string is its own copy: what a caller keeps (a
// cache, a stored OpenID4VP result) keeps no more than itself (review
// R8).
func decodePayload(b []byte, shared bool) (map[string]any, string, error) {
	if !shared {
		m, err := strictjson.Object(b, 0)
		if err != nil {
			return nil, "", credential.Errorf(credential.ParsingError, "verify: payload: %w", err)
		}
		return m, "", nil
	}
	text := string(b)
	m, marshaled, err := strictjson.ObjectStringMarshaled(text, 0)
	if err != nil {
		return nil, "", credential.Errorf(credential.ParsingError, "verify: payload: %w", err)
	}
	if !marshaled {
		text = ""
	}
	return m, text, nil
}

// subjectOf returns the issuer of a credential (required) or the holder of
// a presentation ("" when absent).
func subjectOf(payload map[string]any, k *kind) (string, error) {
	v, ok := payload[k.subject]
	if !ok && k == kindVP {
		return "", nil
	}
	id, ok := entityID(v)
	if !ok || id == "" {
		return "", credential.Errorf(credential.MalformedValueError, "verify: %s is missing or not a string or an object with an id", k.subject)
	}
	return id, nil
}

// checkClaims applies the claim rules after the signature verified.
func checkClaims(payload map[string]any, subject string, k *kind, opts VerifyOptions) error {
	for _, claim := range []string{"vc", "vp"} {
		if _, ok := payload[claim]; ok {
			return credential.Errorf(credential.MalformedValueError, "verify: the %q claim must not be present (VC-JOSE-COSE 3.1.3)", claim)
		}
	}
	if v, ok := payload["iss"]; ok {
		iss, ok := v.(string)
		if !ok {
			return credential.Errorf(credential.MalformedValueError, "verify: iss is not a string")
		}
		if subject != "" && iss != subject {
			return credential.Errorf(credential.IssuerMismatchError, "verify: iss %q does not match the %s %q (VC-JOSE-COSE 4.1.2)", iss, k.subject, subject)
		}
	}
	if opts.Nonce != "" {
		if n, _ := payload["nonce"].(string); n != opts.Nonce {
			return credential.Errorf(credential.InvalidChallengeError, "verify: nonce claim does not match the challenge")
		}
	}
	if opts.Audience != "" && !hasAudience(payload["aud"], opts.Audience) {
		return credential.Errorf(credential.InvalidDomainError, "verify: aud claim does not name %q", opts.Audience)
	}
	if !opts.Now.IsZero() {
		now := opts.Now.Unix()
		if exp, ok, err := numericDate(payload, "exp"); err != nil {
			return err
		} else if ok && now >= exp {
			return credential.Errorf(credential.ValidityPeriodError, "verify: signature expired at %s", time.Unix(exp, 0).UTC().Format(time.RFC3339))
		}
		if nbf, ok, err := numericDate(payload, "nbf"); err != nil {
			return err
		} else if ok && now < nbf {
			return credential.Errorf(credential.ValidityPeriodError, "verify: signature not valid before %s", time.Unix(nbf, 0).UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// hasAudience reports whether aud, a string or an array of strings,
// names want.
func hasAudience(aud any, want string) bool {
	switch aud := aud.(type) {
	case string:
		return aud == want
	case []any:
		for _, a := range aud {
			if a == want {
				return true
			}
		}
	}
	return false
}

// numericDate reads a NumericDate claim (RFC 7519 section 2), truncated
// to whole seconds.
func numericDate(payload map[string]any, claim string) (int64, bool, error) {
	v, ok := payload[claim]
	if !ok {
		return 0, false, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, false, credential.Errorf(credential.MalformedValueError, "verify: %s is not a NumericDate", claim)
	}
	f, err := n.Float64()
	if err != nil || f < -1e15 || f > 1e15 {
		return 0, false, credential.Errorf(credential.MalformedValueError, "verify: %s %s is not a NumericDate", claim, n)
	}
	return int64(f), true, nil
}

// isAbsolute reports whether s starts with a URI scheme (RFC 3986 3.1).
func isAbsolute(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return true
		default:
			return false
		}
	}
	return false
}

// resolveRelative turns a relative kid, "#frag" or a bare "frag" of
// unreserved characters, into subject#frag.
func resolveRelative(kid, subject string) (string, error) {
	if subject == "" {
		return "", credential.Errorf(credential.MalformedValueError, "verify: relative kid %q without an issuer or holder to resolve it against", kid)
	}
	if strings.ContainsAny(subject, "#") {
		return "", credential.Errorf(credential.MalformedValueError, "verify: relative kid %q against %q, which has a fragment", kid, subject)
	}
	frag := strings.TrimPrefix(kid, "#")
	if frag == "" {
		return "", credential.Errorf(credential.MalformedValueError, "verify: empty kid fragment")
	}
	for i := 0; i < len(frag); i++ {
		c := frag[i]
		plain := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
		if !plain {
			return "", credential.Errorf(credential.MalformedValueError, "verify: kid %q is neither absolute nor a plain fragment", kid)
		}
	}
	return subject + "#" + frag, nil
}
