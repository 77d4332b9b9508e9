// Package dcql is the Digital Credentials Query Language of OpenID for
// Verifiable Presentations 1.0 (OpenID4VP sections 6 and 7, Appendix B),
// shared by the verifier, which checks that a response satisfies its
// query, and the wallet, which picks the stored credentials that do.
//
// # Parsing
//
// [Parse] reads a query: one strict JSON object (no repeated member
// names, no trailing data, nesting at most 64 deep) of at most
// [MaxQueryBytes], with every rule of the specification checked:
// credentials a non-empty array of credential queries with unique ids of
// A-Z, a-z, 0-9, "_" and "-"; format a string; meta an object, required;
// multiple (default false) and require_cryptographic_holder_binding
// (default true) booleans; claims a non-empty array of claims queries,
// with unique ids and no path twice; path a non-empty claims path
// pointer of strings, non-negative integers and nulls; values a non-empty
// array of strings, integers (in the signed 64-bit range) and booleans;
// claim_sets only with claims, every claim then having an id, each
// option a non-empty array of those ids; credential_sets a non-empty
// array of {options, required (default true)}, each option a non-empty
// array of credential query ids. The meta of the formats idmesh knows is
// checked: vct_values (a non-empty array of non-empty strings) for
// dc+sd-jwt, type_values (a non-empty array of non-empty arrays of
// non-empty strings) for jwt_vc_json and ldp_vc, doctype_value (a
// non-empty string) and paths of two strings for mso_mdoc. Other formats
// parse. Members the specification does not define are ignored, as it
// requires. A [Query] field of a request object decodes through Parse
// (UnmarshalJSON) and encodes as the text it was parsed from.
//
// Bounds, each refused with [ErrLimit]: [MaxQueryBytes] (64 KiB) of
// JSON, [MaxCredentials] (32) credential queries, [MaxClaims] (64)
// claims and [MaxClaimSets] (32) claim_sets options per credential query,
// [MaxCredentialSets] (32) credential sets of at most [MaxOptions] (32)
// options, [MaxPath] (16) path elements, [MaxValues] (64) values,
// vct_values and type_values, [MaxIDBytes] (64) per id and
// [MaxStringBytes] (1 KiB) per format, path string, value and type.
//
// trusted_authorities is parsed and refused with [ErrUnsupported] (and
// [ErrInvalidQuery]). The specification lets a wallet return credentials
// that match none of the authorities (SHOULD), but its three types (aki,
// etsi_tl, openid_federation) name X.509 chains and federation entities,
// which idmesh's DID-signed credentials never carry: nothing could match,
// and ignoring the member would show credentials the verifier has said it
// will not trust. A verifier gets the clear error when it creates the
// request; a wallet when it reads one.
//
// # Selecting claims
//
// [Select] applies a claims path pointer to a credential's JSON as
// section 7.1 says: a string selects that member of every selected object
// (objects without it drop out), an integer that element of every
// selected array (arrays too short drop out), null every element of
// every selected array; a string applied to a non-object or an index or
// null to a non-array, and an empty final selection, fail with
// [ErrSelection]. A nil wildcard may select at most [DefaultMaxSelected]
// (4,096) claims.
//
// # Matching
//
// A [Candidate] is a credential as DCQL sees it: format, vct or W3C
// types, whether holder binding is possible (wallet) or was verified
// (verifier), the claims as JSON and, for SD-JWT VCs, the JSON pointers
// of the selectively disclosable claims. A candidate satisfies a
// credential query (section 6.4) when it has the format (dc+sd-jwt,
// jwt_vc_json or ldp_vc; any other format, mso_mdoc included, never
// matches), the meta (its vct one of vct_values, exactly: SD-JWT VC type
// inheritance is not followed; or every type of one type_values
// alternative among its types), holder binding when required, and the
// claims: every claims query when there are no claim_sets, else every
// claim of the first claim_sets option it can satisfy. A claims query
// whose path selects nothing is unsatisfied; with values, only the
// selected claims whose value has the same type and is equal to one of
// them count (an integer value equals a JSON number that is exactly that
// integer), as if the others did not exist.
//
// [W3CCandidate] makes the candidate of a W3C credential, with the types
// of [W3CTypes]: each as written and its expansion by the credential's
// @context (the contexts bundled in credential/ld and inline ones; term
// definitions, prefixes and @vocab), since type_values names fully
// expanded IRIs while queries in the wild also use the short names.
//
// [SDJWTCandidate] makes the candidate of a verified SD-JWT VC
// (credential/sdjwt's Result).
//
// [Query.Match] (the wallet) returns, per credential query, the
// candidates that satisfy it, with the concrete paths of the claims to
// disclose and the JSON pointers the holder gives credential/sdjwt's
// Present (the selected claims that are, lie in or hold selectively
// disclosable claims: nothing else). Without claims, nothing selectively
// disclosable is requested. It reports whether the whole query can be
// satisfied (every credential query without credential_sets; else one
// option of every required set) and which credential queries to answer.
//
// [Query.Check] (the verifier) takes the verified presentations of a
// response by credential query id and fails with [ErrNotSatisfied] unless
// every id is one of the query's, a query without multiple has exactly
// one presentation, every presentation satisfies its credential query
// and the answered ids satisfy the query. The specification asks
// verifiers not to rely on values for security; Check enforces them
// anyway, as it does every constraint of the query.
//
// The work of one Match or Check is bounded (ErrLimit beyond about one
// million values visited). The package is pure: no I/O, no clock.
package dcql
