package dataintegrity

import (
	"context"
	"reflect"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/ld"
)

// rdfcSuite is eddsa-rdfc-2022 (section 3.2).
type rdfcSuite struct{}

// ed2020Suite is Ed25519Signature2020 (the legacy suite of
// https://w3id.org/security/suites/ed25519-2020/v1, Data Integrity EdDSA
// Cryptosuites, section 3.4), for verification only: the same
// transformation and hashing as eddsa-rdfc-2022 (URDNA2015 is RDFC-1.0
// with SHA-256), a proof of type Ed25519Signature2020 with no
// cryptosuite.
type ed2020Suite struct{ rdfcSuite }

func (ed2020Suite) proofConfig(ctx context.Context, doc, options map[string]any, lo ldOptions) ([]byte, error) {
	if err := checkOptionsOf(options, ProofTypeEd25519Signature2020, ""); err != nil {
		return nil, err
	}
	return rdfcConfig(ctx, doc, options, lo)
}

// unsecured: RDFC signs the document as it is.
func (rdfcSuite) unsecured(doc, options map[string]any) (map[string]any, error) {
	// The proof options are canonicalized under the document's @context
	// (rdfcConfig). A proof's own @context would be ignored by the
	// signature yet read by whoever expands the proof on its own (the
	// verifier's term check does), who could then see a member mean
	// something other than what was signed: a proof may carry an
	// @context only if it is the document's.
	if pctx, ok := options["@context"]; ok && !reflect.DeepEqual(contextList(pctx), contextList(doc["@context"])) {
		return nil, credential.Errorf(credential.ProofVerificationError, "the proof's @context differs from the document's, under which it is signed")
	}
	return doc, nil
}

func (rdfcSuite) transform(ctx context.Context, doc map[string]any, lo ldOptions) ([]byte, error) {
	b, err := canonicalizeRDF(ctx, doc, lo)
	if err != nil {
		return nil, credential.Errorf(transformCode(err), "canonicalize document: %w", err)
	}
	return b, nil
}

// proofConfig is Proof Configuration (eddsa-rdfc-2022): the options with
// the document's @context, canonicalized.
func (rdfcSuite) proofConfig(ctx context.Context, doc, options map[string]any, lo ldOptions) ([]byte, error) {
	if err := checkOptions(options, CryptosuiteRDFC); err != nil {
		return nil, err
	}
	return rdfcConfig(ctx, doc, options, lo)
}

// rdfcConfig canonicalizes the proof options with the document's
// @context (steps 3 to 5 of Proof Configuration, eddsa-rdfc-2022, which
// Ed25519Signature2020 shares).
func rdfcConfig(ctx context.Context, doc, options map[string]any, lo ldOptions) ([]byte, error) {
	cfg := make(map[string]any, len(options)+1)
	for k, v := range options {
		cfg[k] = v
	}
	if c, ok := doc["@context"]; ok {
		cfg["@context"] = c
	} else {
		delete(cfg, "@context")
	}
	b, err := ld.CanonicalizeConfig(ctx, cfg, ld.Options{AllowUndefinedTerms: lo.allowUndefinedTerms, Budget: lo.budget})
	if err != nil {
		return nil, credential.Errorf(transformCode(err), "canonicalize proof configuration: %w", err)
	}
	return b, nil
}

// docKey: every RDFC proof without previous proofs signs the same
// document.
func (rdfcSuite) docKey(map[string]any) string { return "rdfc" }

// transformCode is the code of a failed canonicalization: a bound
// exceeded keeps its own (LIMIT_EXCEEDED_ERROR), so that a refusal is
// told apart from a document that cannot be transformed.
func transformCode(err error) credential.Code {
	if credential.CodeOf(err, "") == credential.LimitExceededError {
		return credential.LimitExceededError
	}
	return credential.ProofTransformationError
}
