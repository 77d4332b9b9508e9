package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/idmesh/idmesh/did/jwk"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/strictjson"
)

// OpenID4VCI names the issuer side uses.
const (
	// GrantPreAuthorizedCode is the Pre-Authorized Code grant type.
	GrantPreAuthorizedCode = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
	// ProofTypeJWT is the typ of a key proof JWT (OpenID4VCI appendix F.1).
	ProofTypeJWT = "openid4vci-proof+jwt"
	// OfferScheme is the scheme of the offer URIs the issuer answers.
	OfferScheme = "openid-credential-offer"
)

// Bounds of the OpenID4VCI requests.
const (
	// MaxTokenRequestBytes bounds a token request body.
	MaxTokenRequestBytes = 8 << 10
	// MaxCredentialRequestBytes bounds a credential request body.
	MaxCredentialRequestBytes = 32 << 10
	// MaxProofBytes bounds a key proof JWT.
	MaxProofBytes = 8 << 10
	// MaxProofAge is how old a proof's iat may be.
	MaxProofAge = 5 * time.Minute
	// MaxOfferClaimsBytes bounds an offer's claims, as JSON.
	MaxOfferClaimsBytes = 16 << 10
	// maxTxCodeDigits bounds a transaction code.
	maxTxCodeDigits = 16
	// minTxCodeDigits is the shortest transaction code an offer takes.
	minTxCodeDigits = 4
)

// errVCIRequest reports a malformed token or credential request
// (invalid_request, invalid_credential_request).
var errVCIRequest = errors.New("malformed request")

// errVCIProof reports a key proof that is refused (invalid_proof).
var errVCIProof = errors.New("invalid proof")

// tokenRequest is a parsed token request of the pre-authorized code
// flow (OpenID4VCI section 6.1).
type tokenRequest struct {
	grantType, code, txCode string
	// hasTxCode reports that the request carries a tx_code parameter.
	// Without one, a code that requires it is refused without counting
	// an attempt; an empty tx_code counts as a wrong code, as it always
	// has (TestOID4VCITokenRefusals).
	hasTxCode bool
}

// parseTokenRequest parses a form-encoded token request body of at most
// MaxTokenRequestBytes: every parameter at most once (RFC 6749 section
// 3.2), grant_type and, for the pre-authorized code grant,
// pre-authorized_code required. A grant type other than the
// pre-authorized code one is returned for the caller to refuse as
// unsupported_grant_type.
func parseTokenRequest(body []byte) (tokenRequest, error) {
	if len(body) > MaxTokenRequestBytes {
		return tokenRequest{}, fmt.Errorf("%w: the body exceeds %d bytes", errVCIRequest, MaxTokenRequestBytes)
	}
	q, err := url.ParseQuery(string(body))
	if err != nil {
		return tokenRequest{}, fmt.Errorf("%w: the body is not form-encoded: %w", errVCIRequest, err)
	}
	for name, vs := range q {
		if len(vs) > 1 {
			return tokenRequest{}, fmt.Errorf("%w: parameter %.64q is repeated", errVCIRequest, name)
		}
	}
	t := tokenRequest{grantType: q.Get("grant_type"), code: q.Get("pre-authorized_code"), txCode: q.Get("tx_code"), hasTxCode: q.Has("tx_code")}
	switch {
	case t.grantType == "":
		return t, fmt.Errorf("%w: grant_type is missing", errVCIRequest)
	case t.grantType != GrantPreAuthorizedCode:
		return t, nil
	case t.code == "":
		return t, fmt.Errorf("%w: pre-authorized_code is missing", errVCIRequest)
	}
	return t, nil
}

// credentialRequest is a parsed credential request (section 8.2).
type credentialRequest struct {
	configID string
	proof    string
}

// parseCredentialRequest parses a credential request body of at most
// MaxCredentialRequestBytes: a strict JSON object with
// credential_configuration_id and proofs, an object whose one member
// is jwt, an array of exactly one proof JWT of at most MaxProofBytes.
func parseCredentialRequest(body []byte) (credentialRequest, error) {
	if len(body) > MaxCredentialRequestBytes {
		return credentialRequest{}, fmt.Errorf("%w: the body exceeds %d bytes", errVCIRequest, MaxCredentialRequestBytes)
	}
	m, err := strictjson.Object(body, MaxCredentialRequestBytes)
	if err != nil {
		return credentialRequest{}, fmt.Errorf("%w: %w", errVCIRequest, err)
	}
	var r credentialRequest
	if _, ok := m["credential_identifier"]; ok {
		return r, fmt.Errorf("%w: credential_identifier is not supported: send credential_configuration_id", errVCIRequest)
	}
	if _, ok := m["proof"]; ok {
		return r, fmt.Errorf("%w: proof (singular) is not part of OpenID4VCI 1.0: send proofs", errVCIRequest)
	}
	id, ok := m["credential_configuration_id"].(string)
	if !ok || id == "" {
		return r, fmt.Errorf("%w: credential_configuration_id is missing or not a string", errVCIRequest)
	}
	r.configID = id
	proofs, ok := m["proofs"].(map[string]any)
	if !ok {
		return r, fmt.Errorf("%w: proofs is missing or not an object", errVCIRequest)
	}
	if len(proofs) != 1 {
		return r, fmt.Errorf("%w: proofs must hold exactly one proof type, jwt", errVCIRequest)
	}
	list, ok := proofs["jwt"].([]any)
	if !ok || len(list) != 1 {
		return r, fmt.Errorf("%w: proofs.jwt must be an array of exactly one proof JWT", errVCIRequest)
	}
	p, ok := list[0].(string)
	if !ok || p == "" {
		return r, fmt.Errorf("%w: proofs.jwt[0] is not a JWT", errVCIRequest)
	}
	if len(p) > MaxProofBytes {
		return r, fmt.Errorf("%w: the proof exceeds %d bytes", errVCIRequest, MaxProofBytes)
	}
	r.proof = p
	return r, nil
}

// keyProof is a verified key proof: the key it proves, the DID the
// credential binds to (the kid's DID, or the did:key of a jwk) and the
// nonce it carries (not yet checked).
type keyProof struct {
	key    keys.PublicKey
	holder string
	// byJWK is set when the proof named its key by jwk.
	byJWK bool
	nonce string
}

// parseProof verifies a key proof JWT (OpenID4VCI appendix F.1 and
// F.4): typ openid4vci-proof+jwt; alg EdDSA (or Ed25519) or ES256,
// matching the key; exactly one of jwk (a public Ed25519 or P-256 key)
// and kid (a did:key or did:jwk DID URL, resolved from the DID
// itself); no x5c or trust_chain; a valid signature; aud the Credential
// Issuer identifier aud; iat within MaxProofAge before now and at most
// skew after it; exp, when present, a number not past (beyond skew).
// The nonce is returned unchecked.
func parseProof(jwt, aud string, now time.Time, skew time.Duration) (keyProof, error) {
	fail := func(format string, a ...any) (keyProof, error) {
		return keyProof{}, fmt.Errorf("%w: %s", errVCIProof, fmt.Sprintf(format, a...))
	}
	if len(jwt) > MaxProofBytes {
		return fail("the proof exceeds %d bytes", MaxProofBytes)
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return fail("not a compact JWS")
	}
	b64 := base64.RawURLEncoding.Strict()
	hb, err1 := b64.DecodeString(parts[0])
	cb, err2 := b64.DecodeString(parts[1])
	sig, err3 := b64.DecodeString(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return fail("not base64url: %v", err)
	}
	h, err := strictjson.Object(hb, MaxProofBytes)
	if err != nil {
		return fail("header: %v", err)
	}
	c, err := strictjson.Object(cb, MaxProofBytes)
	if err != nil {
		return fail("claims: %v", err)
	}
	if typ, _ := h["typ"].(string); typ != ProofTypeJWT {
		return fail("typ must be %s", ProofTypeJWT)
	}
	alg, _ := h["alg"].(string)
	if alg != "EdDSA" && alg != "Ed25519" && alg != "ES256" {
		return fail("alg %.32q: use EdDSA, Ed25519 or ES256", alg)
	}
	for _, m := range []string{"x5c", "trust_chain", "key_attestation", "crit"} {
		if _, ok := h[m]; ok {
			return fail("header member %s is not supported", m)
		}
	}
	var p keyProof
	j, hasJWK := h["jwk"]
	kid, hasKID := h["kid"]
	switch {
	case hasJWK == hasKID:
		return fail("the header must name the key by exactly one of jwk and kid")
	case hasJWK:
		jm, ok := j.(map[string]any)
		if !ok {
			return fail("jwk is not an object")
		}
		if _, ok := jm["d"]; ok {
			return fail("jwk holds a private key")
		}
		if p.key, err = keys.ParseJWK(jm); err != nil {
			return fail("jwk: %v", err)
		}
		p.holder, p.byJWK = key.New(p.key), true
	default:
		ks, ok := kid.(string)
		if !ok {
			return fail("kid is not a string")
		}
		if p.key, p.holder, err = kidKey(ks); err != nil {
			return fail("kid: %v", err)
		}
	}
	if t := p.key.Type(); t != keys.Ed25519 && t != keys.P256 {
		return fail("a %s key cannot sign proofs", t)
	}
	if want := p.key.Algorithm(); alg != want && (alg != "Ed25519" || want != "EdDSA") {
		return fail("alg %s does not match the %s key", alg, p.key.Type())
	}
	if !p.key.Verify([]byte(parts[0]+"."+parts[1]), sig) {
		return fail("the signature does not verify with the proof's key")
	}
	if !audIs(c["aud"], aud) {
		return fail("aud must be the credential issuer %s", aud)
	}
	iat, ok := c["iat"].(json.Number)
	if !ok {
		return fail("iat is missing or not a number")
	}
	secs, err := iat.Int64()
	if err != nil {
		f, ferr := iat.Float64()
		if ferr != nil {
			return fail("iat is not a number")
		}
		secs = int64(f)
	}
	at := time.Unix(secs, 0)
	if at.After(now.Add(skew)) || at.Before(now.Add(-MaxProofAge-skew)) {
		return fail("iat %s is not recent (within %s of %s)", at.UTC().Format(time.RFC3339), MaxProofAge, now.UTC().Format(time.RFC3339))
	}
	if v, ok := c["exp"]; ok {
		// RFC 7519 section 4.1.4: not accepted on or after exp (with
		// the clock skew).
		exp, ok := v.(json.Number)
		if !ok {
			return fail("exp is not a number")
		}
		f, err := exp.Float64() // out of range: ±Inf, far past or future
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return fail("exp is not a number")
		}
		if f <= float64(now.Add(-skew).UnixNano())/1e9 {
			return fail("the proof expired (exp %s, now %s)", exp, now.UTC().Format(time.RFC3339))
		}
	}
	if n, ok := c["nonce"]; ok {
		if p.nonce, ok = n.(string); !ok {
			return fail("nonce is not a string")
		}
	}
	return p, nil
}

// audIs reports whether aud, a string or an array of one string, is want.
func audIs(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		return len(a) == 1 && a[0] == want
	}
	return false
}

// kidKey resolves a did:key or did:jwk DID URL naming its one
// verification method (or the bare DID) to its key and DID.
func kidKey(kid string) (keys.PublicKey, string, error) {
	d, frag, _ := strings.Cut(kid, "#")
	switch {
	case strings.HasPrefix(d, key.Prefix):
		k, err := key.PublicKey(d)
		if err != nil {
			return keys.PublicKey{}, "", err
		}
		if frag != "" && frag != strings.TrimPrefix(d, key.Prefix) {
			return keys.PublicKey{}, "", fmt.Errorf("%.80s names no verification method of its DID", kid)
		}
		return k, d, nil
	case strings.HasPrefix(d, jwk.Prefix):
		_, k, err := jwk.Decode(d)
		if err != nil {
			return keys.PublicKey{}, "", err
		}
		if frag != "" && frag != jwk.Fragment {
			return keys.PublicKey{}, "", fmt.Errorf("%.80s names no verification method of its DID", kid)
		}
		return k, d, nil
	}
	return keys.PublicKey{}, "", fmt.Errorf("%.80q is not a did:key or did:jwk DID URL", kid)
}
