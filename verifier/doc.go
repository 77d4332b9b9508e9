// Package verifier checks verifiable credentials and presentations: a
// pipeline of named checks (parse, context, proof, validity, related
// resources; the holder's proof, challenge and binding for presentations)
// that a caller can select, each reporting a problem with a stable type.
//
// Keys come from a [credential.KeyResolver] (for example didkeys.DIDKeys over the
// chain's resolver), time from an injected clock, and challenges from a
// [Challenges] store that accepts each one once.
package verifier
