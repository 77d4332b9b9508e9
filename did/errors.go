package did

import "errors"

// Sentinel errors. Each one corresponds to an error type of DID Resolution
// (see [ProblemFor]); errors returned by this package and by resolvers wrap
// one of them.
var (
	// ErrInvalidDID reports a string that is not a conforming DID.
	ErrInvalidDID = errors.New("invalid DID")
	// ErrInvalidDIDURL reports a string that is not a conforming DID URL.
	ErrInvalidDIDURL = errors.New("invalid DID URL")
	// ErrInvalidDocument reports a malformed DID document, or one that
	// does not belong to the DID that was resolved.
	ErrInvalidDocument = errors.New("invalid DID document")
	// ErrNotFound reports a DID whose document does not exist.
	ErrNotFound = errors.New("DID not found")
	// ErrMethodNotSupported reports a DID method the resolver does not
	// implement.
	ErrMethodNotSupported = errors.New("DID method not supported")
	// ErrRepresentationNotSupported reports an accept option the resolver
	// cannot produce.
	ErrRepresentationNotSupported = errors.New("representation not supported")
	// ErrInvalidOptions reports invalid resolution options.
	ErrInvalidOptions = errors.New("invalid resolution options")
	// ErrFeatureNotSupported reports a resolution feature (for example an
	// option) that the resolver does not support.
	ErrFeatureNotSupported = errors.New("feature not supported")
	// ErrInternal reports an unexpected failure inside the resolver.
	ErrInternal = errors.New("internal resolver error")
)
