package verifier

import (
	"errors"
	"reflect"

	"github.com/idmesh/idmesh/credential"
)

// Names of the checks a caller can select. CheckParse always runs.
const (
	CheckParse           = "parse"
	CheckContext         = "context"
	CheckProof           = "proof"
	CheckValidity        = "validity"
	CheckRelatedResource = "relatedResource"
	CheckChallenge       = "challenge"
	CheckHolderBinding   = "holderBinding"
	CheckCredentials     = "credentials"
)

// checkAliases maps the names other implementations send in
// options.checks (the VC-API's spellings, after the credential's
// properties) to ours. A check runs and is reported once, under our name,
// however many of its names a caller sends.
var checkAliases = map[string]string{
	"expiration":       CheckValidity,
	"validFrom":        CheckValidity,
	"validUntil":       CheckValidity,
	"issuanceDate":     CheckValidity,
	"credentialStatus": CheckStatus,
	"credentialSchema": CheckSchema,
}

// CheckName returns the name a check is run and reported under: name
// itself, or the check an alias of it names (credentialStatus: status).
// An unknown name is returned as it is.
func CheckName(name string) string {
	if a, ok := checkAliases[name]; ok {
		return a
	}
	return name
}

// ProblemDetail is an RFC 9457 problem details object as the VC Data
// Model's verification results carry them.
type ProblemDetail struct {
	Type   string `json:"type"`
	Code   int    `json:"code,omitempty"`
	Title  string `json:"title"`
	Detail string `json:"detail,omitempty"`
}

// CheckResult is the outcome of one named check.
type CheckResult struct {
	Check    string         `json:"check"`
	Verified bool           `json:"verified"`
	Problem  *ProblemDetail `json:"problem,omitempty"`
}

// Result is a verification result: the VC-API's members (verified, checks,
// warnings, errors) with RFC 9457 problemDetails, and each check's outcome.
type Result struct {
	// Verified is true when every check that ran passed.
	Verified bool `json:"verified"`
	// Checks lists the checks that ran, in order.
	Checks []string `json:"checks"`
	// Results has one entry per check that ran.
	Results []CheckResult `json:"results"`
	// Warnings are problems that did not fail verification.
	Warnings []ProblemDetail `json:"warnings"`
	// Errors and ProblemDetails list the failures (the same objects;
	// errors is the older VC-API name).
	Errors         []ProblemDetail `json:"errors"`
	ProblemDetails []ProblemDetail `json:"problemDetails"`
	// Format is the securing mechanism: eddsa-rdfc-2022, eddsa-jcs-2022,
	// Ed25519Signature2020, vc+jwt, jwt_vc_json or dc+sd-jwt (vp+jwt for
	// presentations).
	Format string `json:"format,omitempty"`
	// Issuer (credentials) or Holder (presentations) whose key verified.
	Issuer string `json:"issuer,omitempty"`
	Holder string `json:"holder,omitempty"`
	// Document is the verified credential or presentation; for an
	// enveloped one, the decoded payload.
	Document map[string]any `json:"document,omitempty"`
	// ChallengeIssuedByNode, for a presentation verified against a
	// challenge (options.challenge), says whether the challenge is one
	// this node issued (POST /challenges; its tag verifies) or the
	// relying party's own (false).
	ChallengeIssuedByNode *bool `json:"challengeIssuedByNode,omitempty"`
	// StatusHeight is the chain height the status lists were read at.
	StatusHeight uint64 `json:"statusHeight,omitempty"`
	// Disclosed, for an SD-JWT VC, holds the claims it revealed.
	Disclosed *DisclosedClaims `json:"disclosedClaims,omitempty"`
	// Credentials are the results of a presentation's credentials.
	Credentials []Result `json:"credentialResults,omitempty"`

	// signed is the JSON text of a JWT's payload, when it is what
	// encoding/json writes for the payload (jose.VerifyJSON); AppendJSON
	// writes it for Document while Document is still that payload.
	signed signedText
}

// signedText is a decoded JSON object and its JSON text.
type signedText struct {
	text string
	obj  map[string]any
	n    int // members of obj when it was decoded
}

// of returns the text when doc is still obj (the same map, with as many
// members), else "".
func (s signedText) of(doc map[string]any) string {
	if s.text == "" || len(doc) != s.n || reflect.ValueOf(doc).UnsafePointer() != reflect.ValueOf(s.obj).UnsafePointer() {
		return ""
	}
	return s.text
}

func newResult() Result {
	return Result{Verified: true, Checks: make([]string, 0, 8), Results: make([]CheckResult, 0, 8), Warnings: []ProblemDetail{}, Errors: []ProblemDetail{}, ProblemDetails: []ProblemDetail{}}
}

// pass records a passed check.
func (r *Result) pass(check string) {
	r.Checks = append(r.Checks, check)
	r.Results = append(r.Results, CheckResult{Check: check, Verified: true})
}

// fail records a failed check with the problem err describes.
func (r *Result) fail(check string, err error, fallback credential.Code) {
	r.failWith(check, Problem(err, fallback))
}

// failWith records a failed check with its problem.
func (r *Result) failWith(check string, p ProblemDetail) {
	r.Verified = false
	r.Checks = append(r.Checks, check)
	r.Results = append(r.Results, CheckResult{Check: check, Verified: false, Problem: &p})
	r.Errors = append(r.Errors, p)
	r.ProblemDetails = append(r.ProblemDetails, p)
}

// record passes or fails check by err.
func (r *Result) record(check string, err error, fallback credential.Code) {
	if err != nil {
		r.fail(check, err, fallback)
	} else {
		r.pass(check)
	}
}

func (r *Result) warn(code credential.Code, detail string) {
	r.Warnings = append(r.Warnings, ProblemDetail{Type: code.Type(), Code: numbers[code], Title: titles[code], Detail: detail})
}

// Problem returns the problem details of err, whose code (see
// [credential.CodeOf]) is fallback when err carries none.
func Problem(err error, fallback credential.Code) ProblemDetail {
	code := credential.CodeOf(err, fallback)
	detail := err.Error()
	var ce *credential.Error
	if errors.As(err, &ce) {
		detail = ce.Detail
	}
	return ProblemDetail{Type: code.Type(), Code: numbers[code], Title: titles[code], Detail: detail}
}

// numbers are the codes the specifications give their errors.
var numbers = map[credential.Code]int{
	credential.ParsingError:               -64,
	credential.CryptographicSecurityError: -65,
	credential.MalformedValueError:        -66,
	credential.RangeError:                 -67,
	credential.StatusRetrievalError:       -128,
	credential.StatusVerificationError:    -129,
	credential.StatusListLengthError:      -130,
}

var titles = map[credential.Code]string{
	credential.ParsingError:                "The document could not be parsed",
	credential.CryptographicSecurityError:  "A cryptographic check failed",
	credential.MalformedValueError:         "A value is malformed",
	credential.RangeError:                  "A value is out of range",
	credential.ProofGenerationError:        "The proof could not be generated",
	credential.ProofVerificationError:      "The proof does not verify",
	credential.ProofTransformationError:    "The document could not be transformed for its proof",
	credential.MalformedProofError:         "The proof is malformed",
	credential.MismatchedProofPurposeError: "The proof has another purpose",
	credential.InvalidProofConfiguration:   "The proof configuration is invalid",
	credential.InvalidProofDatetime:        "The proof's dates are invalid",
	credential.InvalidDomainError:          "The proof is for another domain",
	credential.InvalidChallengeError:       "The challenge is invalid",
	credential.StatusRetrievalError:        "The status list could not be retrieved",
	credential.StatusVerificationError:     "The status list could not be verified",
	credential.StatusListLengthError:       "The status list is too short",
	credential.UnknownContextError:         "A JSON-LD context is not known to this verifier",
	credential.UndefinedTermError:          "A term is not defined by the contexts",
	credential.ValidityPeriodError:         "The credential is outside its validity period",
	credential.KeyCompromisedError:         "The signing key was reported compromised",
	credential.KeyRetiredError:             "The signing key was retired before the time the proof claims",
	credential.HolderBindingError:          "The holder is not the credential's subject",
	credential.IssuerMismatchError:         "The key does not belong to the issuer",
	credential.SchemaValidationError:       "The credential does not match its schema",
	credential.SchemaNotChecked:            "The credential's schema could not be checked",
	credential.UntrustedIssuerError:        "The issuer is not trusted for this credential",
	credential.ResourceIntegrityError:      "A related resource does not match its digest",
	credential.CredentialRevoked:           "The credential is revoked",
	credential.CredentialSuspended:         "The credential is suspended",
	credential.LimitExceededError:          "The document exceeds this verifier's processing bounds",
}
