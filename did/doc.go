// Package did is the domain model of decentralized identifiers: DID and DID
// URL syntax (W3C DID Core 1.0, section 3), the DID document data model
// (sections 4 and 5) with a strict validator, and the DID Resolution types
// (W3C DID Resolution 1.0 CR): the resolution result, its metadata,
// RFC 9457 problem details and the spec's error type URIs.
//
// # Identifiers
//
// [Parse] accepts exactly the DID Core ABNF:
//
//	did                = "did:" method-name ":" method-specific-id
//	method-name        = 1*method-char            ; [a-z0-9]
//	method-specific-id = *( *idchar ":" ) 1*idchar
//	idchar             = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded
//
// A [DID] keeps its method-specific-id exactly as written, so pct-encoding
// survives a round trip and two DIDs are equal only if their strings are.
// [ParseURL] adds the RFC 3986 path, query and fragment of a DID URL.
//
// # Documents
//
// [Document] mirrors the JSON representation. It reads the string-or-array
// forms that the spec allows (@context, controller, service type, embedded
// or referenced verification methods) and writes a stable form back.
// [Document.Validate] checks the rules idmesh relies on and reports the
// first violation as one line wrapping [ErrInvalidDocument]; [ParseDocument]
// decodes and validates in one step.
//
// Verification methods carry keys from package keys, as Multikey
// (publicKeyMultibase) or JsonWebKey (publicKeyJwk); see [NewMultikey],
// [NewJsonWebKey] and [VerificationMethod.PublicKey].
//
// # Resolution
//
// A [Resolver] turns a DID into a [ResolutionResult]. Each DID method lives
// in its own subpackage (key, jwk, web, ...); [Methods] dispatches on the
// method name. Resolvers return Go errors wrapping the sentinels of this
// package; [ErrorResult] and [ProblemFor] turn them into the spec's
// serialised form, with didDocument null and an RFC 9457 problem in
// didResolutionMetadata.error.
//
// # Dereferencing
//
// [Dereference] runs the DID URL dereferencing algorithm over a Resolver:
// a fragment selects a verification method or service ([Document.Select]),
// the service and relativeRef DID parameters a service endpoint URL
// ([Document.ServiceURL], with RFC 3986 reference resolution), and
// otherwise the document itself. [ParseParameters] reads the DID
// parameters from a DID URL's query, bounded, refusing duplicates. The
// answer is a [DereferencingResult]; [DereferencingError] serialises a
// failure as the spec does.
package did
