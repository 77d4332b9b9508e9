package ld_test

import (
	"errors"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/ld"
	"github.com/idmesh/idmesh/credential/ld/ldtest"
)

// TestBudgetShared: documents canonicalized with one budget share one
// document's bounds; once it is spent, the next document is refused
// before any work.
func TestBudgetShared(t *testing.T) {
	var subject string
	for _, sh := range ldtest.Shapes() {
		if sh.Name == "comparisons-under-bound" {
			subject = sh.Subject
		}
	}
	doc := ldtest.Document(subject)
	delete(doc, "proof")
	b := ld.NewBudget(ld.Options{})
	if _, err := ld.Canonicalize(t.Context(), doc, ld.Options{Budget: b}); err != nil {
		t.Fatalf("first document: %v", err)
	}
	first := b.Spent()
	if first.NodeMapWork == 0 || first.Quads == 0 || first.NodeMapWork > ld.DefaultMaxNodeMapWork {
		t.Fatalf("spent %+v", first)
	}
	for i := range 3 {
		_, err := ld.Canonicalize(t.Context(), doc, ld.Options{Budget: b})
		if !errors.Is(err, ld.ErrTooMuchWork) || credential.CodeOf(err, "") != credential.LimitExceededError {
			t.Fatalf("document %d: %v, want LIMIT_EXCEEDED_ERROR (%v)", i+2, err, ld.ErrTooMuchWork)
		}
	}
	if s := b.Spent(); s.Documents != 4 || s.NodeMapWork > ld.DefaultMaxNodeMapWork+ld.DefaultMaxQuads {
		t.Errorf("spent %+v", s)
	}
	// Without a budget, every document has the whole bounds.
	for range 2 {
		if _, err := ld.Canonicalize(t.Context(), doc, ld.Options{}); err != nil {
			t.Fatal(err)
		}
	}
}
