package credential

import (
	"errors"
	"fmt"
)

// Code is a verification or processing error code that the VC
// specifications define. Its [Code.Type] is the problem-details type URL.
type Code string

// Error codes of the VC Data Model 2.0 (section 7.1), VC Data Integrity 1.0
// (section 2.5) and Bitstring Status List 1.0 (section 3.6), and a few of
// idmesh's own where the specifications name none.
const (
	ParsingError               Code = "PARSING_ERROR"
	CryptographicSecurityError Code = "CRYPTOGRAPHIC_SECURITY_ERROR"
	MalformedValueError        Code = "MALFORMED_VALUE_ERROR"
	RangeError                 Code = "RANGE_ERROR"

	ProofGenerationError        Code = "PROOF_GENERATION_ERROR"
	ProofVerificationError      Code = "PROOF_VERIFICATION_ERROR"
	ProofTransformationError    Code = "PROOF_TRANSFORMATION_ERROR"
	MalformedProofError         Code = "MALFORMED_PROOF_ERROR"
	MismatchedProofPurposeError Code = "MISMATCHED_PROOF_PURPOSE_ERROR"
	InvalidProofConfiguration   Code = "INVALID_PROOF_CONFIGURATION"
	InvalidProofDatetime        Code = "INVALID_PROOF_DATETIME"
	InvalidDomainError          Code = "INVALID_DOMAIN_ERROR"
	InvalidChallengeError       Code = "INVALID_CHALLENGE_ERROR"

	StatusRetrievalError    Code = "STATUS_RETRIEVAL_ERROR"
	StatusVerificationError Code = "STATUS_VERIFICATION_ERROR"
	StatusListLengthError   Code = "STATUS_LIST_LENGTH_ERROR"

	// idmesh's own.
	UnknownContextError    Code = "UNKNOWN_CONTEXT_ERROR"
	UndefinedTermError     Code = "UNDEFINED_TERM_ERROR"
	ValidityPeriodError    Code = "VALIDITY_PERIOD_ERROR"
	KeyCompromisedError    Code = "KEY_COMPROMISED_ERROR"
	KeyRetiredError        Code = "KEY_RETIRED_ERROR"
	HolderBindingError     Code = "HOLDER_BINDING_ERROR"
	IssuerMismatchError    Code = "ISSUER_MISMATCH_ERROR"
	SchemaValidationError  Code = "SCHEMA_VALIDATION_ERROR"
	UntrustedIssuerError   Code = "UNTRUSTED_ISSUER_ERROR"
	ResourceIntegrityError Code = "RESOURCE_INTEGRITY_ERROR"
	CredentialRevoked      Code = "CREDENTIAL_REVOKED"
	CredentialSuspended    Code = "CREDENTIAL_SUSPENDED"
	// LimitExceededError: the document is over a bound on the work of
	// verifying it (its size, nesting, or the work of canonicalizing it)
	// and was refused without that work.
	LimitExceededError Code = "LIMIT_EXCEEDED_ERROR"
	// SchemaNotChecked: a credentialSchema the verifier cannot check (of
	// a type other than JsonSchema, or a JsonSchema it does not hold) and
	// did not check.
	SchemaNotChecked Code = "SCHEMA_NOT_CHECKED"
)

// Type is the problem-details type URL of the code: the specification's
// anchor where it defines one, else idmesh's problem namespace.
func (c Code) Type() string {
	switch c {
	case ParsingError, CryptographicSecurityError, MalformedValueError, RangeError:
		return "https://www.w3.org/TR/vc-data-model#" + string(c)
	case ProofGenerationError, ProofVerificationError, ProofTransformationError,
		MalformedProofError, MismatchedProofPurposeError, InvalidProofConfiguration,
		InvalidProofDatetime, InvalidDomainError, InvalidChallengeError:
		return "https://w3id.org/security#" + string(c)
	case StatusRetrievalError, StatusVerificationError, StatusListLengthError:
		return "https://www.w3.org/ns/credentials/status-list#" + string(c)
	}
	return "https://idmesh.dev/problems/" + string(c)
}

// Error is a failure with a specification error code. Packages under
// credential/ and verifier/ return errors that wrap one, so that a caller
// can report a problem-details object with a stable type.
type Error struct {
	Code   Code
	Detail string
	Err    error // the cause, if any
}

// Errorf returns an [*Error] with code and a formatted detail; a %w verb
// wraps its argument as the cause.
func Errorf(code Code, format string, args ...any) error {
	e := fmt.Errorf(format, args...)
	return &Error{Code: code, Detail: e.Error(), Err: errors.Unwrap(e)}
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Detail }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// CodeOf returns the code of the first [*Error] in err's chain, or
// fallback when there is none.
func CodeOf(err error, fallback Code) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return fallback
}
