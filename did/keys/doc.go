// Package keys holds the public and private keys that idmesh DIDs use:
// Ed25519 and NIST P-256 for signing, and X25519 public keys for
// keyAgreement only.
//
// A [PublicKey] is an immutable value: a [Type] and the key's canonical
// bytes (Ed25519 and X25519: 32 bytes; P-256: 33-byte compressed SEC1).
// Two equal keys always have equal bytes, so keys can be compared with
// [PublicKey.Equal] or used as map keys.
//
// Keys move in and out of documents in two encodings:
//
//   - Multikey publicKeyMultibase: 'z' + base58btc(multicodec varint || key
//     bytes), with the codecs ed25519-pub (0xed), p256-pub (0x1200) and
//     x25519-pub (0xec). See [PublicKey.Multibase] and [ParseMultibase].
//   - JSON Web Key (RFC 7517, RFC 8037): see [PublicKey.JWK] and [ParseJWK].
//
// Every parser validates the key: lengths, curve membership, and for
// Ed25519 and X25519 it rejects the identity and the other small-order
// points. Parsers never panic on untrusted input.
//
// Signatures follow JOSE: Ed25519 is PureEdDSA (RFC 8032) and P-256 is
// ECDSA over SHA-256 with a 64-byte r||s signature (ES256, RFC 7518).
// [PrivateKey.Sign] makes P-256 signatures low-S (s ≤ n/2), the form
// [PublicKey.IsCanonicalSignature] accepts; [PublicKey.Verify] accepts
// high S too, as ES256 verifiers do.
//
// A [PrivateKey] signs. [Generate] derives it deterministically from the
// bytes of its random source, so tests with a seeded reader are
// reproducible; production code passes crypto/rand.Reader.
package keys
