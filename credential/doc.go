// Package credential is the W3C Verifiable Credentials model shared by
// issuer, wallet and verifier: credentials and presentations of the VC Data
// Model 2.0 (and 1.1 for verification), their validation rules, enveloped
// forms, and the contracts its securing mechanisms share.
//
// The securing mechanisms live in subpackages, one job each:
//
//	credential/ld              bundled, pinned JSON-LD contexts; RDFC-1.0
//	credential/dataintegrity   Data Integrity proofs: eddsa-rdfc-2022, eddsa-jcs-2022
//	credential/jose            VC-JOSE: application/vc+jwt and application/vp+jwt
//	credential/sdjwt           SD-JWT VC: application/dc+sd-jwt (RFC 9901)
//
// Everything here is pure: keys come from a [KeyResolver] and time from the
// caller.
package credential
