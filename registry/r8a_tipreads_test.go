package registry_test

// Review R8 (security): attack tests of the tip read cache (tipReads),
// the remembered transaction hashes and the kept block encodings.

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// r8aUpdates returns a create of a DID and n updates of it in turn.
func r8aUpdates(t *testing.T, seed uint64, n int) []registry.Tx {
	t.Helper()
	op, k, err := registrytest.NewCreate(registrytest.ChainID, seed)
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := op.SubjectDID()
	prev, _ := op.VersionID()
	out := []registry.Tx{didTx(t, op)}
	for i := range n {
		doc := op.Document.Clone()
		ep := fmt.Sprintf(`"https://%d.example/"`, i)
		doc.Service = []did.Service{{ID: "#hub", Type: did.StringSet{"LinkedDomains"}, ServiceEndpoint: []byte(ep)}}
		up := &idmesh.Operation{Type: idmesh.Update, DID: subject, Previous: prev, Document: doc}
		if err := up.Sign(registrytest.ChainID, "#key-1", k); err != nil {
			t.Fatal(err)
		}
		out = append(out, didTx(t, up))
		if prev, err = up.VersionID(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestR8ATipReadsConcurrentAdmission: a node whose admission goroutines
// check every transaction (past, due and future ones) at every moment,
// commits included, agrees with a quiet node block after block, each
// re-executing the other's proposals. Run with -race.
func TestR8ATipReadsConcurrentAdmission(t *testing.T) {
	const dids, blocks = 6, 12
	busy, _ := openTipChain(t)
	quiet, _ := openTipChain(t)
	chains := make([][]registry.Tx, dids)
	var all []registry.Tx
	for i := range chains {
		chains[i] = r8aUpdates(t, uint64(900+i), blocks-1)
		all = append(all, chains[i]...)
	}
	now := registrytest.Genesis().GenesisTime
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var checks atomic.Int64
	for w := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				tx := all[(i*7+w)%len(all)]
				_ = busy.CheckTx(tx, now)
				_, _, _ = busy.CheckTxReads(tx, now)
				_, _ = busy.CommittedTx(tx.Hash())
				if i%16 == 0 {
					busy.PrepareChecks(all)
				}
				checks.Add(1)
			}
		})
	}
	for h := range blocks {
		var txs []registry.Tx
		for i := range chains {
			txs = append(txs, chains[i][h])
		}
		proposer, other := busy, quiet
		if h%2 == 1 {
			proposer, other = quiet, busy
		}
		blk, c := proposeOn(t, proposer, txs...)
		if err := other.Verify(blk); err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("block %d: %v", h+1, err)
		}
		for _, ch := range []*registry.Chain{busy, quiet} {
			if _, err := ch.Commit(blk, c); err != nil {
				close(stop)
				wg.Wait()
				t.Fatalf("commit %d: %v", h+1, err)
			}
		}
	}
	close(stop)
	wg.Wait()
	if busy.State().StateRoot != quiet.State().StateRoot {
		t.Fatal("the chains disagree")
	}
	t.Logf("%d concurrent checks", checks.Load())
}

// TestR8ALookupAfterSaveSeesTheSave: once a block is saved, Store.Tx
// (what Node.Status reads) reports its transactions committed; the
// node's replay lookup (Chain.CommittedTx) and the mempool's check
// (CheckTx) made after that must not answer from the tip that block
// replaced. Before the tip read cache they read the store and did. The
// window is between SaveBlock and the cache's replacement in Chain.Commit.
func TestR8ALookupAfterSaveSeesTheSave(t *testing.T) {
	a, hs := openTipChain(t)
	now := registrytest.Genesis().GenesisTime
	create, up1, _ := updateChain(t, 81)
	commitTxs(t, a, create)
	// Admission of up1 at tip 1: its replay lookup and check (cached).
	if _, err := a.CommittedTx(up1.Hash()); !errors.Is(err, registry.ErrNotFound) {
		t.Fatal(err)
	}
	if err := a.CheckTx(up1, now); err != nil {
		t.Fatal(err)
	}
	var inStore, lookup, check error
	hs.after = func() {
		_, inStore = a.Store().Tx(up1.Hash())
		_, lookup = a.CommittedTx(up1.Hash())
		check = a.CheckTx(up1, now)
	}
	commitTxs(t, a, up1)
	hs.after = nil
	if inStore != nil {
		t.Fatalf("store after the save: %v", inStore)
	}
	if lookup != nil {
		t.Errorf("replay lookup after the save (the store has it): %v", lookup)
	}
	if registry.CodeOf(check) != registry.CodeConflict {
		t.Errorf("check of the saved update after the save: %v, want a conflict (the store has version 2)", check)
	}
}

var _ = time.Second
