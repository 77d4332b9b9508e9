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
	mu sync.Mutex
	// seen and failed are made on the first did:web DID (most
	// verifications resolve none).
	seen   map[string]bool
	failed map[string]error
	cpu    *cpuSlot // the request's verification slot, or nil
}

type webDIDsKey struct{}

// withWebDIDs returns ctx carrying a fresh count of did:web DIDs, and the
// verification slot the request holds (nil if none), which is given back
// while a did:web document is fetched.
func withWebDIDs(ctx context.Context, cpu *cpuSlot) context.Context {
	return context.WithValue(ctx, webDIDsKey{}, &webDIDs{cpu: cpu})
}

// cpuSlot is a verification slot (of verifyLimits.slots) that a request
// holds for its CPU work and gives back while it waits on the network, so
// that requests stalled on slow did:web hosts cannot keep every slot.
// Safe for concurrent use; fetches in flight are counted.
type cpuSlot struct {
	sem chan struct{}

	mu   sync.Mutex
	held bool
	out  int // fetches in flight
}

// release gives the slot back for a fetch.
func (c *cpuSlot) release() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out++
	if c.out == 1 && c.held {
		<-c.sem
		c.held = false
	}
}

// reacquire takes the slot again when the last fetch is done, waiting as
// long as ctx allows (the verification's deadline).
func (c *cpuSlot) reacquire(ctx context.Context) error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	c.out--
	if c.out > 0 || c.held {
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("wait for a verification slot: %w", ctx.Err())
	}
	c.mu.Lock()
	c.held = true
	c.mu.Unlock()
	return nil
}

// done gives the slot back at the end of the request, if it is held.
func (c *cpuSlot) done() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held {
		<-c.sem
		c.held = false
	}
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
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	w.seen[d] = true
	w.mu.Unlock()
	w.cpu.release()
	res, err := c.next.Resolve(ctx, d, opts)
	if werr := w.cpu.reacquire(ctx); werr != nil && err == nil {
		res, err = nil, werr
	}
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			err = fmt.Errorf("%w (the verification's deadline passed)", err)
		}
		w.mu.Lock()
		if w.failed == nil {
			w.failed = map[string]error{}
		}
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
