package registry_test

import (
	"errors"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// TestCommittedOperationsForgotten: once a block is saved, the DID
// handler's cache of decoded operations drops the block's operations (a
// check of one again decodes it, and is refused as committed as before)
// and keeps the ones still in flight (a check of one decodes nothing).
func TestCommittedOperationsForgotten(t *testing.T) {
	c, err := registrytest.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	txs, _, err := registrytest.CreateOps(0, 6)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_750_000_100, 0)
	check := func(ts []registry.Tx) (decodes uint64, errs []error) {
		before := c.OperationDecodes()
		for _, tx := range ts {
			errs = append(errs, c.CheckTx(tx, now))
		}
		return c.OperationDecodes() - before, errs
	}
	if d, errs := check(txs); d != 6 || errors.Join(errs...) != nil {
		t.Fatalf("first checks: %d decodings, errors %v; want 6, none", d, errs)
	}
	if d, _ := check(txs); d != 0 {
		t.Fatalf("second checks: %d decodings, want 0 (cached)", d)
	}
	if _, err := c.CommitBlock(txs[:4]); err != nil {
		t.Fatal(err)
	}
	// In flight: still decoded once.
	if d, errs := check(txs[4:]); d != 0 || errors.Join(errs...) != nil {
		t.Fatalf("pending operations: %d decodings, errors %v; want 0, none", d, errs)
	}
	// Committed: forgotten, and refused as before.
	d, errs := check(txs[:4])
	if d != 4 {
		t.Fatalf("committed operations: %d decodings, want 4 (forgotten)", d)
	}
	for i, err := range errs {
		if err == nil {
			t.Fatalf("committed operation %d passed its check again", i)
		}
	}
}
