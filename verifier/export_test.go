package verifier

import (
	"context"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/ld"
)

// WatchBudget gives f the JSON-LD budget of every presentation verified
// until the test ends.
func WatchBudget(tb interface{ Cleanup(func()) }, f func(*ld.Budget)) {
	budgetHook.Store(&f)
	tb.Cleanup(func() { budgetHook.Store(nil) })
}

// SetListCacheBudget bounds the verifier's cache of status lists to n
// bytes (0: the default).
func SetListCacheBudget(v *Verifier, n int) { v.lists.budget = n }

// ListCacheBytes returns the bytes the verifier's cache of status lists
// accounts for.
func ListCacheBytes(v *Verifier) int { return v.lists.size() }

// StatusCheck runs the status check alone on a parsed credential.
func StatusCheck(ctx context.Context, v *Verifier, c *credential.Credential) (uint64, error) {
	return v.status(ctx, c)
}

// SignedText returns the JSON text AppendJSON writes for r's Document
// without encoding it, or "" when it encodes it.
func SignedText(r Result) string { return r.signed.of(r.Document) }
