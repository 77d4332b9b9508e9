// Package dataintegrity secures JSON-LD documents with W3C Verifiable
// Credential Data Integrity 1.0 proofs, using the EdDSA cryptosuites of
// Data Integrity EdDSA Cryptosuites v1.0:
//
//	eddsa-rdfc-2022  RDF Dataset Canonicalization (RDFC-1.0) of the
//	                 document and of the proof configuration
//	eddsa-jcs-2022   JSON Canonicalization Scheme (RFC 8785) of both
//
// A proof is a DataIntegrityProof object under the document's "proof"
// property. For both suites the signed message is
//
//	SHA-256(canonical proof configuration) || SHA-256(canonical document)
//
// signed with Ed25519 (RFC 8032, pure EdDSA); proofValue is the signature
// in multibase base58btc ('z').
//
// [Sign] adds one proof. A document that already carries proofs gets a
// proof set (an array); with [SignOptions.PreviousProof] the new proof
// also covers the proofs it names, forming a proof chain (Data Integrity
// section 4.3). [Verify] checks every proof of the set, each proof of a
// chain over the document plus the proofs it references (section 4.5),
// and reports each proof's outcome in a [Result].
//
// Keys come from a [credential.KeyResolver], which must authorize the
// verification method for the proof's purpose; only Ed25519 keys are
// accepted. Time comes from the caller ([SignOptions.Created],
// [VerifyOptions.Now]). Every error wraps a [credential.Error] with the
// specification's error code, so callers can report problem details.
//
// [Verify] also checks Ed25519Signature2020 proofs (the legacy suite of
// https://w3id.org/security/suites/ed25519-2020/v1, common with VC Data
// Model 1.1): type Ed25519Signature2020 and no cryptosuite, the document
// naming that context, URDNA2015 (RDFC-1.0) of the document and of the
// proof options with the document's @context, and the same hashing and
// key rules as eddsa-rdfc-2022. It is never produced: [Sign] makes
// DataIntegrityProof proofs only.
//
// Input is bounded: at most [MaxProofs] proofs per document, and the
// RDF canonicalization of credential/ld runs with its own limits and only
// with bundled contexts, so verifying never touches the network.
package dataintegrity
