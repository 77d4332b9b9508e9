package verifier

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/credential/ld"
	"github.com/idmesh/idmesh/credential/schema"
)

// Verifier runs the checks. Its zero value is not usable: Keys is required.
type Verifier struct {
	// Keys finds issuers' and holders' keys.
	Keys credential.KeyResolver
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Skew is the clock skew tolerated on validity periods and proof
	// dates; default one minute.
	Skew time.Duration
	// Challenges, when set, issues presentation challenges and accepts
	// each once; a presentation must then carry one of them, or, with
	// AcceptCallerChallenges, the relying party's own.
	Challenges *Challenges
	// AcceptCallerChallenges accepts, besides the challenges Challenges
	// issued, a relying party's own challenge (options.challenge without
	// the node challenge prefix, see [IsNodeChallenge]): the proof must
	// carry it, and the relying party answers for its being fresh and
	// used once. Results say which kind a presentation answered
	// (Result.ChallengeIssuedByNode). A challenge in the node form is
	// always held to the store: its tag must verify, and it must be
	// unspent, unexpired and still held. False (the zero value) accepts
	// node challenges only.
	AcceptCallerChallenges bool
	// Lists, when set, serves the status lists of the verifier's chain;
	// the status check then runs by default.
	Lists StatusLists
	// Schemas serves credential schemas; the schema check runs when a
	// credential names one. A schema it cannot check (not JsonSchema, or
	// not held) is a SCHEMA_NOT_CHECKED warning, or the check's failure
	// when the caller asked for it in Options.Checks.
	Schemas SchemaSource
	// TokenStatus, when set, reads the IETF Token Status Lists of SD-JWT
	// VCs (status.status_list); the status check of an SD-JWT VC then
	// runs by default. Without it a status claim is reported as not
	// checked (a warning), or fails the status check when the caller
	// asks for it.
	TokenStatus TokenStatusChecker
	// Trust and TrustPolicy drive the trust check.
	Trust       TrustRegistry
	TrustPolicy TrustPolicy

	lists    listCache
	compiler schema.Compiler // compiled schemas, by content hash
}

// Options select what VerifyCredential and VerifyPresentation check.
type Options struct {
	// Checks names the checks to run; empty means the defaults. Parsing
	// and the proof always run: a result without them means nothing.
	Checks []string
	// Challenge and Domain are what the presentation's proof must carry:
	// the caller's own, never read from the presentation (a presentation
	// made for another relying party would then pass). With Challenges
	// set, Challenge must be one this verifier issued, for Domain, or
	// (with AcceptCallerChallenges) one without the node challenge
	// prefix. At most MaxChallengeBytes.
	Challenge, Domain string
	// AllowNoChallenge accepts a presentation without a challenge (which
	// can be replayed) when the verifier has a challenge store.
	AllowNoChallenge bool
	// HolderBinding requires every credential's subject to be the holder
	// whose key signed the presentation.
	HolderBinding bool

	// budget is the JSON-LD work budget shared by the documents of one
	// presentation; nil: one document's bounds.
	budget *ld.Budget
	// inPresentation: the credential is one a presentation carries.
	inPresentation bool
}

// Default checks.
var (
	defaultCredentialChecks   = []string{CheckContext, CheckProof, CheckValidity, CheckRelatedResource}
	defaultPresentationChecks = []string{CheckContext, CheckProof, CheckChallenge, CheckCredentials}
)

// checkSet is a set of checks; a bit per name in checkBits.
type checkSet uint32

var checkBits = map[string]checkSet{}

func init() {
	for i, n := range []string{CheckParse, CheckContext, CheckProof, CheckValidity, CheckRelatedResource, CheckChallenge,
		CheckHolderBinding, CheckCredentials, CheckStatus, CheckSchema, CheckTrust} {
		checkBits[n] = 1 << i
	}
}

func (s checkSet) has(name string) bool { return s&checkBits[name] != 0 }

// selected returns the checks to run, aliases resolved, or an error for
// an unknown name. A check named twice (status and credentialStatus) is
// one bit: it runs once.
func selected(names, defaults []string, extra ...string) (checkSet, error) {
	out := checkBits[CheckParse] | checkBits[CheckProof]
	if len(names) == 0 {
		for _, n := range defaults {
			out |= checkBits[n]
		}
		return out, nil
	}
	for _, name := range names {
		n := CheckName(name)
		if !slices.Contains(defaults, n) && !slices.Contains(extra, n) && n != CheckParse {
			return 0, credential.Errorf(credential.MalformedValueError, "unknown check %q (%s)", name, knownChecks(defaults, extra))
		}
		out |= checkBits[n]
	}
	return out, nil
}

// knownChecks describes the names accepted where defaults and extra are
// the checks: each once, in order, then the aliases of those checks,
// sorted ("known: context, proof, validity; also: expiration (validity)").
func knownChecks(defaults, extra []string) string {
	var known []string
	for _, n := range append(slices.Clone(defaults), extra...) {
		if !slices.Contains(known, n) {
			known = append(known, n)
		}
	}
	var aliases []string
	for a, n := range checkAliases {
		if slices.Contains(known, n) {
			aliases = append(aliases, a+" ("+n+")")
		}
	}
	slices.Sort(aliases)
	s := "known: " + strings.Join(known, ", ")
	if len(aliases) > 0 {
		s += "; also: " + strings.Join(aliases, ", ")
	}
	return s
}

// credentialChecks are the checks that run by default.
func (v *Verifier) credentialChecks() []string {
	if v.Lists != nil {
		return defaultCredentialChecksWithStatus
	}
	return defaultCredentialChecks
}

var defaultCredentialChecksWithStatus = append(slices.Clone(defaultCredentialChecks), CheckStatus)

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) skew() time.Duration {
	if v.Skew > 0 {
		return v.Skew
	}
	return time.Minute
}

// VerifyCredential verifies a credential given as a JSON object (secured
// with Data Integrity, or an EnvelopedVerifiableCredential), a compact
// JWS, or a data: URL. An SD-JWT VC (application/dc+sd-jwt: a bare
// compact SD-JWT, its data: URL, or an EnvelopedVerifiableCredential of
// it) is verified as such: opts.Challenge and opts.Domain are then the
// key-binding JWT's expected nonce and aud, and require one; the result
// lists the disclosed claims (Result.Disclosed).
func (v *Verifier) VerifyCredential(ctx context.Context, in any, opts Options) Result {
	res := newResult()
	checks, err := selected(opts.Checks, v.credentialChecks(), CheckRelatedResource, CheckStatus, CheckSchema, CheckTrust)
	if err != nil {
		res.fail(CheckParse, err, credential.MalformedValueError)
		return res
	}
	if compact, ok, err := sdJWTInput(in); ok {
		if err == nil && opts.inPresentation {
			// Its key-binding JWT is how an SD-JWT VC is presented:
			// inside another presentation nothing would bind it.
			err = credential.Errorf(credential.ParsingError, "%w: an SD-JWT VC is presented on its own, with a key-binding JWT (POST /credentials/verify), not inside a verifiable presentation", jose.ErrUnsupportedMediaType)
		}
		if err != nil {
			res.fail(CheckParse, err, credential.ParsingError)
			return res
		}
		v.verifySDJWT(ctx, compact, checks, opts, &res)
		return res
	}
	token, media, obj, err := form(in, jose.MediaTypeVC)
	if err != nil {
		res.fail(CheckParse, err, credential.ParsingError)
		return res
	}
	var key credential.VerificationKey
	var proofErr error
	jwtVC := token != "" && isBare(in) && jose.IsJWTVC(token)
	if token != "" {
		var ok bool
		if jwtVC {
			obj, key, ok = v.verifyJWTVC(ctx, token, &res)
		} else {
			obj, key, ok = v.verifyJWS(ctx, token, media, "vc+jwt", jose.VerifyOptions{Now: v.now()}, &res)
		}
		if !ok {
			return res
		}
	}
	if err := checkBounds(obj); err != nil {
		res.fail(CheckParse, err, credential.LimitExceededError)
		return res
	}
	c, err := credential.CredentialFrom(obj)
	if err == nil {
		// The members read below must be what the proof signs.
		err = ld.CheckTerms(ctx, obj, ld.Options{Budget: opts.budget, Ignore: claimsOf(token != "")})
	}
	if err == nil && c.Enveloped {
		err = credential.Errorf(credential.MalformedValueError, "an enveloped credential must not envelope another")
	}
	if err == nil && jwtVC && c.Version != credential.V1 {
		err = credential.Errorf(credential.MalformedValueError, "a %s credential is a VC Data Model 1.1 credential (@context %s first); 2.0 credentials use vc+jwt", jose.FormatJWTVC, credential.ContextV1)
	}
	if err != nil {
		res.fail(CheckParse, err, credential.MalformedValueError)
		return res
	}
	res.pass(CheckParse)
	res.Document, res.Issuer = obj, c.Issuer
	if checks.has(CheckContext) {
		res.record(CheckContext, knownContexts(obj), credential.UnknownContextError)
	}
	if token == "" {
		key, proofErr = v.verifyDI(ctx, obj, c.Issuer, dataintegrity.VerifyOptions{ExpectedProofPurpose: credential.PurposeAssertion, Now: v.now(), Skew: v.skew(), Budget: opts.budget}, &res)
		res.record(CheckProof, proofErr, credential.ProofVerificationError)
	} else {
		res.pass(CheckProof)
	}
	_ = key
	if checks.has(CheckValidity) {
		res.record(CheckValidity, v.validity(c), credential.ValidityPeriodError)
	}
	if checks.has(CheckRelatedResource) && len(c.RelatedResources) > 0 {
		res.record(CheckRelatedResource, relatedResources(c, &res), credential.ResourceIntegrityError)
	}
	switch {
	case len(c.Schemas) == 0:
	case checks.has(CheckSchema) || len(opts.Checks) == 0:
		v.schema(c, len(opts.Checks) > 0, &res)
	default:
		res.warn(credential.SchemaValidationError, "the credential's schema was not checked")
	}
	if required := v.trustRequired(c, slices.Contains(opts.Checks, CheckTrust)); len(required) > 0 {
		res.record(CheckTrust, v.trust(c, required), credential.UntrustedIssuerError)
	}
	switch {
	case len(c.Status) == 0:
	case checks.has(CheckStatus):
		h, err := v.status(ctx, c)
		res.StatusHeight = h
		res.record(CheckStatus, err, credential.StatusVerificationError)
	default:
		res.warn(credential.StatusRetrievalError, "the credential's status was not checked")
	}
	return res
}

// jwtClaims are the registered JWT claims that a vc+jwt or vp+jwt payload
// may carry beside the data model's members (RFC 7519, and "nonce" and
// "cnf"): they are not JSON-LD terms, and jose.Verify checks those it
// gives meaning to.
var jwtClaims = []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "nonce", "cnf"}

// claimsOf returns the members ld.CheckTerms leaves out of a document:
// jwtClaims when it is a JWT's payload.
func claimsOf(jwt bool) []string {
	if jwt {
		return jwtClaims
	}
	return nil
}

// checkBounds refuses a document over credential/ld's bounds on size and
// nesting (LIMIT_EXCEEDED_ERROR) before any other work is done on it,
// whatever its securing mechanism: the work of every check is bounded by
// them.
func checkBounds(obj map[string]any) error {
	return ld.CheckDocument(obj, ld.Options{})
}

// verifyJWS verifies an enveloped credential or presentation: the JWS
// must verify before its payload is worth parsing. A failure is recorded
// under parse or proof.
func (v *Verifier) verifyJWS(ctx context.Context, token, media, format string, o jose.VerifyOptions, res *Result) (map[string]any, credential.VerificationKey, bool) {
	obj, text, key, err := jose.VerifyJSON(ctx, token, media, v.Keys, o)
	if err == nil {
		res.signed = signedText{text: text, obj: obj, n: len(obj)}
	}
	return recordJOSE(obj, key, err, format, res)
}

// verifyJWTVC verifies a VC Data Model 1.1 JWT (jwt_vc_json) and returns
// the credential it secures; a failure is recorded under parse or proof.
func (v *Verifier) verifyJWTVC(ctx context.Context, token string, res *Result) (map[string]any, credential.VerificationKey, bool) {
	obj, key, err := jose.VerifyJWTVC(ctx, token, v.Keys, jose.VerifyOptions{})
	return recordJOSE(obj, key, err, jose.FormatJWTVC, res)
}

// recordJOSE records the outcome of a JOSE verification in format: a
// token that does not parse fails parse, any other failure fails proof.
func recordJOSE(obj map[string]any, key credential.VerificationKey, err error, format string, res *Result) (map[string]any, credential.VerificationKey, bool) {
	switch {
	case err != nil && isParseError(err):
		res.fail(CheckParse, err, credential.ParsingError)
		return nil, key, false
	case err != nil:
		res.pass(CheckParse)
		res.Format = format
		res.fail(CheckProof, err, credential.CryptographicSecurityError)
		return nil, key, false
	}
	res.Format = format
	return obj, key, true
}

// isBare reports whether in is a bare token: a string that is not a data:
// URL (the 1.1 JWT has no enveloped form).
func isBare(in any) bool {
	s, ok := in.(string)
	return ok && !strings.HasPrefix(s, "data:")
}

// form tells the secured forms apart: a compact JWS (a bare token or a
// data: URL, or an enveloping object) or an object secured with embedded
// proofs. An enveloped form must carry wantMedia: a presentation's JWS
// (signed with an authentication key, holder optional) must never pass
// for a credential, nor a credential's for a presentation.
func form(in any, wantMedia string) (token, media string, obj map[string]any, err error) {
	switch x := in.(type) {
	case string:
		if !strings.HasPrefix(x, "data:") {
			return x, wantMedia, nil, nil
		}
		token, media, err = jose.DataURLText(x)
	case map[string]any:
		t := x["type"]
		if t != credential.TypeEnvelopedCredential && t != credential.TypeEnvelopedPresentation &&
			!hasString(t, credential.TypeEnvelopedCredential) && !hasString(t, credential.TypeEnvelopedPresentation) {
			return "", "", x, nil
		}
		token, media, err = jose.Unenvelope(x)
	case nil:
		return "", "", nil, credential.Errorf(credential.ParsingError, "no document")
	default:
		return "", "", nil, credential.Errorf(credential.ParsingError, "a document must be a JSON object or a string")
	}
	if err != nil {
		return "", "", nil, err
	}
	if mt, _, _ := strings.Cut(media, ";"); !strings.EqualFold(strings.TrimSpace(mt), wantMedia) {
		return "", "", nil, credential.Errorf(credential.ParsingError, "%w: %s where %s is expected", jose.ErrUnsupportedMediaType, mt, wantMedia)
	}
	return token, wantMedia, nil, nil
}

func hasString(v any, s string) bool {
	arr, ok := v.([]any)
	return ok && slices.Contains(arr, any(s))
}

func isParseError(err error) bool {
	switch credential.CodeOf(err, "") {
	case credential.ParsingError, credential.MalformedValueError:
		return true
	}
	return errors.Is(err, jose.ErrUnsupportedMediaType) || errors.Is(err, jose.ErrInvalidDataURL)
}

// verifyDI verifies the embedded proofs and that each was made by a key
// of want (the issuer, or the holder when want is empty and then set).
func (v *Verifier) verifyDI(ctx context.Context, obj map[string]any, want string, o dataintegrity.VerifyOptions, res *Result) (credential.VerificationKey, error) {
	if _, ok := obj["proof"]; !ok {
		return credential.VerificationKey{}, credential.Errorf(credential.MalformedProofError, "no proof")
	}
	r, err := dataintegrity.Verify(ctx, obj, v.Keys, o)
	if len(r.Proofs) > 0 {
		res.Format = r.Proofs[0].Proof.Name()
	}
	if err != nil {
		return credential.VerificationKey{}, err
	}
	var key credential.VerificationKey
	for _, p := range r.Proofs {
		if want != "" && p.Key.Controller != want {
			return credential.VerificationKey{}, credential.Errorf(credential.IssuerMismatchError,
				"proof by %s, whose controller is not %s", p.Proof.VerificationMethod, want)
		}
		key = p.Key
	}
	return key, nil
}

// validity checks the validity period against the clock, with skew.
func (v *Verifier) validity(c *credential.Credential) error {
	now, skew := v.now(), v.skew()
	if !c.ValidFrom.IsZero() && now.Add(skew).Before(c.ValidFrom) {
		return credential.Errorf(credential.ValidityPeriodError, "not valid before %s", credential.FormatDateTime(c.ValidFrom))
	}
	if !c.ValidUntil.IsZero() && now.Add(-skew).After(c.ValidUntil) {
		return credential.Errorf(credential.ValidityPeriodError, "expired at %s", credential.FormatDateTime(c.ValidUntil))
	}
	return nil
}

// knownContexts checks that every context a document names by URL is one
// this verifier bundles: nothing is fetched, so an unknown context cannot
// be checked and is refused.
func knownContexts(obj map[string]any) error {
	var list []any
	switch c := obj["@context"].(type) {
	case string:
		list = []any{c}
	case []any:
		list = c
	}
	for _, e := range list {
		if u, ok := e.(string); ok {
			if !bundled()[u] {
				return credential.Errorf(credential.UnknownContextError, "context %s is not known to this verifier", u)
			}
		}
	}
	return nil
}

// bundled is the set of context URLs the verifier has.
var bundled = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, u := range ld.Known() {
		m[u] = true
	}
	return m
})

// relatedResources checks the digests of the related resources this
// verifier holds (the bundled contexts); the others are warnings.
func relatedResources(c *credential.Credential, res *Result) error {
	unchecked, err := credential.CheckRelatedResources(c.RelatedResources, ld.Context)
	for _, id := range unchecked {
		res.warn(credential.ResourceIntegrityError, fmt.Sprintf("%s was not checked: not available offline", id))
	}
	return err
}
