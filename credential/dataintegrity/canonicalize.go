package dataintegrity

import (
	"context"

	"github.com/idmesh/idmesh/credential/ld"
)

// canonicalizeRDF is RDFC-1.0 of doc in canonical N-Quads, with bundled
// contexts only and credential/ld's default work bounds.
func canonicalizeRDF(ctx context.Context, doc map[string]any, lo ldOptions) ([]byte, error) {
	return ld.Canonicalize(ctx, doc, ld.Options{AllowUndefinedTerms: lo.allowUndefinedTerms, Budget: lo.budget})
}
