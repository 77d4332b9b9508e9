package ld

import (
	"errors"
	"math"
	"testing"

	"github.com/idmesh/idmesh/credential/ld/ldtest"
)

// TestNodeMapBudgetStops: on the credential (20,000 identical
// objects under one property), the node map budget stops at its bound,
// having counted a few dozen values, not 20,000, and before json-gold's
// node map generation (which compared every pair) is run.
func TestNodeMapBudgetStops(t *testing.T) {
	doc := ldtest.Document(ldtest.Shapes()[0].Subject)
	delete(doc, "proof")
	expanded, err := expand(doc, true, DefaultMaxContexts)
	if err != nil {
		t.Fatal(err)
	}
	b := newNodeMapBudget(math.MaxInt, 1000)
	err = b.walk(expanded, "@default", "", "", false, false)
	if !errors.Is(err, ErrTooMuchWork) {
		t.Fatalf("err = %v, want ErrTooMuchWork", err)
	}
	// 46 references to the subject's property make 1,035 comparisons.
	if b.work <= 1000 || b.work > 1000+46 || b.values > 2*46+10 {
		t.Fatalf("stopped at %d comparisons and %d values", b.work, b.values)
	}
	// The same count bounds the values.
	b = newNodeMapBudget(500, math.MaxInt)
	if err := b.walk(expanded, "@default", "", "", false, false); !errors.Is(err, ErrTooLarge) || b.values != 501 {
		t.Fatalf("err = %v after %d values, want ErrTooLarge after 501", err, b.values)
	}
}

// TestNodeMapBudgetMerges: values of one node given in several places
// add up, as json-gold's node map merges them.
func TestNodeMapBudgetMerges(t *testing.T) {
	expanded := []any{
		map[string]any{"@id": "urn:a", "urn:p": []any{map[string]any{"@value": "1"}, map[string]any{"@value": "2"}}},
		map[string]any{"@id": "urn:a", "urn:p": []any{map[string]any{"@value": "3"}}, "@type": []any{"urn:T", "urn:U"}},
		map[string]any{"urn:p": []any{map[string]any{"@value": "4"}}},
		map[string]any{"@id": "urn:b", "@reverse": map[string]any{"urn:q": []any{map[string]any{"@id": "urn:c"}, map[string]any{"@id": "urn:c"}}}},
	}
	b := newNodeMapBudget(math.MaxInt, math.MaxInt)
	if err := b.walk(expanded, "@default", "", "", false, false); err != nil {
		t.Fatal(err)
	}
	// urn:a p: 0+1+2; urn:a @type: 0+1; the blank node: 0; urn:c q: 0+1.
	if b.work != 5 || b.values != 8 {
		t.Fatalf("work %d, values %d; want 5, 8", b.work, b.values)
	}
}
