// Package jose secures credentials and presentations as compact JSON Web
// Signatures, the JOSE part of W3C "Securing Verifiable Credentials using
// JOSE and COSE" (VC-JOSE-COSE, https://www.w3.org/TR/vc-jose-cose/).
//
// A secured credential is a compact JWS (RFC 7515) whose payload is the
// unsecured credential itself, with no "vc" or "vp" wrapper claim:
//
//	BASE64URL({"alg":"EdDSA","kid":"did:example:issuer#key-1","typ":"vc+jwt"})
//	  "." BASE64URL(credential JSON) "." BASE64URL(signature)
//
// Its media type is application/vc+jwt ([MediaTypeVC]); presentations use
// application/vp+jwt ([MediaTypeVP]) with typ "vp+jwt".
//
// [SignCredential] and [SignPresentation] produce tokens with a
// [credential.Signer]: Ed25519 keys sign as "EdDSA" (or "Ed25519", RFC 9864,
// on request), P-256 keys as "ES256" with a 64-byte r||s signature. A
// presentation can carry the verifier's challenge and domain in the
// registered JWT claims "nonce" and "aud".
//
// [Verify] is strict. It accepts only the compact serialization with an
// attached, base64url-encoded payload; it rejects "alg":"none", algorithms
// other than EdDSA, Ed25519 and ES256, an alg that does not fit the
// resolved key, any "crit" header, "b64":false, a typ other than the
// expected media type, duplicate JSON member names, deep nesting, oversize
// input and anything after the signature. The "kid" header is required: it
// names the verification method, absolute or relative to the issuer (for
// presentations, the holder), and is looked up through a
// [credential.KeyResolver] for assertionMethod (authentication for
// presentations). The key's controller must be the issuer (the holder) and
// a compromised key never verifies. Header parameters such as "jwk", "jku"
// and "x5c" are ignored: keys come only from the resolver.
//
// Errors wrap a [credential.Error] whose code tells the failure apart:
// PARSING_ERROR for input that is not a well-formed compact JWS of JSON,
// MALFORMED_VALUE_ERROR for a well-formed token with headers or claims
// this profile forbids, CRYPTOGRAPHIC_SECURITY_ERROR for unsupported or
// mismatched algorithms, unknown keys and bad signatures (VC Data Model 2.0
// section 7.1: the securing mechanism failed), ISSUER_MISMATCH_ERROR,
// KEY_COMPROMISED_ERROR and KEY_RETIRED_ERROR for key policy (a retired
// key verifies a token only if its "iat", else its "validFrom" or
// "issuanceDate", is before the retirement), INVALID_CHALLENGE_ERROR and
// INVALID_DOMAIN_ERROR for presentation binding.
//
// Enveloping (VC Data Model 2.0 section 4.13) wraps a token in a JSON-LD
// object whose id is a data: URL (RFC 2397): [Envelope], [Unenvelope] and
// [ParseDataURL]. A JOSE-secured presentation carries its credentials as
// EnvelopedVerifiableCredential objects; [EnvelopedCredentials] lists them
// so that a verifier can check each one with [Verify].
//
// VC Data Model 1.1 credentials have their own JWT (1.1 section 6.3.1,
// OpenID4VCI's jwt_vc_json), which VC-JOSE-COSE does not cover:
// [SignJWTVC] and [VerifyJWTVC] make and check it beside the 2.0 forms. Its
// header has typ "JWT"; its claims carry the credential under "vc" with
// "iss", "sub", "jti", "nbf" and "exp" repeating its issuer, subject id,
// id, issuanceDate and expirationDate, which must agree with it when
// verified. [IsJWTVC] tells the two kinds of token apart by their typ.
//
// SD-JWT (application/vc+sd-jwt) and COSE (application/vc+cose) are not
// implemented here: Verify reports them with [ErrUnsupportedMediaType].
// SD-JWT VCs (application/dc+sd-jwt) are credential/sdjwt's, which
// builds on this package's compact JWS profile: [ParseCompact],
// [Compact.Verify] and [SignCompact] give other JWS-based formats the
// same strict split, algorithm checks and signatures. ES384,
// ES512 and the RSA and HMAC algorithms are reported with
// [ErrUnsupportedAlgorithm].
//
// # What jwx does and what this package checks
//
// The signatures are made by github.com/lestrrat-go/jwx/v3. The Sign functions,
// given a [credential.KeySigner], import its private key with jwk.Import
// and call jws.Sign with the protected headers alg, kid and typ; ES256
// signatures come out as the 64-byte r||s of RFC 7518 section 3.4. Other
// [credential.Signer] implementations (a key jwx cannot hold, such as one
// in a hardware module) sign the JWS signing input the package builds,
// with the same header members.
//
// [Verify] does its own checking first and hands jwx only a token it has
// accepted: the size bound, its compact parser (base64url alphabet,
// strict padding and trailing bits, exactly three parts), its strict
// JSON decoder (duplicate member names, nesting depth, trailing data),
// the header profile above (alg allow-list, no "none", typ, cty, crit,
// b64, kid), kid resolution, the compromised flag and the check that the
// resolved key's type fits alg. Only then is the signature checked. An
// Ed25519 signature (alg EdDSA or Ed25519 with an Ed25519 key) is checked
// on the parts the parser already split, without a second parse of the
// token: the signature is decoded and crypto/ed25519 (RFC 8032, what jwx
// calls too) verifies it over the signing input as received
// (TestVerifyPartsMatchesJWX and two fuzz tests, one signing each fuzzed
// header, hold this path to jwx's verdicts). A token with a key or
// certificate header parameter (jku, jwk, x5u, x5c, x5t, x5t#S256), which
// jwx parses and may refuse, takes jwx's path. An ES256 signature goes to
// jwx, through
// jws.VerifyCompactFast with that key and alg (which again refuses an alg
// that does not fit the key or differs from the header's); a token with
// "b64":true, which jwx's fast path refuses, goes through jws.Verify.
// When the kid names the key absolutely, the payload is parsed (by the
// strict decoder) only after the signature verified, from the bytes that
// verified; a relative kid needs the issuer or holder, so the
// payload is parsed first. The controller binding, "iss", the
// presentation claims and exp/nbf are this package's checks too; jwx's
// JWT layer is not used, and jwx's parser never decides on its own
// whether a token is acceptable.
package jose
