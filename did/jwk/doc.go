// Package jwk implements the did:jwk method (github.com/quartzjer/did-jwk):
// a DID that is a base64url-encoded public JSON Web Key, resolved offline.
//
//	did:jwk:<base64url(UTF-8 JSON of the JWK)>
//
// The document has a single verification method, did:jwk:X#0, whose
// publicKeyJwk is the decoded JWK as written (extra public members such as
// "use" or "kid" are kept). Following the spec, a JWK with "use":"sig" is
// not used for keyAgreement and one with "use":"enc" is used only for
// keyAgreement; otherwise the method serves all five relationships. An
// X25519 key can only agree keys, so it serves keyAgreement alone.
//
// JWKs with private members are rejected, as the spec requires. The key
// types are those of package keys: Ed25519, P-256 and X25519.
//
// Deviation from the spec's example documents: the verification method
// type is JsonWebKey with the https://w3id.org/security/jwk/v1 context
// (the successor of JsonWebKey2020 and the jws-2020 context), like every
// JWK method in idmesh.
package jwk
