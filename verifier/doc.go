// Package verifier checks verifiable credentials and presentations: a
// pipeline of named checks (parse, context, proof, validity, related
// resources; the holder's proof, challenge and binding for presentations)
// that a caller can select, each reporting a problem with a stable type.
//
// Keys come from a [credential.KeyResolver] (for example didkeys.DIDKeys over the
// chain's resolver), time from an injected clock, and challenges from a
// [Challenges] store that tags each one it issues (HMAC-SHA-256 under its
// secret) and accepts it once; with [Verifier.AcceptCallerChallenges] a
// relying party's own challenge is accepted too, and results say which
// kind a presentation answered.
//
// SD-JWT VCs (application/dc+sd-jwt, [FormatSDJWT]) run through the same
// named checks: parse, proof (credential/sdjwt: the issuer's signature,
// the Disclosures and the key-binding JWT, whose nonce and aud are
// Options.Challenge and Options.Domain), validity, trust (on the vct)
// and status (the IETF Token Status List entry, through a
// [TokenStatusChecker], which [TokenLists] is); Result.Disclosed lists what they revealed.
//
// Status lists are read from the verifier's own chain, never fetched:
// Bitstring Status Lists through [StatusLists], IETF Token Status Lists
// (the status of SD-JWT VCs) through [TokenLists], each version's
// signature verified once and the decoded list kept. A StatusLists that
// also says the chain's height ([ChainHeight]) lets the verifier keep
// each list's current version and the check of its keys until a block
// moves the height, so that between blocks a status check reads nothing.
package verifier
