package dataintegrity

import "context"

// SigningInput exposes the canonical proof configuration and transformed
// document of a proof, for the golden tests of every intermediate step.
func SigningInput(ctx context.Context, cryptosuite string, doc, options map[string]any) (cfg, transformed []byte, err error) {
	return signingInput(ctx, suiteFor(ProofType, cryptosuite), doc, options, ldOptions{})
}

// CanonicalJSON exposes the direct RFC 8785 writer.
var CanonicalJSON = canonicalJSON
