package verifier

import "github.com/idmesh/idmesh/credential/ld"

// WatchBudget gives f the JSON-LD budget of every presentation verified
// until the test ends.
func WatchBudget(tb interface{ Cleanup(func()) }, f func(*ld.Budget)) {
	budgetHook.Store(&f)
	tb.Cleanup(func() { budgetHook.Store(nil) })
}
