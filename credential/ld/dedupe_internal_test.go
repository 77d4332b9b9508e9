package ld

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// dedupeByMap is the reference: the first of equal quads, in order.
func dedupeByMap(quads []quad) []quad {
	seen := map[quad]bool{}
	var out []quad
	for _, q := range quads {
		if !seen[q] {
			seen[q] = true
			out = append(out, q)
		}
	}
	return out
}

// TestDedupe: dedupe keeps the first of equal quads, in their order,
// whatever the quads and however many repeat, as a map-based dedupe does.
func TestDedupe(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	terms := []term{
		{kind: kindBlank, value: "b0"}, {kind: kindBlank, value: "b1"}, {kind: kindIRI, value: "http://a"},
		{kind: kindIRI, value: "b0"}, {kind: kindLiteral, value: "x", datatype: xsdString}, {kind: kindLiteral, value: "x", lang: "en"},
		{kind: kindLiteral, value: "x", datatype: xsdInteger}, {},
	}
	pick := func() term { return terms[r.IntN(len(terms))] }
	for n := range 200 {
		quads := make([]quad, n%40)
		for i := range quads {
			quads[i] = quad{s: pick(), p: pick(), o: pick(), g: pick()}
			if i > 0 && r.IntN(3) == 0 {
				quads[i] = quads[r.IntN(i)]
			}
		}
		in := slices.Clone(quads)
		got, want := dedupe(quads), dedupeByMap(in)
		if len(got) != len(want) || (len(want) > 0 && !slices.Equal(got, want)) {
			t.Fatalf("dedupe(%v) = %v, want %v", in, got, want)
		}
		if !slices.Equal(quads, in) {
			t.Fatal("dedupe changed its input")
		}
	}
}
