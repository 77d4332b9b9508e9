package verifier_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/ld"
	"github.com/idmesh/idmesh/credential/ld/ldtest"
	"github.com/idmesh/idmesh/verifier"
)

// hostilePresentation is a presentation by the fixture's holder, signed
// with eddsa-jcs-2022 (which does no JSON-LD work: the holder's proof
// verifies), of n copies of ldtest's credential of the named shape.
func hostilePresentation(tb testing.TB, f *fixture, shape string, n int) map[string]any {
	tb.Helper()
	var subject string
	for _, sh := range ldtest.Shapes() {
		if sh.Name == shape {
			subject = sh.Subject
		}
	}
	if subject == "" {
		tb.Fatalf("no shape %q", shape)
	}
	vcs := make([]any, n)
	for i := range vcs {
		vcs[i] = ldtest.Document(subject)
	}
	p := presenter{f: f, format: formatDI, context: "https://www.w3.org/ns/credentials/examples/v2"}
	return p.MustPresent(tb, vcs, "", "")
}

// ldtestKeys adds ldtest's signer to f's keys, so that its credentials'
// proofs get as far as canonicalization (then their signature fails).
func ldtestKeys(f *fixture) {
	s := ldtest.Signer()
	did, _, _ := strings.Cut(s.ID, "#")
	f.keys.Add(credential.VerificationKey{ID: s.ID, Controller: did, Public: s.Key.Public()}, credential.PurposeAssertion)
}

// TestPresentationBudget is the review's M1: a presentation of 30 copies
// of the credential that does the most node-map work under the
// per-document bounds (and of 9 copies of the one with the most blank
// nodes) did 30 (9) documents' worth of JSON-LD work. The presentation
// and its credentials now share one document's bounds: the work counted
// stays within them, and the credentials past the budget are refused
// with LIMIT_EXCEEDED_ERROR before any JSON-LD work.
func TestPresentationBudget(t *testing.T) {
	for _, c := range []struct {
		shape string
		n     int
	}{{"comparisons-under-bound", 30}, {"blank-nodes", 9}} {
		t.Run(c.shape, func(t *testing.T) {
			f := newFixture(t)
			ldtestKeys(f)
			v := f.verifier()
			vp := hostilePresentation(t, f, c.shape, c.n)
			var budget *ld.Budget
			verifier.WatchBudget(t, func(b *ld.Budget) { budget = b })
			res := v.VerifyPresentation(t.Context(), vp, verifier.Options{})
			if res.Verified {
				t.Fatal("verified")
			}
			if !hasCheck(res, verifier.CheckProof, true) {
				t.Fatalf("the holder's proof did not verify: %+v", res.ProblemDetails)
			}
			if len(res.Credentials) != c.n {
				t.Fatalf("%d credential results for %d credentials", len(res.Credentials), c.n)
			}
			refused := 0
			for _, cr := range res.Credentials {
				if len(cr.ProblemDetails) > 0 && cr.ProblemDetails[0].Type == credential.LimitExceededError.Type() {
					refused++
				}
			}
			if refused < c.n-2 {
				t.Errorf("%d of %d credentials refused over the budget, want at least %d", refused, c.n, c.n-2)
			}
			if budget == nil {
				t.Fatal("no budget")
			}
			s := budget.Spent()
			t.Logf("spent %+v", s)
			// One document's bounds, plus at most one overshoot (the
			// count that crossed a bound, at most the values bound).
			if s.NodeMapWork > ld.DefaultMaxNodeMapWork+ld.DefaultMaxQuads || s.Quads > 2*ld.DefaultMaxQuads ||
				s.BlankNodes > ld.DefaultMaxBlankNodes+ld.DefaultMaxQuads || s.Work > 2*ld.DefaultMaxWork {
				t.Errorf("spent %+v: more than one document's bounds", s)
			}
		})
	}
}

// TestPresentationProofFirst: when the holder's proof fails, the
// credentials are not checked (each result says so), and no JSON-LD work
// is done on them.
func TestPresentationProofFirst(t *testing.T) {
	f := newFixture(t)
	ldtestKeys(f)
	v := f.verifier()
	vp := MustBreak(t, hostilePresentation(t, f, "comparisons-under-bound", 30))
	var budget *ld.Budget
	verifier.WatchBudget(t, func(b *ld.Budget) { budget = b })
	res := v.VerifyPresentation(t.Context(), vp, verifier.Options{})
	if res.Verified || hasCheck(res, verifier.CheckProof, true) {
		t.Fatalf("the broken proof verified: %+v", res.Checks)
	}
	if !hasCheck(res, verifier.CheckCredentials, false) || !hasDetail(res, verifier.CheckCredentials, "not checked") {
		t.Errorf("credentials check: %+v", res.Results)
	}
	if len(res.Credentials) != 30 {
		t.Fatalf("%d credential results", len(res.Credentials))
	}
	for i, cr := range res.Credentials {
		if cr.Verified || len(cr.ProblemDetails) != 1 || !strings.Contains(cr.ProblemDetails[0].Detail, "not checked") {
			b, _ := json.Marshal(cr.ProblemDetails)
			t.Fatalf("credential %d: %s", i+1, b)
		}
	}
	if s := budget.Spent(); s.Documents != 0 {
		t.Errorf("JSON-LD work done on %d documents", s.Documents)
	}
}

// hasCheck reports whether check ran with the outcome verified.
func hasCheck(res verifier.Result, check string, verified bool) bool {
	for _, r := range res.Results {
		if r.Check == check {
			return r.Verified == verified
		}
	}
	return false
}

// BenchmarkWorstPresentation verifies the review's worst presentations
// (M1), holder's proof valid, against one credential of the same shape
// (the single-document worst case): with one budget per request the
// ratio stays near 1 (it was 30 and 9).
func BenchmarkWorstPresentation(b *testing.B) {
	for _, c := range []struct {
		shape string
		n     int
	}{{"comparisons-under-bound", 30}, {"blank-nodes", 9}} {
		f := newFixture(b)
		ldtestKeys(f)
		v := f.verifier()
		vp := hostilePresentation(b, f, c.shape, c.n)
		one := hostilePresentation(b, f, c.shape, 1)["verifiableCredential"].([]any)[0]
		b.Run(c.shape+"/one-credential", func(b *testing.B) {
			for b.Loop() {
				v.VerifyCredential(b.Context(), one, verifier.Options{})
			}
		})
		b.Run(c.shape+"/presentation", func(b *testing.B) {
			for b.Loop() {
				if res := v.VerifyPresentation(b.Context(), vp, verifier.Options{}); res.Verified {
					b.Fatal("verified")
				}
			}
		})
	}
}
