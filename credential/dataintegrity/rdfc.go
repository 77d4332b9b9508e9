package dataintegrity

import (
	"context"

	"github.com/idmesh/idmesh/credential"
)

// rdfcSuite is eddsa-rdfc-2022 (section 3.2).
type rdfcSuite struct{}

// unsecured: RDFC signs the document as it is.
func (rdfcSuite) unsecured(doc, _ map[string]any) (map[string]any, error) { return doc, nil }

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
	cfg := make(map[string]any, len(options)+1)
	for k, v := range options {
		cfg[k] = v
	}
	if c, ok := doc["@context"]; ok {
		cfg["@context"] = c
	} else {
		delete(cfg, "@context")
	}
	b, err := canonicalizeRDF(ctx, cfg, lo)
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
