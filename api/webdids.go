package api

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"

	"github.com/idmesh/idmesh/credential/didkeys"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
)

// webDIDs is what one verification request has resolved of did:web: the
// distinct DIDs it fetched (at most MaxWebDIDsPerVerification) and those
// that failed, which fail again without another fetch.
type webDIDs struct {
	mu     sync.Mutex
	seen   map[string]bool
	failed map[string]error
}

type webDIDsKey struct{}

// withWebDIDs returns ctx carrying a fresh count of did:web DIDs.
func withWebDIDs(ctx context.Context) context.Context {
	return context.WithValue(ctx, webDIDsKey{}, &webDIDs{seen: map[string]bool{}, failed: map[string]error{}})
}

// webCap is a did:web resolver that, under a verification request
// (withWebDIDs), fetches at most MaxWebDIDsPerVerification distinct DIDs
// and each failing one once. Other DIDs, and requests without the count,
// go to next unchanged.
type webCap struct{ next did.Resolver }

// Resolve implements did.Resolver.
func (c webCap) Resolve(ctx context.Context, d string, opts did.Options) (*did.ResolutionResult, error) {
	w, _ := ctx.Value(webDIDsKey{}).(*webDIDs)
	if w == nil || !strings.HasPrefix(d, "did:web:") {
		return c.next.Resolve(ctx, d, opts)
	}
	w.mu.Lock()
	if err, ok := w.failed[d]; ok {
		w.mu.Unlock()
		return nil, err
	}
	if !w.seen[d] && len(w.seen) >= MaxWebDIDsPerVerification {
		w.mu.Unlock()
		return nil, fmt.Errorf("resolve %s: %w: not fetched, this verification request already resolved %d did:web DIDs (the most one request may)",
			d, did.ErrNotFound, MaxWebDIDsPerVerification)
	}
	w.seen[d] = true
	w.mu.Unlock()
	res, err := c.next.Resolve(ctx, d, opts)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			err = fmt.Errorf("%w (the verification's deadline passed)", err)
		}
		w.mu.Lock()
		w.failed[d] = err
		w.mu.Unlock()
	}
	return res, err
}

// capWeb returns r with its did:web resolution under webCap: in a
// did.Methods (which credential/didkeys reads the chain's key index
// from) only the "web" method is wrapped.
func capWeb(r did.Resolver) did.Resolver {
	if m, ok := r.(did.Methods); ok {
		if web, ok := m["web"]; ok {
			m = maps.Clone(m)
			m["web"] = webCap{web}
		}
		return m
	}
	return webCap{r}
}

// keyIndex is the chain's key index that credential/didkeys would find in
// r (capWeb may hide it), or nil.
func keyIndex(r did.Resolver) didkeys.Index {
	if m, ok := r.(did.Methods); ok {
		ix, _ := m[idmesh.Method].(didkeys.Index)
		return ix
	}
	ix, _ := r.(didkeys.Index)
	return ix
}
