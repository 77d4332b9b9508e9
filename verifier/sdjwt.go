package verifier

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/credential/sdjwt"
)

// FormatSDJWT is the format of an SD-JWT VC in results (Result.Format).
const FormatSDJWT = sdjwt.TypVC

// Values of an entry of an IETF Token Status List (2 bits per entry).
const (
	TokenStatusValid     uint8 = 0
	TokenStatusRevoked   uint8 = 1
	TokenStatusSuspended uint8 = 2
)

// TokenStatusChecker reads the IETF Token Status Lists an SD-JWT VC's
// status.status_list claim names, from the verifier's own chain.
type TokenStatusChecker interface {
	// TokenStatus returns the value of entry idx of the Status List
	// Token at uri, which issuer must have signed, and the chain height
	// it was read at. Value 0 is valid, 1 revoked, 2 suspended; other
	// values fail verification. An error means the status could not be
	// read or verified (it fails the status check).
	TokenStatus(ctx context.Context, issuer, uri string, idx int) (value uint8, height uint64, err error)
}

// DisclosedClaims is what an SD-JWT VC revealed.
type DisclosedClaims struct {
	// Claims are the processed claims: those the issuer signed in the
	// clear and those the presented Disclosures revealed, without the
	// digests of the others ("_sd", "_sd_alg" and "..." removed).
	Claims map[string]any `json:"claims"`
	// Disclosed are the JSON pointers (RFC 6901) into Claims of the
	// claims Disclosures revealed, sorted.
	Disclosed []string `json:"disclosed"`
	// VCT is the credential type (the vct claim).
	VCT string `json:"vct"`
	// KeyBound says a key-binding JWT by the holder key (cnf.jwk) was
	// verified.
	KeyBound bool `json:"keyBound"`
}

// sdJWTInput returns the compact SD-JWT of in when in is an SD-JWT VC:
// a bare string holding "~" (a compact JWS never does), a data: URL of
// media type application/dc+sd-jwt, or an EnvelopedVerifiableCredential
// whose id is such a URL. ok is false for any other input, which the
// other forms then read.
func sdJWTInput(in any) (compact string, ok bool, err error) {
	var u string
	switch x := in.(type) {
	case string:
		if !strings.HasPrefix(x, "data:") {
			return x, strings.IndexByte(x, '~') >= 0, nil
		}
		u = x
	case map[string]any:
		id, _ := x["id"].(string)
		if !isSDJWTDataURL(id) {
			return "", false, nil
		}
		t := x["type"]
		if t != credential.TypeEnvelopedCredential && !hasString(t, credential.TypeEnvelopedCredential) {
			return "", true, credential.Errorf(credential.ParsingError, "an %s data: URL in an object whose type is not %s", sdjwt.MediaType, credential.TypeEnvelopedCredential)
		}
		if !hasBaseContext(x["@context"]) {
			return "", true, credential.Errorf(credential.ParsingError, "an enveloped credential's @context must start with %s", credential.ContextV2)
		}
		u = id
	default:
		return "", false, nil
	}
	if !isSDJWTDataURL(u) {
		return "", false, nil
	}
	text, _, err := jose.DataURLText(u)
	if err != nil {
		return "", true, err
	}
	return text, true, nil
}

// isSDJWTDataURL reports whether u is a data: URL of media type
// application/dc+sd-jwt (parameters allowed).
func isSDJWTDataURL(u string) bool {
	rest, ok := strings.CutPrefix(u, "data:")
	if !ok {
		return false
	}
	end := strings.IndexAny(rest, ";,")
	if end < 0 {
		return false
	}
	return strings.EqualFold(strings.TrimSpace(rest[:end]), sdjwt.MediaType)
}

func hasBaseContext(v any) bool {
	switch c := v.(type) {
	case string:
		return c == credential.ContextV2
	case []any:
		return len(c) > 0 && c[0] == credential.ContextV2
	}
	return false
}

// verifySDJWT runs the checks of an SD-JWT VC: parse (the compact form
// and its Disclosures), proof (the issuer's signature, every
// Disclosure's digest, the SD-JWT VC claim rules and, when present or
// asked for by opts.Challenge or opts.Domain, the key-binding JWT, whose
// nonce and aud they are), challenge (with a challenge store, as for
// presentations), validity (exp, nbf), trust (on the vct), and status
// (status.status_list, through TokenStatus).
func (v *Verifier) verifySDJWT(ctx context.Context, compact string, checks checkSet, opts Options, res *Result) {
	now, skew := v.now(), v.skew()
	r, err := sdjwt.Verify(ctx, compact, v.Keys, sdjwt.VerifyOptions{Now: now, Skew: skew, Nonce: opts.Challenge, Audience: opts.Domain, SkipValidityPeriod: true})
	// Input that is no SD-JWT, or over its bounds, fails parse; the
	// rest (signatures, Disclosures, claims, key binding) fails proof.
	switch code := credential.CodeOf(err, ""); {
	case err != nil && (code == credential.ParsingError || code == credential.LimitExceededError):
		res.fail(CheckParse, err, credential.ParsingError)
		return
	case err != nil:
		res.pass(CheckParse)
		res.Format = FormatSDJWT
		res.fail(CheckProof, err, credential.CryptographicSecurityError)
		return
	}
	res.pass(CheckParse)
	res.Format = FormatSDJWT
	res.pass(CheckProof)
	if opts.Challenge != "" && v.Challenges != nil {
		// The nonce is a challenge as a presentation's is: a node
		// challenge is spent (once the key binding verified), a relying
		// party's own accepted unless the verifier takes only its own.
		byNode := IsNodeChallenge(opts.Challenge) && v.Challenges.Authentic(opts.Challenge)
		res.ChallengeIssuedByNode = &byNode
		res.record(CheckChallenge, v.consume(opts.Challenge, opts.Domain, opts, true), credential.InvalidChallengeError)
	}
	if opts.Challenge == "" && opts.Domain != "" {
		// An audience without a nonce binds nothing to this request: a
		// captured presentation for that audience would verify again
		// and again. The relying party's challenge is the nonce.
		res.fail(CheckChallenge, credential.Errorf(credential.InvalidChallengeError, "options.domain without options.challenge: the key-binding JWT's nonce must be checked"), credential.InvalidChallengeError)
	}
	res.Issuer = r.Issuer
	// Key binding counts only when its nonce was compared with the
	// relying party's challenge: a key-binding JWT checked against
	// nothing proves possession once, not to this verifier now.
	res.Disclosed = &DisclosedClaims{Claims: r.Claims, Disclosed: r.Disclosed, VCT: r.VCT, KeyBound: r.KeyBound && opts.Challenge != ""}
	if checks.has(CheckValidity) {
		res.record(CheckValidity, sdValidity(r.Claims, now.Unix(), int64(skew.Seconds())), credential.ValidityPeriodError)
	}
	c := &credential.Credential{Issuer: r.Issuer, Types: []string{r.VCT}}
	if required := v.trustRequired(c, containsCheck(opts.Checks, CheckTrust)); len(required) > 0 {
		res.record(CheckTrust, v.trust(c, required), credential.UntrustedIssuerError)
	}
	_, hasStatus := r.Claims["status"]
	switch {
	case r.Status == nil && hasStatus && checks.has(CheckStatus):
		res.fail(CheckStatus, credential.Errorf(credential.StatusVerificationError, "the credential's status names no status_list: its mechanism is not supported"), credential.StatusVerificationError)
	case r.Status == nil && hasStatus:
		res.warn(credential.StatusRetrievalError, "the credential's status names no status_list: its status was not checked")
	case r.Status == nil:
	case checks.has(CheckStatus) || len(opts.Checks) == 0 && v.TokenStatus != nil:
		h, err := v.tokenStatus(ctx, r.Issuer, r.Status)
		res.StatusHeight = h
		res.record(CheckStatus, err, credential.StatusVerificationError)
	default:
		res.warn(credential.StatusRetrievalError, "the credential's status was not checked")
	}
}

func containsCheck(names []string, check string) bool {
	for _, n := range names {
		if CheckName(n) == check {
			return true
		}
	}
	return false
}

// sdValidity checks exp and nbf (NumericDates, which sdjwt.Verify read)
// against now, with skew, as sdjwt.Verify would.
func sdValidity(claims map[string]any, now, skew int64) error {
	if exp, ok := numericClaim(claims, "exp"); ok && now >= exp+skew {
		return credential.Errorf(credential.ValidityPeriodError, "expired at %s", credential.FormatDateTime(unix(exp)))
	}
	if nbf, ok := numericClaim(claims, "nbf"); ok && now+skew < nbf {
		return credential.Errorf(credential.ValidityPeriodError, "not valid before %s", credential.FormatDateTime(unix(nbf)))
	}
	return nil
}

// tokenStatus checks a status.status_list reference.
func (v *Verifier) tokenStatus(ctx context.Context, issuer string, ref *sdjwt.StatusListRef) (uint64, error) {
	if v.TokenStatus == nil {
		return 0, credential.Errorf(credential.StatusRetrievalError, "this verifier reads no token status lists")
	}
	if ref.Index > int64(maxTokenStatusIndex) {
		return 0, credential.Errorf(credential.StatusVerificationError, "status.status_list.idx %d is out of range", ref.Index)
	}
	value, h, err := v.TokenStatus.TokenStatus(ctx, issuer, ref.URI, int(ref.Index))
	if err != nil {
		if credential.CodeOf(err, "") != "" {
			return h, err
		}
		return h, credential.Errorf(credential.StatusRetrievalError, "%s: %v", ref.URI, err)
	}
	switch value {
	case TokenStatusValid:
		return h, nil
	case TokenStatusRevoked:
		return h, credential.Errorf(credential.CredentialRevoked, "revoked (status list %s, entry %d, height %d)", ref.URI, ref.Index, h)
	case TokenStatusSuspended:
		return h, credential.Errorf(credential.CredentialSuspended, "suspended (status list %s, entry %d, height %d)", ref.URI, ref.Index, h)
	}
	return h, credential.Errorf(credential.StatusVerificationError, "status %#x (status list %s, entry %d, height %d) is neither valid, revoked nor suspended", value, ref.URI, ref.Index, h)
}

// maxTokenStatusIndex bounds status_list.idx: far beyond any list a
// chain holds, and an int on every platform.
const maxTokenStatusIndex = 1<<31 - 1

// numericClaim reads a NumericDate claim that sdjwt.Verify accepted
// (a json.Number from 0 to 10^12), truncated to whole seconds.
func numericClaim(claims map[string]any, name string) (int64, bool) {
	n, ok := claims[name].(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	if err != nil {
		return 0, false
	}
	return int64(f), true
}

func unix(t int64) time.Time { return time.Unix(t, 0).UTC() }
