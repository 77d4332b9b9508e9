package ld_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/ld"
	"github.com/idmesh/idmesh/credential/ld/ldtest"
)

// TestAttackShapes: every hostile shape over a bound is refused with
// LIMIT_EXCEEDED_ERROR wrapping one of the bound sentinels (on main the
// issue's 200 KB credential of 20,000 identical objects took 6 s and
// failed with MALFORMED_VALUE_ERROR only after the quadratic node map),
// and the worst shapes within the bounds still canonicalize.
func TestAttackShapes(t *testing.T) {
	for _, sh := range ldtest.Shapes() {
		t.Run(sh.Name, func(t *testing.T) {
			doc := ldtest.Document(sh.Subject)
			delete(doc, "proof")
			_, err := ld.Canonicalize(t.Context(), doc, ld.Options{})
			if !sh.Refused {
				if err != nil {
					t.Fatalf("within the bounds: %v", err)
				}
				return
			}
			if credential.CodeOf(err, "") != credential.LimitExceededError {
				t.Fatalf("err = %v, want LIMIT_EXCEEDED_ERROR", err)
			}
			if !errors.Is(err, ld.ErrDocumentTooLarge) && !errors.Is(err, ld.ErrTooLarge) && !errors.Is(err, ld.ErrTooMuchWork) {
				t.Fatalf("err = %v wraps no bound sentinel", err)
			}
		})
	}
}

// TestCheckDocument: each bound of CheckDocument, at and over its value.
func TestCheckDocument(t *testing.T) {
	deep := func(n int) any {
		var v any = "x"
		for range n {
			v = []any{v}
		}
		return map[string]any{"a": v}
	}
	many := func(n int) any {
		a := make([]any, n)
		for i := range a {
			a[i] = true
		}
		return map[string]any{"a": a}
	}
	tests := []struct {
		name string
		doc  any
		opts ld.Options
		ok   bool
	}{
		{"depth at the bound", deep(ld.MaxDepth - 1), ld.Options{}, true},
		{"depth over the bound", deep(ld.MaxDepth), ld.Options{}, false},
		{"nodes at the bound", many(ld.DefaultMaxNodes - 2), ld.Options{}, true},
		{"nodes over the bound", many(ld.DefaultMaxNodes - 1), ld.Options{}, false},
		{"nodes over MaxNodes", many(10), ld.Options{MaxNodes: 11}, false},
		{"no node bound", many(ld.DefaultMaxNodes), ld.Options{MaxNodes: -1}, true},
		{"strings at the bound", map[string]any{"a": strings.Repeat("x", ld.MaxStringBytes-1)}, ld.Options{}, true},
		{"strings over the bound", map[string]any{"a": strings.Repeat("x", ld.MaxStringBytes)}, ld.Options{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ld.CheckDocument(tt.doc, tt.opts)
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ld.ErrDocumentTooLarge) || credential.CodeOf(err, "") != credential.LimitExceededError {
				t.Fatalf("err = %v, want LIMIT_EXCEEDED_ERROR wrapping ErrDocumentTooLarge", err)
			}
		})
	}
}

// TestContextBound: embedded contexts are counted; past MaxContexts the
// document is refused.
func TestContextBound(t *testing.T) {
	doc := ldtest.Document(`{"a":[` + strings.TrimSuffix(strings.Repeat(`{"@context":{"x":"urn:x"},"x":"1"},`, 10), ",") + `]}`)
	delete(doc, "proof")
	if _, err := ld.Canonicalize(t.Context(), doc, ld.Options{MaxContexts: 10}); err != nil {
		t.Fatalf("10 contexts, bound 10: %v", err)
	}
	_, err := ld.Canonicalize(t.Context(), doc, ld.Options{MaxContexts: 9})
	if !errors.Is(err, ld.ErrTooMuchWork) || credential.CodeOf(err, "") != credential.LimitExceededError {
		t.Fatalf("10 contexts, bound 9: err = %v", err)
	}
}
