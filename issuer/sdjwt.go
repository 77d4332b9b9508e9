package issuer

import (
	"io"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/did/keys"
)

// FormatSDJWT is the SD-JWT VC mechanism (application/dc+sd-jwt), issued
// by [IssueSDJWT].
const FormatSDJWT = sdjwt.TypVC

// SetBySDJWTIssuer lists the claims [IssueSDJWT] sets itself and refuses
// from the caller: iat (the issuance time), cnf (from the holder key)
// and status (from the node's status service). "iss" may be given only
// as the issuer's DID.
var SetBySDJWTIssuer = []string{"iat", "cnf", "status"}

// SDJWTOptions are the options of [IssueSDJWT].
type SDJWTOptions struct {
	// HolderKey is the holder's public key, the cnf.jwk that must sign
	// key-binding JWTs: required, Ed25519 or P-256.
	HolderKey keys.PublicKey
	// Disclosable lists the JSON pointers (RFC 6901) of the selectively
	// disclosable claims. Nil means the default: every top-level claim
	// but vct, iss, iat, nbf, exp, cnf, status (sdjwt.NonDisclosable)
	// and jti; an empty, non-nil list makes nothing disclosable.
	Disclosable []string
	// Status, when set, is the "status" claim ({"status_list": {"idx",
	// "uri"}}).
	Status map[string]any
	// Now is the issuance time (the iat claim).
	Now time.Time
	// Random is the source of salts; nil means crypto/rand.
	Random io.Reader
}

// MaxDisclosable bounds SDJWTOptions.Disclosable.
const MaxDisclosable = sdjwt.DefaultMaxDisclosures

// IssueSDJWT secures claims, an SD-JWT VC claim set ("vct" and any
// claims), as an SD-JWT VC signed by signer (typ dc+sd-jwt, kid the
// signer's DID URL): it sets iss (the signer's DID), iat (opts.Now), cnf
// (opts.HolderKey) and status (opts.Status), and makes opts.Disclosable
// (or the default) selectively disclosable. It returns the compact
// SD-JWT with every Disclosure, without a key-binding JWT. The input is
// not modified. Errors carry MALFORMED_VALUE_ERROR (bad claims, holder
// key or pointers), ISSUER_MISMATCH_ERROR (iss not the signer's DID) or
// PROOF_GENERATION_ERROR.
func IssueSDJWT(claims map[string]any, signer credential.Signer, opts SDJWTOptions) (string, error) {
	if claims == nil {
		return "", credential.Errorf(credential.MalformedValueError, "no claims")
	}
	if vct, ok := claims["vct"].(string); !ok || vct == "" {
		return "", credential.Errorf(credential.MalformedValueError, "vct is missing or not a non-empty string")
	}
	if iss, ok := claims["iss"]; ok && iss != credential.ControllerOf(signer.MethodID()) {
		return "", credential.Errorf(credential.IssuerMismatchError, "iss %v is not this issuer (%s)", iss, credential.ControllerOf(signer.MethodID()))
	}
	for _, c := range SetBySDJWTIssuer {
		if _, ok := claims[c]; ok {
			return "", credential.Errorf(credential.MalformedValueError, "claim %q is set by the issuer, not the request", c)
		}
	}
	if opts.HolderKey.IsZero() {
		return "", credential.Errorf(credential.MalformedValueError, "a holder key (cnf) is required: wallets present SD-JWT VCs with key binding")
	}
	if t := opts.HolderKey.Type(); t != keys.Ed25519 && t != keys.P256 {
		return "", credential.Errorf(credential.MalformedValueError, "holder key type %s: use Ed25519 or P-256", t)
	}
	if opts.Now.IsZero() {
		return "", credential.Errorf(credential.ProofGenerationError, "no issuance time")
	}
	if len(opts.Disclosable) > MaxDisclosable {
		return "", credential.Errorf(credential.LimitExceededError, "%d disclosable claims, at most %d", len(opts.Disclosable), MaxDisclosable)
	}
	cs := maps.Clone(claims)
	if opts.Status != nil {
		cs["status"] = opts.Status
	}
	disclosable := opts.Disclosable
	if disclosable == nil {
		disclosable = DefaultDisclosable(cs)
	}
	return sdjwt.Issue(cs, signer, sdjwt.IssueOptions{Disclosable: disclosable, Random: opts.Random, IssuedAt: opts.Now, HolderKey: opts.HolderKey})
}

// DefaultDisclosable returns the pointers of the claims disclosable by
// default: every top-level claim of claims but those of
// sdjwt.NonDisclosable and jti, sorted.
func DefaultDisclosable(claims map[string]any) []string {
	out := make([]string, 0, len(claims))
	for name := range claims {
		if slices.Contains(sdjwt.NonDisclosable, name) || name == "jti" {
			continue
		}
		out = append(out, "/"+escapePointer(name))
	}
	sort.Strings(out)
	return out
}

// escapePointer escapes a JSON pointer reference token (RFC 6901).
func escapePointer(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '~':
			b = append(b, '~', '0')
		case '/':
			b = append(b, '~', '1')
		default:
			b = append(b, s[i])
		}
	}
	return string(b)
}

// ParseHolderKey reads a holder's public JWK for [SDJWTOptions]: Ed25519
// (OKP) or P-256 (EC) only, no private member, and an "alg", when
// present, that fits the key. Errors carry MALFORMED_VALUE_ERROR.
func ParseHolderKey(jwk map[string]any) (keys.PublicKey, error) {
	if jwk == nil {
		return keys.PublicKey{}, credential.Errorf(credential.MalformedValueError, "the holder key must be a JWK object")
	}
	k, err := keys.ParseJWK(jwk)
	if err != nil {
		return keys.PublicKey{}, credential.Errorf(credential.MalformedValueError, "holder key: %v", err)
	}
	var algs []string
	switch k.Type() {
	case keys.Ed25519:
		algs = []string{"EdDSA", "Ed25519"}
	case keys.P256:
		algs = []string{"ES256"}
	default:
		return keys.PublicKey{}, credential.Errorf(credential.MalformedValueError, "holder key type %s: use Ed25519 or P-256", k.Type())
	}
	if alg, ok := jwk["alg"]; ok && !slices.Contains(algs, stringOf(alg)) {
		return keys.PublicKey{}, credential.Errorf(credential.MalformedValueError, "holder key alg %v does not fit a %s key", alg, k.Type())
	}
	return k, nil
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}
