// Package tokenstatus implements the IETF Token Status List
// (draft-ietf-oauth-status-list) in its JWT form: the status of many
// SD-JWT VCs kept as one compressed array of small status values, in a
// Status List Token signed by their issuer, so that a relying party
// fetching it learns nothing about which credential it checks.
//
// The model:
//
//	List     the status list: Len entries of Bits bits each (1, 2, 4 or
//	         8), packed from the least significant bit of byte 0
//	         upward. Encode gives the "lst" member (ZLIB, then
//	         base64url); Decode bounds the decompressed size.
//	Token    a Status List Token's claims: sub (the token's URI), iat,
//	         optional exp and ttl, iss, and the status_list {bits, lst}.
//	         Token.Sign makes the compact JWT (typ statuslist+jwt).
//	Parse    splits a compact token strictly and reads its kid; its
//	         Verify checks the signature and only then decodes the
//	         claims and decompresses the list.
//
// idmesh issues 2-bit lists: 0 VALID, 1 INVALID (revoked), 2 SUSPENDED,
// of at least MinLength entries. A referenced token (an SD-JWT VC)
// carries {"status": {"status_list": {"idx": N, "uri": URI}}}, and URI
// is the token's sub.
//
// Errors carry the codes of [credential.Code]: PARSING_ERROR and
// MALFORMED_VALUE_ERROR for tokens and lists that break the
// specification, CRYPTOGRAPHIC_SECURITY_ERROR for signatures,
// LIMIT_EXCEEDED_ERROR for inputs over a bound, RANGE_ERROR for an
// index outside a list.
//
// Everything is pure: no I/O, no clock.
package tokenstatus
