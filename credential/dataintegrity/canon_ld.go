//go:build ld

package dataintegrity

import (
	"context"

	"github.com/idmesh/idmesh/credential/ld"
)

const rdfcAvailable = true

// canonicalizeRDF is RDFC-1.0 of doc in canonical N-Quads, with bundled
// contexts only.
func canonicalizeRDF(ctx context.Context, doc map[string]any, lo ldOptions) ([]byte, error) {
	return ld.Canonicalize(ctx, doc, ld.Options{AllowUndefinedTerms: lo.allowUndefinedTerms})
}
