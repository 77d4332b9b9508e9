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
// document (or of a controller's document). Every update and deactivate
// names the versionId it replaces, so a replayed or forked operation
// finds a stale version and is rejected. Keys removed by an update are
// recorded as retired, or compromised when the update says so, and
// resolution reports them in the document metadata.
//
// The rules are pure: Apply reads and writes a KV and takes time and
// height from the block; it never touches a clock, the network or disk.
// docs/did-method.md is the method specification.
package idmesh
