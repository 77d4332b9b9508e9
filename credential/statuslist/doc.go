// Package statuslist implements W3C Bitstring Status List v1.0: the
// status of many credentials (revoked, suspended, a message) kept as one
// GZIP-compressed bitstring in a BitstringStatusListCredential, so that a
// verifier fetching it learns nothing about which credential it checks.
//
// The model:
//
//	Bitstring   the list; bit 0 is the most significant bit of byte 0.
//	            Encode/Decode give the encodedList (GZIP, then multibase
//	            base64url 'u'); Decode bounds the decompressed size.
//	Entry       a credential's BitstringStatusListEntry (ParseEntry,
//	            Object): purpose, list URL, index, statusSize.
//	List        a parsed BitstringStatusListCredential
//	            (ParseListCredential); NewListCredential makes one unsigned.
//	Check       the spec's validate algorithm: an entry against its list.
//	Allocator   random, never reused indexes for issuing (herd privacy).
//
// A verifier resolves entry.ListCredential, verifies the list
// credential's proofs, checks its validity period and issuer, then calls
// ParseListCredential and Check. An issuer allocates an index per
// credential with an Allocator, sets bits as statuses change, and signs
// NewListCredential's output.
//
// Errors carry the codes of [credential.Code]: MALFORMED_VALUE_ERROR for
// values that break the spec's MUSTs, STATUS_LIST_LENGTH_ERROR for lists
// under [MinLength] entries, STATUS_VERIFICATION_ERROR for a purpose or
// list mismatch, RANGE_ERROR for an index outside the list.
//
// Everything is pure: no I/O, no clock, randomness from the caller.
package statuslist
