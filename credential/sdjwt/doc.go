// Package sdjwt issues, presents and verifies SD-JWT VCs: Selective
// Disclosure for JWTs (SD-JWT, RFC 9901) in the profile of SD-JWT-based
// Verifiable Credentials (draft-ietf-oauth-sd-jwt-vc), media type
// application/dc+sd-jwt.
//
// An SD-JWT is an issuer-signed JWT whose payload holds, instead of each
// selectively disclosable claim, the digest of a Disclosure: the
// base64url of the JSON array [salt, name, value] (or [salt, value] for
// an array element). The issuer gives the holder every Disclosure; the
// holder presents the JWT with the ones it chooses, and, when the
// verifier asks for it, a key-binding JWT signed by the holder key named
// in the credential's cnf claim:
//
//	<issuer-signed JWT>~<Disclosure 1>~...~<Disclosure N>~[<KB-JWT>]
//
// # Issuing
//
// [Issue] takes a claim set and the JSON pointers (RFC 6901) of what is
// disclosable: object members at any depth, whole objects (with pointers
// below them too: recursive disclosure) and array elements. Salts are
// 128 bits from the injected random source, digests SHA-256 ("_sd_alg":
// "sha-256"), array elements become {"...": digest}, a configurable
// number of decoy digests joins every "_sd" array, and every "_sd" array
// is sorted, so that neither the order nor the number of claims shows.
// The header is {"alg","kid","typ":"dc+sd-jwt"} with alg EdDSA (or
// Ed25519) for Ed25519 keys and ES256 for P-256 keys, and kid the
// signer's DID URL. Issuance is deterministic under the random source
// (the ES256 signature aside). Disclosures are written in the JSON style
// of the RFC's examples (", " and ": " separators), which the golden
// tests reproduce byte for byte.
//
// # Presenting
//
// [Present] keeps the Disclosures of the claims the holder names by
// JSON pointer into the fully disclosed claim set, with every Disclosure
// those claims lie in (a nested claim needs its parent's) and every one
// below them, and appends a key-binding JWT (typ "kb+jwt", alg of the
// holder key; claims aud, nonce, iat and sd_hash, the base64url SHA-256
// of the presented SD-JWT up to and including its last "~").
//
// # Verifying
//
// [Verify] is the SD-JWT VC verifier; [VerifyWithKey] is RFC 9901 alone,
// with a given issuer key. What they accept:
//
//   - the compact serialization only (not the JWS JSON serialization),
//     at most Limits.MaxBytes (1 MiB) in all, at most
//     Limits.MaxDisclosures (1,024) Disclosures, each strict base64url
//     of strict JSON (no repeated member names, no trailing data), with
//     processed claims nested at most Limits.MaxDepth (32) deep;
//   - an issuer-signed JWT and a KB-JWT checked by credential/jose's
//     compact JWS profile: alg EdDSA, Ed25519 or ES256 fitting the key;
//     "none", other algorithms, "crit" and "b64" other than true are
//     refused, as is any alg that does not fit the key;
//   - "_sd_alg" absent or "sha-256", and only at the top level.
//
// What they refuse, as RFC 9901 section 7 says: a Disclosure whose
// digest the payload (with the other Disclosures) does not hold, so a
// modified Disclosure or one from another credential; the same
// Disclosure twice; a digest that appears twice; a Disclosure named
// "_sd" or "...", or naming a claim its object already has; a
// Disclosure of the wrong form for its digest's place; "..." outside
// {"...": digest}. Undisclosed digests and decoys are dropped.
//
// [Verify] adds the SD-JWT VC rules: typ "dc+sd-jwt"; kid an absolute
// DID URL, resolved through a [credential.KeyResolver] for
// assertionMethod; "iss" the DID that controls the key (and the DID of
// the kid); "vct" a non-empty string; "iat" required (SD-JWT VC leaves
// it optional; idmesh requires it, and its issuer keeps it in the
// clear); "nbf" and "exp" checked against the caller's clock with a
// skew (one minute by default); "cnf.jwk" an Ed25519 or P-256 public
// key when present; "status.status_list" {idx, uri} well-formed when
// present, returned for the caller to check; iss, nbf, exp, cnf, vct,
// vct#integrity, aka_vcts and status never from a Disclosure. A
// compromised key verifies nothing and a retired key only credentials
// whose iat precedes its retirement.
//
// Key binding is the verifier's policy, never the holder's: when the
// caller gives a nonce or an audience (or RequireKeyBinding) a KB-JWT
// must be present. A KB-JWT, when present, must be signed by cnf.jwk,
// have typ "kb+jwt", a string nonce and a single string aud (equal to
// the caller's when given), iat no older than KeyBindingMaxAge (five
// minutes by default) and not in the future beyond the skew, and the
// sd_hash of what was presented.
//
// Errors wrap a [credential.Error]: PARSING_ERROR for input that is not
// an SD-JWT, LIMIT_EXCEEDED_ERROR for input over a bound,
// MALFORMED_VALUE_ERROR for a well-formed SD-JWT that breaks a rule
// above, CRYPTOGRAPHIC_SECURITY_ERROR for signatures, algorithms,
// unreferenced Disclosures and sd_hash, HOLDER_BINDING_ERROR for a
// missing or stale key binding, INVALID_CHALLENGE_ERROR and
// INVALID_DOMAIN_ERROR for a KB-JWT's nonce and aud,
// VALIDITY_PERIOD_ERROR for exp and nbf, ISSUER_MISMATCH_ERROR,
// KEY_COMPROMISED_ERROR and KEY_RETIRED_ERROR for the issuer's key.
// The sentinels of this package tell the SD-JWT failures apart.
//
// The package is pure: keys come from the resolver, time and randomness
// from the caller.
package sdjwt
