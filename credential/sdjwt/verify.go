package sdjwt

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did/keys"
)

// Defaults of [VerifyOptions].
const (
	// DefaultSkew is the clock skew allowed on exp, nbf and the
	// key-binding JWT's iat.
	DefaultSkew = time.Minute
	// DefaultKeyBindingMaxAge is how old a key-binding JWT may be.
	DefaultKeyBindingMaxAge = 5 * time.Minute
)

// VerifyOptions tune [Verify] and [VerifyWithKey].
type VerifyOptions struct {
	// Now is the verifier's time, checked against exp, nbf and the
	// key-binding JWT's iat. It is required: the package reads no clock.
	Now time.Time
	// Skew is the allowed clock difference (DefaultSkew when zero;
	// negative means none).
	Skew time.Duration
	// Nonce and Audience, when either is set, require a key-binding JWT
	// whose "nonce" and "aud" equal them (the verifier's challenge and
	// domain; RFC 9901 section 7.3).
	Nonce, Audience string
	// RequireKeyBinding requires a key-binding JWT even with no Nonce or
	// Audience to compare.
	RequireKeyBinding bool
	// KeyBindingMaxAge is how far before Now the key-binding JWT's iat
	// may lie (DefaultKeyBindingMaxAge when zero).
	KeyBindingMaxAge time.Duration
	// SkipValidityPeriod leaves "exp" and "nbf" unchecked against Now
	// (they must still be NumericDates): for a caller that checks the
	// validity period itself, as a check it may leave out.
	SkipValidityPeriod bool
	// Limits bound the input.
	Limits Limits
}

// StatusListRef is the "status" claim's status_list reference (IETF
// Token Status List): the index of the credential in the list at URI.
type StatusListRef struct {
	// Index is status.status_list.idx, a non-negative integer.
	Index int64
	// URI is status.status_list.uri, the Status List Token's URL.
	URI string
}

// Result is a verified SD-JWT.
type Result struct {
	// Claims is the processed payload: the issuer-signed claims with the
	// disclosed claims in place and "_sd", "_sd_alg" and the undisclosed
	// digests removed. Numbers are json.Number.
	Claims map[string]any
	// Disclosed are the JSON pointers (RFC 6901) into Claims of the
	// claims that Disclosures revealed, sorted.
	Disclosed []string
	// Issuer is the "iss" claim (for [Verify], the DID that controls Key).
	Issuer string
	// Key is the key that verified the issuer-signed JWT.
	Key credential.VerificationKey
	// VCT is the "vct" claim ([Verify] only).
	VCT string
	// HolderKey is cnf.jwk, or the zero key when the credential has none.
	HolderKey keys.PublicKey
	// KeyBound reports that a key-binding JWT by HolderKey was verified.
	KeyBound bool
	// Status is status.status_list, or nil ([Verify] only). Checking it
	// is the caller's business.
	Status *StatusListRef
}

func (o VerifyOptions) skew() time.Duration {
	switch {
	case o.Skew < 0:
		return 0
	case o.Skew == 0:
		return DefaultSkew
	}
	return o.Skew
}

// Verify checks compact, an SD-JWT VC (application/dc+sd-jwt) with or
// without a key-binding JWT, and returns its processed claims.
//
// The issuer-signed JWT must have typ "dc+sd-jwt", alg EdDSA, Ed25519 or
// ES256, and a kid that is an absolute DID URL; resolver finds that key
// for assertionMethod, and its controller must be the DID in "iss". A
// compromised key verifies nothing, a retired one only credentials
// whose iat is before its retirement. The Disclosures are processed as
// RFC 9901 section 7.1 says; the SD-JWT VC rules then apply: "vct" a
// string, "iss" the issuer's DID, "iat" required, "nbf" and "exp" within
// opts.Skew of opts.Now, "cnf.jwk" a public key when present, "status"
// well-formed when present, and none of iss, nbf, exp, cnf, vct,
// vct#integrity, aka_vcts and status revealed by a Disclosure. Key
// binding is checked as in [VerifyWithKey].
func Verify(ctx context.Context, compact string, resolver credential.KeyResolver, opts VerifyOptions) (*Result, error) {
	lim := opts.Limits.withDefaults()
	sd, err := Parse(compact, lim)
	if err != nil {
		return nil, err
	}
	c, err := jose.ParseCompact(sd.JWT, TypVC, lim.MaxBytes)
	if err != nil {
		return nil, err
	}
	kid, ok := c.Header["kid"].(string)
	if !ok || kid == "" {
		return nil, credential.Errorf(credential.MalformedValueError, "verify: kid is missing or not a non-empty string")
	}
	controller := credential.ControllerOf(kid)
	if !strings.HasPrefix(kid, "did:") || controller == kid {
		return nil, credential.Errorf(credential.MalformedValueError, "verify: kid %q is not a DID URL", kid)
	}
	if resolver == nil {
		return nil, credential.Errorf(credential.CryptographicSecurityError, "verify: no key resolver")
	}
	key, err := resolver.ResolveKey(ctx, kid, credential.PurposeAssertion)
	if err != nil {
		return nil, credential.Errorf(credential.CryptographicSecurityError, "resolve %s: %w", kid, err)
	}
	if key.Compromised {
		return nil, credential.Errorf(credential.KeyCompromisedError, "verify: key %s is compromised", key.ID)
	}
	res, err := verify(sd, c, key.Public, opts, lim, NonDisclosable)
	if err != nil {
		return nil, err
	}
	res.Key = key
	info, err := checkVCClaims(res.Claims, controller, false) // verify read cnf.jwk
	if err != nil {
		return nil, err
	}
	if key.Controller != info.issuer {
		return nil, credential.Errorf(credential.IssuerMismatchError, "verify: key %s is controlled by %q, not the issuer %q", key.ID, key.Controller, info.issuer)
	}
	for _, ptr := range res.Disclosed {
		tokens, _ := parsePointer(ptr)
		// A claim kept in the clear stays so all the way down: a
		// Disclosure under status (status.status_list), cnf or vct would
		// let the holder leave it out and the claim read as absent. A
		// disclosed iat alone is accepted (other issuers disclose it).
		if len(tokens) > 0 && slices.Contains(NonDisclosable, tokens[0]) && (tokens[0] != "iat" || len(tokens) > 1) {
			return nil, credential.Errorf(credential.MalformedValueError, "verify: %w: %q came from a Disclosure; SD-JWT VC keeps it in the clear", ErrForbiddenName, tokens[0])
		}
	}
	if !key.RetiredAt.IsZero() {
		if err := key.CheckClaimedTime(time.Unix(info.iat, 0).UTC()); err != nil {
			return nil, err
		}
	}
	res.Issuer, res.VCT, res.Status = info.issuer, info.vct, info.status
	return res, nil
}

// VerifyWithKey checks compact, an SD-JWT or SD-JWT+KB, under RFC 9901
// alone, with the issuer's key given: the signature (alg EdDSA, Ed25519
// or ES256 fitting key; "none" and "crit" refused; any typ), the
// Disclosures (RFC 9901 section 7.1: each referenced exactly once, no
// digest twice, no "_sd" or "..." claim name or name collision, _sd_alg
// "sha-256"), "exp" and "nbf" when present, and key binding (section
// 7.3): when opts asks for it (Nonce, Audience or RequireKeyBinding) a
// key-binding JWT must be present; when present it must have typ
// "kb+jwt", be signed by the credential's cnf.jwk with an alg that fits
// it, carry iat within opts.KeyBindingMaxAge before opts.Now (and not
// after it, give or take opts.Skew), a string nonce and a single string
// aud equal to opts' when set, and sd_hash over the presented SD-JWT.
// The SD-JWT VC claim rules are [Verify]'s.
func VerifyWithKey(compact string, key keys.PublicKey, opts VerifyOptions) (*Result, error) {
	lim := opts.Limits.withDefaults()
	sd, err := Parse(compact, lim)
	if err != nil {
		return nil, err
	}
	c, err := jose.ParseCompact(sd.JWT, "", lim.MaxBytes)
	if err != nil {
		return nil, err
	}
	res, err := verify(sd, c, key, opts, lim, nil)
	if err != nil {
		return nil, err
	}
	res.Key = credential.VerificationKey{Public: key}
	res.Issuer, _ = res.Claims["iss"].(string)
	return res, nil
}

// verify checks the signature, that the claims named in clear hold no
// digest, and processes the Disclosures, the time
// claims and the key binding.
func verify(sd *SDJWT, c *jose.Compact, key keys.PublicKey, opts VerifyOptions, lim Limits, clear []string) (*Result, error) {
	if opts.Now.IsZero() {
		return nil, credential.Errorf(credential.MalformedValueError, "verify: no time given (VerifyOptions.Now)")
	}
	payload, err := c.Verify(key)
	if err != nil {
		return nil, err
	}
	// The claims kept in the clear (SD-JWT VC's; iat aside, which other
	// issuers disclose) hold no digest either, at any depth: a holder
	// could withhold the Disclosure one names (a status.status_list,
	// say) and the claim would read as absent.
	for _, name := range clear {
		if name != "iat" && hasDigests(payload[name]) {
			return nil, credential.Errorf(credential.MalformedValueError, "verify: %w: %s holds selectively disclosable parts; SD-JWT VC keeps it in the clear", ErrForbiddenName, name)
		}
	}
	claims, places, err := process(payload, sd.Disclosures, lim.MaxDepth)
	if err != nil {
		return nil, err
	}
	res := &Result{Claims: claims, Disclosed: make([]string, 0, len(places))}
	for _, p := range places {
		res.Disclosed = append(res.Disclosed, formatPointer(p.ptr))
	}
	slices.Sort(res.Disclosed)

	now, skew := opts.Now.Unix(), int64(opts.skew()/time.Second)
	if exp, ok, err := numericDate(claims, "exp"); err != nil {
		return nil, err
	} else if ok && !opts.SkipValidityPeriod && now >= exp+skew {
		return nil, credential.Errorf(credential.ValidityPeriodError, "verify: expired at %s", unixTime(exp))
	}
	if nbf, ok, err := numericDate(claims, "nbf"); err != nil {
		return nil, err
	} else if ok && !opts.SkipValidityPeriod && now+skew < nbf {
		return nil, credential.Errorf(credential.ValidityPeriodError, "verify: not valid before %s", unixTime(nbf))
	}
	if _, ok := claims["cnf"]; ok {
		if res.HolderKey, err = holderKey(claims); err != nil {
			return nil, err
		}
	}

	required := opts.RequireKeyBinding || opts.Nonce != "" || opts.Audience != ""
	if sd.KeyBinding == "" {
		if required {
			return nil, credential.Errorf(credential.HolderBindingError, "verify: %w: the SD-JWT has no key-binding JWT", ErrKeyBindingRequired)
		}
		return res, nil
	}
	if res.HolderKey.IsZero() {
		return nil, credential.Errorf(credential.HolderBindingError, "verify: %w: a key-binding JWT, but the credential has no cnf.jwk", ErrKeyBindingRequired)
	}
	if err := checkKeyBinding(sd, res.HolderKey, opts, lim); err != nil {
		return nil, err
	}
	res.KeyBound = true
	return res, nil
}

// checkKeyBinding verifies the KB-JWT (RFC 9901 section 7.3, step 5).
func checkKeyBinding(sd *SDJWT, holder keys.PublicKey, opts VerifyOptions, lim Limits) error {
	c, err := jose.ParseCompact(sd.KeyBinding, TypKB, lim.MaxBytes)
	if err != nil {
		return kbError(err)
	}
	kb, err := c.Verify(holder)
	if err != nil {
		return kbError(err)
	}
	iat, ok, err := numericDate(kb, "iat")
	if err != nil {
		return kbError(err)
	}
	if !ok {
		return credential.Errorf(credential.MalformedValueError, "verify key binding: iat is missing")
	}
	nonce, ok := kb["nonce"].(string)
	if !ok {
		return credential.Errorf(credential.MalformedValueError, "verify key binding: nonce is missing or not a string")
	}
	aud, ok := kb["aud"].(string)
	if !ok {
		return credential.Errorf(credential.MalformedValueError, "verify key binding: aud is missing or not a single string")
	}
	hash, ok := kb["sd_hash"].(string)
	if !ok {
		return credential.Errorf(credential.MalformedValueError, "verify key binding: sd_hash is missing or not a string")
	}
	if hash != Digest(sd.SDHashInput) {
		return credential.Errorf(credential.CryptographicSecurityError, "verify key binding: sd_hash does not match the presented SD-JWT")
	}
	if opts.Nonce != "" && nonce != opts.Nonce {
		return credential.Errorf(credential.InvalidChallengeError, "verify key binding: nonce does not match the challenge")
	}
	if opts.Audience != "" && aud != opts.Audience {
		return credential.Errorf(credential.InvalidDomainError, "verify key binding: aud %q is not %q", aud, opts.Audience)
	}
	maxAge := opts.KeyBindingMaxAge
	if maxAge <= 0 {
		maxAge = DefaultKeyBindingMaxAge
	}
	now, skew := opts.Now.Unix(), int64(opts.skew()/time.Second)
	if iat > now+skew {
		return credential.Errorf(credential.HolderBindingError, "verify key binding: iat %s is in the future", unixTime(iat))
	}
	if iat < now-int64(maxAge/time.Second)-skew {
		return credential.Errorf(credential.HolderBindingError, "verify key binding: iat %s is older than %s", unixTime(iat), maxAge)
	}
	return nil
}

// kbError prefixes an error of the key-binding JWT, keeping its code.
func kbError(err error) error {
	var e *credential.Error
	if errors.As(err, &e) {
		return &credential.Error{Code: e.Code, Detail: "key binding: " + e.Detail, Err: e.Err}
	}
	return credential.Errorf(credential.CryptographicSecurityError, "key binding: %w", err)
}

// holderKey reads cnf.jwk.
func holderKey(claims map[string]any) (keys.PublicKey, error) {
	cnf, ok := claims["cnf"].(map[string]any)
	if !ok {
		return keys.PublicKey{}, credential.Errorf(credential.MalformedValueError, "verify: cnf is not an object")
	}
	jwk, ok := cnf["jwk"].(map[string]any)
	if !ok {
		return keys.PublicKey{}, credential.Errorf(credential.MalformedValueError, "verify: cnf has no jwk object (the only confirmation method supported)")
	}
	k, err := keys.ParseJWK(jwk)
	if err != nil {
		return keys.PublicKey{}, credential.Errorf(credential.MalformedValueError, "verify: cnf.jwk: %w", err)
	}
	if k.Type() != keys.Ed25519 && k.Type() != keys.P256 {
		return keys.PublicKey{}, credential.Errorf(credential.MalformedValueError, "verify: cnf.jwk is a %s key, which cannot sign", k.Type())
	}
	return k, nil
}

// vcInfo is what the SD-JWT VC claim rules read.
type vcInfo struct {
	issuer, vct string
	iat         int64
	status      *StatusListRef
}

// checkVCClaims applies the SD-JWT VC claim rules to a processed claim
// set whose signer's DID is issuer; checkCnf parses cnf.jwk too.
func checkVCClaims(claims map[string]any, issuer string, checkCnf bool) (vcInfo, error) {
	var info vcInfo
	vct, ok := claims["vct"].(string)
	if !ok || vct == "" {
		return info, credential.Errorf(credential.MalformedValueError, "claims: vct is missing or not a non-empty string")
	}
	iss, ok := claims["iss"].(string)
	if !ok || iss == "" {
		return info, credential.Errorf(credential.MalformedValueError, "claims: iss is missing or not a string")
	}
	if iss != issuer {
		return info, credential.Errorf(credential.IssuerMismatchError, "claims: iss %q is not the DID %q of the signing key", iss, issuer)
	}
	iat, ok, err := numericDate(claims, "iat")
	if err != nil {
		return info, err
	}
	if !ok {
		return info, credential.Errorf(credential.MalformedValueError, "claims: iat is missing")
	}
	for _, c := range []string{"nbf", "exp"} {
		if _, _, err := numericDate(claims, c); err != nil {
			return info, err
		}
	}
	if _, ok := claims["cnf"]; ok && checkCnf {
		if _, err := holderKey(claims); err != nil {
			return info, err
		}
	}
	st, err := statusOf(claims)
	if err != nil {
		return info, err
	}
	return vcInfo{issuer: iss, vct: vct, iat: iat, status: st}, nil
}

// statusOf reads status.status_list {idx, uri}; other status
// mechanisms are ignored.
func statusOf(claims map[string]any) (*StatusListRef, error) {
	raw, ok := claims["status"]
	if !ok {
		return nil, nil
	}
	st, ok := raw.(map[string]any)
	if !ok {
		return nil, credential.Errorf(credential.MalformedValueError, "claims: status is not an object")
	}
	raw, ok = st["status_list"]
	if !ok {
		return nil, nil
	}
	sl, ok := raw.(map[string]any)
	if !ok {
		return nil, credential.Errorf(credential.MalformedValueError, "claims: status.status_list is not an object")
	}
	n, ok := sl["idx"].(json.Number)
	if !ok {
		return nil, credential.Errorf(credential.MalformedValueError, "claims: status.status_list.idx is missing or not a number")
	}
	idx, err := n.Int64()
	if err != nil || idx < 0 {
		return nil, credential.Errorf(credential.MalformedValueError, "claims: status.status_list.idx %s is not a non-negative integer", n)
	}
	uri, ok := sl["uri"].(string)
	if !ok || !credential.IsURL(uri) {
		return nil, credential.Errorf(credential.MalformedValueError, "claims: status.status_list.uri is missing or not a URL")
	}
	return &StatusListRef{Index: idx, URI: uri}, nil
}

// numericDate reads a NumericDate claim (RFC 7519 section 2), truncated
// to whole seconds.
func numericDate(claims map[string]any, name string) (int64, bool, error) {
	v, ok := claims[name]
	if !ok {
		return 0, false, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, false, credential.Errorf(credential.MalformedValueError, "claims: %s is not a NumericDate", name)
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > 1e12 {
		return 0, false, credential.Errorf(credential.MalformedValueError, "claims: %s %s is not a NumericDate", name, n)
	}
	return int64(f), true, nil
}

func unixTime(t int64) string { return time.Unix(t, 0).UTC().Format(time.RFC3339) }

// hasDigests reports whether v, a claim of the issuer-signed payload,
// holds an _sd member or an array element digest ("..."), at any depth.
func hasDigests(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["_sd"]; ok {
			return true
		}
		if _, ok := x["..."]; ok {
			return true
		}
		for _, e := range x {
			if hasDigests(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasDigests(e) {
				return true
			}
		}
	}
	return false
}
