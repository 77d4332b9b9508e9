// Package key implements the did:key method (W3C CCG did:key Method):
// a DID that is a public key, resolved offline.
//
//	did:key:<publicKeyMultibase>
//
// The method-specific-id is the key's Multikey encoding (see package keys):
// z6Mk... for Ed25519, zDn... for P-256 and z6LS... for X25519. Only the
// canonical encoding is accepted (a compressed P-256 point, base58btc).
//
// The document has one Multikey verification method, did:key:X#X. For
// Ed25519 it is used for authentication, assertionMethod,
// capabilityInvocation and capabilityDelegation, and the X25519 key
// derived from it (as the spec's encryption key derivation does) is added
// for keyAgreement. A P-256 key serves all five relationships. An X25519
// key serves keyAgreement only.
//
// did:key documents never change, have no versions and cannot be
// deactivated.
package key
