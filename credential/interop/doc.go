// Package interop tests idmesh's credential securing mechanisms against the
// reference JavaScript implementations, in both directions: what idmesh
// signs the reference verifies, and what the reference signs idmesh
// verifies; tampered documents fail on both sides.
//
// The package has no code, only tests. They run node on the scripts in js/
// (pinned in package.json and package-lock.json) and are skipped unless
// IDMESH_INTEROP=1; `make interop` installs the scripts' packages with
// `npm ci` and runs them:
//
//	eddsa-rdfc-2022 and eddsa-jcs-2022   credential/dataintegrity against
//	                                     @digitalbazaar/vc, data-integrity and
//	                                     the two cryptosuites
//	VC Data Model 1.1                    issuer.Issue and the verifier's pipeline
//	(eddsa-rdfc-2022)                    against @digitalbazaar/vc: 1.1
//	                                     credentials both ways, the same
//	                                     document and proof from both issuers
//	Ed25519Signature2020                 the verifier against credentials that
//	                                     @digitalbazaar/ed25519-signature-2020
//	                                     signs (verification only: idmesh
//	                                     never signs with it)
//	application/vc+jwt                   credential/jose against jose
//	RDFC-1.0                             credential/ld against jsonld and
//	                                     rdf-canonize, byte for byte
//	Bitstring Status List                credential/statuslist against
//	                                     @digitalbazaar/vc-bitstring-status-list:
//	                                     every bit of lists either side
//	                                     encodes, and checkStatus (list proof,
//	                                     issuer, purpose, bit) against Go's
//	inline contexts                      credentials with inline @context
//	                                     objects both ways (eddsa-rdfc-2022,
//	                                     eddsa-jcs-2022, vc+jwt) through
//	                                     idmesh's verifier; aliased members
//	                                     the reference's proof check passes
//	                                     are refused by idmesh
//	verification speed                   Go eddsa-rdfc-2022 verifications per
//	                                     second against the reference's
//	application/dc+sd-jwt (SD-JWT VC)    credential/sdjwt against
//	                                     @sd-jwt/sd-jwt-vc (js/sdjwt.mjs):
//	                                     issuance, presentation and key
//	                                     binding, both ways
//	Token Status List                    credential/tokenstatus against
//	(application/statuslist+jwt)         @sd-jwt/jwt-status-list
//	                                     (js/tokenstatus.mjs): idmesh's
//	                                     signed tokens read to the same
//	                                     2-bit entries, and its lists
//	                                     decoded by idmesh
//
// Nothing touches the network. Both sides load JSON-LD contexts only from
// credential/ld/contexts (js/contexts.json maps each URL to its file, and a
// test keeps that map equal to the embedded set), and verification methods
// are Ed25519 did:key Multikeys, which both sides resolve by decoding.
package interop
