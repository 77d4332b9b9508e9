package jose

import (
	"context"
	"maps"
	"strings"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/did/strictjson"
)

// This file is the JWT of VC Data Model 1.1, section 6.3.1, which OpenID
// for Verifiable Credential Issuance calls jwt_vc_json: a compact JWS of
// typ "JWT" whose claims carry the credential under "vc" and repeat its
// members as registered claims. VC-JOSE-COSE (the rest of this package)
// secures VC Data Model 2.0 only and forbids the "vc" claim; this format
// is its 1.1 counterpart.

// FormatJWTVC is the name of the VC Data Model 1.1 JWT (OpenID4VCI's
// credential format identifier).
const FormatJWTVC = "jwt_vc_json"

// TypJWT is the typ header of a VC Data Model 1.1 JWT.
const TypJWT = "JWT"

// kindJWTVC is the 1.1 JWT: typ "JWT" (optional: the data model says "if
// present"), no cty, the issuer in "iss", assertionMethod keys.
var kindJWTVC = &kind{typ: "application/jwt", subject: "iss", purpose: credential.PurposeAssertion, typOptional: true}

// SignJWTVC secures cred, a VC Data Model 1.1 credential, as a VC Data
// Model 1.1 JWT (section 6.3.1.1): the protected header is {"alg", "kid":
// signer.MethodID(), "typ":"JWT"}, and the claims are "vc" (cred, whole and
// unchanged), "iss" (its issuer), "nbf" (its issuanceDate), "exp" (its
// expirationDate, when it has one), "jti" (its id, when it has one), "sub"
// (the id of its one credentialSubject, when it has one) and, when
// opts.IssuedAt is set, "iat". cred is not modified. Errors carry
// MALFORMED_VALUE_ERROR or PROOF_GENERATION_ERROR.
func SignJWTVC(cred map[string]any, signer credential.Signer, opts SignOptions) (string, error) {
	if opts.Nonce != "" || opts.Audience != "" {
		return "", credential.Errorf(credential.ProofGenerationError, "sign credential: nonce and audience bind presentations only")
	}
	if cred == nil {
		return "", credential.Errorf(credential.MalformedValueError, "sign credential: no credential")
	}
	if base, _ := firstContext(cred); base != credential.ContextV1 {
		return "", credential.Errorf(credential.MalformedValueError, "sign credential: a %s JWT secures VC Data Model 1.1 credentials (@context %s first); use vc+jwt for 2.0", FormatJWTVC, credential.ContextV1)
	}
	iss, ok := entityID(cred["issuer"])
	if !ok || iss == "" {
		return "", credential.Errorf(credential.MalformedValueError, "sign credential: issuer is missing or not a string or an object with an id")
	}
	claims := map[string]any{"vc": cred, "iss": iss}
	nbf, ok, err := dateClaim(cred, "issuanceDate")
	if err != nil {
		return "", err
	}
	if !ok {
		return "", credential.Errorf(credential.MalformedValueError, "sign credential: issuanceDate is required by the 1.1 data model")
	}
	claims["nbf"] = nbf
	if exp, ok, err := dateClaim(cred, "expirationDate"); err != nil {
		return "", err
	} else if ok {
		claims["exp"] = exp
	}
	if id, ok := cred["id"].(string); ok {
		claims["jti"] = id
	}
	if subs := subjects(cred["credentialSubject"]); len(subs) == 1 {
		if id, ok := subs[0]["id"].(string); ok {
			claims["sub"] = id
		}
	}
	if !opts.IssuedAt.IsZero() {
		claims["iat"] = opts.IssuedAt.Unix()
	}
	return signClaims(claims, signer, opts.Algorithm, TypJWT)
}

// firstContext returns the first @context entry when it is a string.
func firstContext(doc map[string]any) (string, bool) {
	switch c := doc["@context"].(type) {
	case string:
		return c, true
	case []any:
		if len(c) > 0 {
			s, ok := c[0].(string)
			return s, ok
		}
	}
	return "", false
}

// dateClaim reads a dateTimeStamp member of cred as a NumericDate (whole
// seconds, rounded down).
func dateClaim(cred map[string]any, member string) (int64, bool, error) {
	v, ok := cred[member]
	if !ok {
		return 0, false, nil
	}
	s, _ := v.(string)
	t, err := credential.ParseDateTime(s)
	if err != nil {
		return 0, false, credential.Errorf(credential.MalformedValueError, "%s: %w", member, err)
	}
	return t.Unix(), true, nil
}

// subjects returns the credentialSubject objects of a credential: one
// object or an array of them (nil for anything else).
func subjects(v any) []map[string]any {
	switch s := v.(type) {
	case map[string]any:
		return []map[string]any{s}
	case []any:
		out := make([]map[string]any, 0, len(s))
		for _, e := range s {
			m, ok := e.(map[string]any)
			if !ok {
				return nil
			}
			out = append(out, m)
		}
		return out
	}
	return nil
}

// IsJWTVC reports whether token looks like a VC Data Model 1.1 JWT rather
// than an application/vc+jwt: a compact JWS whose protected header has typ
// "JWT" (or "application/jwt") or no typ. It decodes the header only and
// verifies nothing; it tells a verifier which of [VerifyJWTVC] and [Verify]
// to call.
func IsJWTVC(token string) bool {
	dot := strings.IndexByte(token, '.')
	if dot <= 0 || dot > maxHeaderB64 {
		return false
	}
	hb, err := b64.DecodeString(token[:dot])
	if err != nil {
		return false
	}
	h, err := strictjson.Object(hb, 0)
	if err != nil {
		return false
	}
	typ, has := h["typ"]
	if !has {
		return true
	}
	s, ok := typ.(string)
	return ok && normalizeType(s) == kindJWTVC.typ
}

// maxHeaderB64 bounds the protected header IsJWTVC decodes: far more than
// alg, kid and typ need.
const maxHeaderB64 = 8 << 10

// VerifyJWTVC checks token, a VC Data Model 1.1 JWT (section 6.3.1), and
// returns the credential it secures and the key that verified it.
//
// The header is held to the profile of [Verify] (alg EdDSA, Ed25519 or
// ES256 fitting the key, never "none"; no crit; a kid, absolute or relative
// to "iss") except that typ, when present, must be "JWT" and no cty is
// accepted. The kid is resolved for assertionMethod and the key's
// controller must be "iss". The payload must hold a "vc" object and no
// "vp". The credential is "vc" with the claims decoded into it (section
// 6.3.1.2), and where it has the member already, the claim must agree with
// it: iss with issuer (ISSUER_MISMATCH_ERROR otherwise), jti with id, sub
// with the id of its one credentialSubject, nbf with issuanceDate and exp
// with expirationDate, compared in whole seconds (MALFORMED_VALUE_ERROR
// otherwise). "exp" and "nbf" are the credential's validity period, which
// the caller checks (with its clock and skew) on the returned credential:
// opts.Now is not used. opts.Nonce and opts.Audience must be empty.
func VerifyJWTVC(ctx context.Context, token string, resolver credential.KeyResolver, opts VerifyOptions) (map[string]any, credential.VerificationKey, error) {
	var none credential.VerificationKey
	if opts.Nonce != "" || opts.Audience != "" {
		return nil, none, credential.Errorf(credential.MalformedValueError, "verify: nonce and audience bind presentations only")
	}
	payload, _, iss, key, err := verifySigned(ctx, token, kindJWTVC, resolver, opts.MaxBytes, false, issClaim)
	if err != nil {
		return nil, none, err
	}
	if key.Controller != iss {
		return nil, none, credential.Errorf(credential.IssuerMismatchError, "verify: key %s is controlled by %q, not the issuer %q", key.ID, key.Controller, iss)
	}
	cred, err := decodeJWTVC(payload, iss)
	if err != nil {
		return nil, none, err
	}
	if !key.RetiredAt.IsZero() {
		claimed, err := claimedTime(payload)
		if err != nil {
			return nil, none, err
		}
		if claimed.IsZero() {
			// No iat: the credential's issuanceDate, which nbf repeats.
			if claimed, err = claimedTime(cred); err != nil {
				return nil, none, err
			}
		}
		if err := key.CheckClaimedTime(claimed); err != nil {
			return nil, none, err
		}
	}
	return cred, key, nil
}

// issClaim returns the "iss" claim, which a 1.1 JWT must carry.
func issClaim(payload map[string]any) (string, error) {
	iss, ok := payload["iss"].(string)
	if !ok || iss == "" {
		return "", credential.Errorf(credential.MalformedValueError, "verify: the iss claim is missing or not a string")
	}
	return iss, nil
}

// decodeJWTVC is JWT Decoding (VC Data Model 1.1, section 6.3.1.2): the
// "vc" claim with the registered claims set into it, each agreeing with
// the member the credential already has. The payload is not modified.
func decodeJWTVC(payload map[string]any, iss string) (map[string]any, error) {
	if _, ok := payload["vp"]; ok {
		return nil, credential.Errorf(credential.MalformedValueError, "verify: a credential JWT must not carry a vp claim")
	}
	vc, ok := payload["vc"].(map[string]any)
	if !ok {
		return nil, credential.Errorf(credential.MalformedValueError, "verify: the vc claim is missing or not an object")
	}
	cred := maps.Clone(vc)
	if v, ok := cred["issuer"]; !ok {
		cred["issuer"] = iss
	} else if id, _ := entityID(v); id != iss {
		return nil, credential.Errorf(credential.IssuerMismatchError, "verify: iss %q does not match the credential's issuer %q", iss, id)
	}
	if v, ok := payload["jti"]; ok {
		jti, ok := v.(string)
		if !ok {
			return nil, credential.Errorf(credential.MalformedValueError, "verify: jti is not a string")
		}
		if id, has := cred["id"]; !has {
			cred["id"] = jti
		} else if id != jti {
			return nil, credential.Errorf(credential.MalformedValueError, "verify: jti %q does not match the credential's id %v", jti, id)
		}
	}
	if v, ok := payload["sub"]; ok {
		sub, ok := v.(string)
		if !ok {
			return nil, credential.Errorf(credential.MalformedValueError, "verify: sub is not a string")
		}
		if err := setSubject(cred, sub); err != nil {
			return nil, err
		}
	}
	for _, c := range []struct{ claim, member string }{{"nbf", "issuanceDate"}, {"exp", "expirationDate"}} {
		n, ok, err := numericDate(payload, c.claim)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		have, has, err := dateClaim(cred, c.member)
		if err != nil {
			return nil, err
		}
		switch {
		case !has:
			cred[c.member] = credential.FormatDateTime(time.Unix(n, 0))
		case have != n:
			return nil, credential.Errorf(credential.MalformedValueError, "verify: %s %d does not match the credential's %s %v", c.claim, n, c.member, cred[c.member])
		}
	}
	if _, _, err := numericDate(payload, "iat"); err != nil {
		return nil, err
	}
	return cred, nil
}

// setSubject applies the sub claim: the credential must have exactly one
// subject, whose id, when it has one, is sub; one without an id gets it.
func setSubject(cred map[string]any, sub string) error {
	raw := cred["credentialSubject"]
	subs := subjects(raw)
	if len(subs) != 1 {
		return credential.Errorf(credential.MalformedValueError, "verify: sub names one subject; the credential has %d credentialSubject objects", len(subs))
	}
	s := subs[0]
	if id, has := s["id"]; has {
		if id != sub {
			return credential.Errorf(credential.MalformedValueError, "verify: sub %q does not match the credentialSubject id %v", sub, id)
		}
		return nil
	}
	s = maps.Clone(s)
	s["id"] = sub
	if _, isArray := raw.([]any); isArray {
		cred["credentialSubject"] = []any{s}
	} else {
		cred["credentialSubject"] = s
	}
	return nil
}
