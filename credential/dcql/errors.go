package dcql

import "errors"

// Errors wrapped by this package's functions. Callers tell failures apart
// with errors.Is; the messages name the credential query, claim or field.
var (
	// ErrInvalidQuery reports a DCQL query that breaks a rule of
	// OpenID4VP section 6 or 7, or a bound of this package. A verifier
	// answers it with OAuth invalid_request.
	ErrInvalidQuery = errors.New("invalid DCQL query")
	// ErrUnsupported reports a valid DCQL feature that idmesh does not
	// implement (trusted_authorities); it is always wrapped together with
	// ErrInvalidQuery.
	ErrUnsupported = errors.New("not supported")
	// ErrLimit reports input or work beyond a bound of this package.
	ErrLimit = errors.New("over a bound")
	// ErrSelection reports a claims path pointer whose processing fails
	// (OpenID4VP section 7.1.1): it selects nothing, or steps into a
	// value of the wrong kind.
	ErrSelection = errors.New("claims path pointer selects nothing")
	// ErrNotSatisfied reports presentations that do not satisfy the
	// query, or candidates that cannot.
	ErrNotSatisfied = errors.New("DCQL query not satisfied")
)
