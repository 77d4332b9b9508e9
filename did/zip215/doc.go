// Package zip215 verifies Ed25519 signatures under the ZIP-215 rules
// (https://zips.z.cash/zip-0215), the one signature rule of idmesh's
// consensus path: validators' votes, proposals and commits, and the
// ledger's transactions.
//
// RFC 8032 lets verifiers differ on edge cases (non-canonical point
// encodings, points of small order, the cofactored or cofactorless
// equation), so two correct implementations, or one implementation
// checking signatures one at a time and in a batch, could disagree on
// whether a signature is valid, and validators that disagree split the
// chain. ZIP-215 fixes the rule:
//
//   - the public key A and the first half R of the signature must be
//     encodings of points on edwards25519; non-canonical encodings (a y
//     coordinate of p or more, or x = 0 with the sign bit set) are
//     accepted;
//   - the second half S must be canonical, an integer below the group
//     order L;
//   - the cofactored equation [8][S]B = [8]R + [8][k]A must hold, where
//     k = SHA-512(R || A || M) mod L is computed over the bytes as given.
//
// Every signature crypto/ed25519.Verify accepts is accepted, so
// signatures already on the chain stay valid. Because the equation is
// multiplied by the cofactor, a batch check (a random linear combination
// of the equations, one multi-scalar multiplication) accepts exactly the
// batches whose every signature [Verify] accepts, except with
// probability 2^-128 over its random coefficients: [Batch] and [Verify]
// agree.
//
// Credentials are not verified with this package: W3C Data Integrity and
// JOSE name RFC 8032, which crypto/ed25519 implements.
package zip215
