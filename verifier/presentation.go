package verifier

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/credential/ld"
)

// VerifyPresentation verifies a presentation (secured with Data Integrity
// or enveloped as application/vp+jwt): the holder's proof with the
// authentication purpose, challenge and domain; the challenge against the
// store (a node challenge is accepted once; a relying party's own, when
// the verifier accepts those, as given); then every credential it
// carries, with the same checks; and, if asked, that the holder is each
// credential's subject.
func (v *Verifier) VerifyPresentation(ctx context.Context, in any, opts Options) Result {
	res := newResult()
	checks, err := selected(opts.Checks, defaultPresentationChecks, CheckHolderBinding, CheckValidity, CheckRelatedResource, CheckStatus, CheckSchema)
	if err != nil {
		res.fail(CheckParse, err, credential.MalformedValueError)
		return res
	}
	if checks.has(CheckStatus) || checks.has(CheckSchema) {
		// Checks of the credentials: asking for them is asking for the
		// credentials to be verified.
		checks |= checkBits[CheckCredentials]
	}
	challenge, domain := opts.Challenge, opts.Domain
	if len(challenge) > MaxChallengeBytes {
		res.fail(CheckChallenge, credential.Errorf(credential.InvalidChallengeError, "%v: %d bytes, at most %d", ErrChallengeTooLong, len(challenge), MaxChallengeBytes), credential.InvalidChallengeError)
		return res
	}
	if challenge != "" {
		byNode := v.Challenges != nil && IsNodeChallenge(challenge) && v.Challenges.Authentic(challenge)
		res.ChallengeIssuedByNode = &byNode
	}
	token, media, obj, err := form(in, jose.MediaTypeVP)
	if err != nil {
		res.fail(CheckParse, err, credential.ParsingError)
		return res
	}
	var key credential.VerificationKey
	if token != "" {
		var ok bool
		if obj, key, ok = v.verifyJWS(ctx, token, media, "vp+jwt", jose.VerifyOptions{Now: v.now(), Nonce: challenge, Audience: domain}, &res); !ok {
			return res
		}
	}
	if err := checkBounds(obj); err != nil {
		res.fail(CheckParse, err, credential.LimitExceededError)
		return res
	}
	// One JSON-LD budget for the presentation and every credential it
	// carries: the request's work is bounded as one document's.
	budget := ld.NewBudget(ld.Options{})
	if f := budgetHook.Load(); f != nil {
		(*f)(budget)
	}
	p, err := credential.PresentationFrom(obj)
	if err == nil {
		// The members read below must be what the proof signs.
		err = ld.CheckTerms(ctx, obj, ld.Options{Budget: budget, Ignore: claimsOf(token != "")})
	}
	if err == nil && p.Enveloped {
		err = credential.Errorf(credential.MalformedValueError, "an enveloped presentation must not envelope another")
	}
	if err != nil {
		res.fail(CheckParse, err, credential.MalformedValueError)
		return res
	}
	res.pass(CheckParse)
	res.Document, res.Holder = obj, p.Holder
	if checks.has(CheckContext) {
		res.record(CheckContext, knownContexts(obj), credential.UnknownContextError)
	}
	var proofErr error
	if token == "" {
		key, proofErr = v.verifyDI(ctx, obj, p.Holder, dataintegrity.VerifyOptions{
			ExpectedProofPurpose: credential.PurposeAuthentication, Challenge: challenge, Domain: domain, Now: v.now(), Skew: v.skew(),
			Budget: budget,
		}, &res)
		res.record(CheckProof, proofErr, credential.ProofVerificationError)
	} else {
		res.pass(CheckProof)
	}
	holder := p.Holder
	if holder == "" {
		holder = key.Controller
	}
	res.Holder = holder
	// The challenge is spent only by a presentation whose proof verified,
	// so that nobody can burn another's challenge with a forged one. A
	// challenge given is always spent, whatever checks were selected.
	if (checks.has(CheckChallenge) || challenge != "") && v.Challenges != nil {
		res.record(CheckChallenge, v.consume(challenge, domain, opts, res.Verified), credential.InvalidChallengeError)
	}
	switch {
	case !checks.has(CheckCredentials):
	case proofErr != nil:
		// Whoever sent a presentation its holder did not sign gets no
		// work done on the credentials in it.
		res.Credentials = skipped(p.Credentials)
		res.fail(CheckCredentials, errCredentialsSkipped, credential.ProofVerificationError)
	default:
		ok := true
		credChecks := v.passDown(checks)
		for i, c := range p.Credentials {
			cr := v.VerifyCredential(ctx, c, Options{budget: budget, Checks: credChecks, inPresentation: true})
			res.Credentials = append(res.Credentials, cr)
			if !cr.Verified && ok {
				ok = false
				pd := cr.ProblemDetails[0]
				pd.Detail = fmt.Sprintf("credential %d: %s", i+1, pd.Detail)
				res.failWith(CheckCredentials, pd)
			}
		}
		if ok {
			res.pass(CheckCredentials)
		}
	}
	if opts.HolderBinding || checks.has(CheckHolderBinding) {
		res.record(CheckHolderBinding, holderBinding(holder, res.Credentials), credential.HolderBindingError)
	}
	return res
}

// budgetHook, when set (tests), is given each presentation's budget.
var budgetHook atomic.Pointer[func(*ld.Budget)]

// errCredentialsSkipped is the problem of a presentation's credentials
// when its holder's proof failed: they are not checked.
var errCredentialsSkipped = credential.Errorf(credential.ProofVerificationError,
	"not checked: the presentation's proof did not verify")

// skipped are the results of credentials that were not checked: not
// verified, with errCredentialsSkipped as their problem and, for those
// the document.
func skipped(creds []map[string]any) []Result {
	out := make([]Result, 0, len(creds))
	for _, c := range creds {
		r := newResult()
		r.Document = c
		r.fail(CheckProof, errCredentialsSkipped, credential.ProofVerificationError)
		out = append(out, r)
	}
	return out
}

func (v *Verifier) consume(challenge, domain string, opts Options, verified bool) error {
	switch {
	case challenge == "" && opts.AllowNoChallenge:
		return nil
	case challenge == "" && v.AcceptCallerChallenges:
		return credential.Errorf(credential.InvalidChallengeError, "no challenge: options.challenge must be the relying party's challenge for the presentation (one this verifier issued with POST /challenges, or its own)")
	case challenge == "":
		return credential.Errorf(credential.InvalidChallengeError, "no challenge: options.challenge must be the challenge this verifier issued (POST /challenges) for the presentation")
	case !IsNodeChallenge(challenge) && !v.AcceptCallerChallenges:
		return credential.Errorf(credential.InvalidChallengeError, "%v: this verifier accepts only the challenges it issues (POST /challenges)", ErrChallengeUnknown)
	case !IsNodeChallenge(challenge) && !verified:
		return credential.Errorf(credential.InvalidChallengeError, "not accepted: the presentation failed an earlier check")
	case !IsNodeChallenge(challenge):
		// The relying party's own: the proof carries it (the proof check
		// compared them); its freshness is the relying party's business.
		return nil
	case !verified:
		// Report the challenge's state without spending it.
		if err := v.Challenges.Check(challenge, domain); err != nil {
			return credential.Errorf(credential.InvalidChallengeError, "%v", err)
		}
		return credential.Errorf(credential.InvalidChallengeError, "not accepted: the presentation failed an earlier check")
	}
	if err := v.Challenges.Consume(challenge, domain); err != nil {
		return credential.Errorf(credential.InvalidChallengeError, "%v", err)
	}
	return nil
}

// passDown returns the checks a presentation's credentials run: their
// defaults, plus status and schema when the presentation's checks name
// them (status or credentialStatus, schema or credentialSchema), so that
// a relying party can require them of every credential as it would of
// one alone (a schema idmesh cannot check then fails, as asked). Nil,
// the defaults, when neither is named.
func (v *Verifier) passDown(checks checkSet) []string {
	var named []string
	for _, n := range []string{CheckStatus, CheckSchema} {
		if checks.has(n) {
			named = append(named, n)
		}
	}
	if named == nil {
		return nil
	}
	return append(slices.Clone(v.credentialChecks()), named...)
}

// holderBinding checks that the holder is a subject of every credential.
func holderBinding(holder string, results []Result) error {
	if holder == "" {
		return credential.Errorf(credential.HolderBindingError, "the presentation names no holder")
	}
	for i, r := range results {
		c, err := credential.CredentialFrom(r.Document)
		if err != nil {
			return credential.Errorf(credential.HolderBindingError, "credential %d could not be read", i+1)
		}
		if !slices.Contains(c.SubjectIDs(), holder) {
			return credential.Errorf(credential.HolderBindingError, "credential %d is not about %s", i+1, holder)
		}
	}
	return nil
}
