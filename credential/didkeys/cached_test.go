package didkeys_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/didkeys"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/key"
)

// countingResolver counts the keys it resolves.
type countingResolver struct {
	next credential.KeyResolver
	n    atomic.Int64
}

func (c *countingResolver) ResolveKey(ctx context.Context, id, purpose string) (credential.VerificationKey, error) {
	c.n.Add(1)
	return c.next.ResolveKey(ctx, id, purpose)
}

// TestCachedKeysUntilBlock: with Height, a did:idmesh key (with its
// status) is resolved once per height; a block that rotates it or marks
// it compromised counts from the next lookup at the new height; without
// Height, did:idmesh keys are never kept.
func TestCachedKeysUntilBlock(t *testing.T) {
	l := &ledger{t: t, kv: mapKV{}, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	ka, kb, kc := gen(t, 11), gen(t, 12), gen(t, 13)
	create := &idmesh.Operation{Type: idmesh.Create, Document: doc("#key-1", ka.Public())}
	if err := create.Sign(chainID, "#key-1", ka); err != nil {
		t.Fatal(err)
	}
	v1 := l.apply(create)
	a, _ := create.SubjectDID()
	dk := didkeys.DIDKeys{Resolver: did.Methods{idmesh.Method: &idmesh.Resolver{State: l.kv}, "key": key.Resolver{}}}
	next := &countingResolver{next: dk}
	var height atomic.Uint64
	height.Store(1)
	c := &didkeys.CachedKeys{Next: next, Height: height.Load}
	ctx := t.Context()
	lookup := func(id string) (credential.VerificationKey, error) {
		t.Helper()
		return c.ResolveKey(ctx, id, credential.PurposeAssertion)
	}
	for range 3 {
		if v, err := lookup(a + "#key-1"); err != nil || !v.Public.Equal(ka.Public()) {
			t.Fatalf("key-1: %+v %v", v, err)
		}
	}
	if got := next.n.Load(); got != 1 {
		t.Fatalf("%d resolutions at one height, want 1", got)
	}

	// A block replaces #key-1 by #key-2: from the new height on, #key-1
	// is retired and #key-2 found.
	upd := &idmesh.Operation{Type: idmesh.Update, DID: a, Previous: v1, Document: doc("#key-2", kb.Public())}
	if err := upd.SignAll(chainID, idmesh.Signer{VM: "#key-1", Key: ka}, idmesh.Signer{VM: "#key-2", Key: kb}); err != nil {
		t.Fatal(err)
	}
	v2 := l.apply(upd)
	height.Store(2)
	if v, err := lookup(a + "#key-1"); err != nil || v.RetiredAt.IsZero() {
		t.Fatalf("key-1 after the rotation's block: %+v %v", v, err)
	}
	if v, err := lookup(a + "#key-2"); err != nil || !v.Public.Equal(kb.Public()) {
		t.Fatalf("key-2 after the rotation's block: %+v %v", v, err)
	}

	// A block marks #key-2 compromised: the next lookup at the new
	// height says so (and nothing compromised is kept).
	mark := &idmesh.Operation{Type: idmesh.Update, DID: a, Previous: v2, Document: doc("#key-3", kc.Public()), Compromised: []string{"#key-2"}}
	if err := mark.SignAll(chainID, idmesh.Signer{VM: "#key-2", Key: kb}, idmesh.Signer{VM: "#key-3", Key: kc}); err != nil {
		t.Fatal(err)
	}
	l.apply(mark)
	height.Store(3)
	for range 2 {
		if v, err := lookup(a + "#key-2"); err != nil || !v.Compromised {
			t.Fatalf("key-2 after the mark's block: %+v %v", v, err)
		}
	}
	before := next.n.Load()
	if _, err := lookup(a + "#key-2"); err != nil || next.n.Load() != before+1 {
		t.Fatal("a compromised key was kept")
	}
	// Failures are not kept either.
	for range 2 {
		if _, err := lookup(a + "#key-9"); !errors.Is(err, credential.ErrKeyNotFound) {
			t.Fatalf("unknown key: %v", err)
		}
	}
	if got := next.n.Load(); got != before+3 {
		t.Fatalf("%d resolutions of failing keys, want 2", got-before-1)
	}

	// Without Height, every did:idmesh lookup resolves.
	plain := &didkeys.CachedKeys{Next: next}
	before = next.n.Load()
	for range 3 {
		if _, err := plain.ResolveKey(ctx, a+"#key-3", credential.PurposeAssertion); err != nil {
			t.Fatal(err)
		}
	}
	if got := next.n.Load() - before; got != 3 {
		t.Fatalf("without Height: %d resolutions of 3 lookups", got)
	}
}

// TestCachedKeysBounded: whatever is looked up, the cache stays within
// MaxBytes and Max, and keeps answering correctly.
func TestCachedKeysBounded(t *testing.T) {
	var height atomic.Uint64
	for _, bc := range []struct{ maxBytes, max int }{{2000, 0}, {0, 5}, {1, 0}} {
		t.Run(fmt.Sprintf("bytes=%d,max=%d", bc.maxBytes, bc.max), func(t *testing.T) {
			c := &didkeys.CachedKeys{Next: didkeys.DIDKeys{Resolver: did.Methods{"key": key.Resolver{}}}, MaxBytes: bc.maxBytes, Max: bc.max, Height: height.Load}
			for i := range 40 {
				k := gen(t, byte(100+i))
				id := key.New(k.Public()) + "#" + k.Public().Multibase()
				v, err := c.ResolveKey(t.Context(), id, credential.PurposeAssertion)
				if err != nil || !v.Public.Equal(k.Public()) {
					t.Fatalf("%s: %+v %v", id, v, err)
				}
				bytes, n := c.Bytes()
				if bc.maxBytes > 0 && bytes > bc.maxBytes || bc.max > 0 && n > bc.max {
					t.Fatalf("after %d keys: %d bytes, %d entries", i+1, bytes, n)
				}
			}
		})
	}
}
