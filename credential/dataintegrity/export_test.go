package dataintegrity

import "context"

// SigningInput exposes the canonical proof configuration and transformed
// document of a proof, for the golden tests of every intermediate step.
func SigningInput(ctx context.Context, cryptosuite string, doc, options map[string]any) (cfg, transformed []byte, err error) {
	return signingInput(ctx, suiteFor(ProofType, cryptosuite), doc, options, ldOptions{})
}

// CanonicalJSON exposes the direct RFC 8785 writer.
var CanonicalJSON = canonicalJSON

// SigningInputOf is SigningInput for any proof type (Ed25519Signature2020,
// which Sign never produces).
func SigningInputOf(ctx context.Context, typ, cryptosuite string, doc, options map[string]any) (cfg, transformed []byte, err error) {
	return signingInput(ctx, suiteFor(typ, cryptosuite), doc, options, ldOptions{})
}
