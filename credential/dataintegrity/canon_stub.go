//go:build !ld

package dataintegrity

import (
	"context"
	"errors"
)

const rdfcAvailable = false

// canonicalizeRDF is a placeholder until credential/ld lands.
func canonicalizeRDF(context.Context, map[string]any, ldOptions) ([]byte, error) {
	return nil, errors.New("RDF canonicalization unavailable")
}
