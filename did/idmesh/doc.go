// Package idmesh implements the did:idmesh method: its identifiers, its
// signed operations (create, update, deactivate), the deterministic rules
// that apply them to ledger state, and resolution from that state.
//
// A did:idmesh identifier is self-certifying: its method-specific ID is
// the base58btc SHA-256 digest of the canonical (JCS) create operation
// without its proofs, and the create operation must be signed by a key
// the new document authorizes. Nobody can claim another's identifier
// without a preimage of its digest.
//
// Every operation is signed over
//
//	"idmesh/did-operation/v1" 0x00 chainID 0x00 JCS(operation without "proof")
//
// by a key in the capabilityInvocation relationship of the current
// document (or of a controller's document), and by every signing key the
// new document adds (proof of possession, NewSigningKeys): a document can
// list only keys its controller holds, so nobody can mark someone else's
// key compromised. Every update and deactivate
// names the versionId it replaces, so a replayed or forked operation
// finds a stale version and is rejected. Keys removed by an update are
// recorded as retired, or compromised when the update says so; an update
// may also mark compromised a key that an earlier version held. Each
// event goes to the DID's event log (resolution lists the newest 64 in
// the document metadata, with the total) and to the key-status index,
// which is keyed by the public key: a key's status follows its material,
// whatever DID or method id held it, and compromised is final.
//
// Proofs may name a key of the operation's own DID in absolute or
// relative form, in any order; Decode writes the relative form and sorts
// the proofs, so that an operation has one encoding and one hash. Nor can
// anyone but a signer change the proofs: Apply refuses a P-256 proof with
// a high S (the other valid ECDSA signature, (r, n-s)) and a proof the
// operation does not need (one a third party could drop).
//
// Decode checks a payload already in canonical form (as every admitted
// operation is) in one scan: the form, repeated members and depth at
// once, a typed decode, and the check that the model drops nothing by
// comparing the payload with its re-encoding as text; anything that scan
// cannot vouch for is decoded the long way (strictjson, jcs,
// encoding/json), which gives every input the same result.
//
// Check gives Apply's verdict without building its writes, for checks
// whose writes are thrown away (the mempool's); OpCache keeps decoded
// operations, bounded in entries and bytes, so that a node decodes an
// operation once from its submission to its block; a decoded operation
// keeps its digest, versionId and DID. Records and versions are written
// in RFC 8785 form directly, but for a version's document, which goes
// through encoding/json as before; the bytes are the same.
//
// The rules are pure: Apply reads and writes a KV and takes time and
// height from the block; it never touches a clock, the network or disk.
// docs/did-method.md is the method specification.
package idmesh
