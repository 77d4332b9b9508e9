package node

import (
	"bytes"
	"testing"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// TestDecidedFromMemory: the block the driver committed last, which
// chainApp.Decided answers late voters with from memory, is byte for
// byte the one the store holds, and older heights still come from the
// store; the commit always comes from the store.
func TestDecidedFromMemory(t *testing.T) {
	w := newWaitNode(t)
	c := &Consensus{Chain: w.Chain, Mempool: w.Mempool}
	app := chainApp{c: c}
	for i := range 3 {
		w.commit(t, registrytest.ToyTx("set a "+string(rune('1'+i))), registrytest.ToyTx("set b "+string(rune('1'+i))))
	}
	tip := w.Chain.State().Height
	stored, err := w.Chain.Store().Block(tip)
	if err != nil {
		t.Fatal(err)
	}
	c.lastBlock.Store(stored)
	check := func(h uint64) {
		t.Helper()
		b, cm, ok := app.Decided(h)
		want, err1 := w.Chain.Store().Block(h)
		wantC, err2 := w.Chain.Store().Commit(h)
		if !ok || err1 != nil || err2 != nil {
			t.Fatalf("height %d: %v %v %v", h, ok, err1, err2)
		}
		if !bytes.Equal(b.Encode(), want.Encode()) || !bytes.Equal(cm.Encode(), wantC.Encode()) {
			t.Fatalf("height %d: Decided differs from the store", h)
		}
	}
	for h := uint64(1); h <= tip; h++ {
		check(h)
	}
	if b, _, _ := app.Decided(tip); b != stored {
		t.Fatal("the tip's block was not taken from memory")
	}
	if _, _, ok := app.Decided(tip + 1); ok {
		t.Fatal("a height not decided yet was answered")
	}
	// A fuller commit saved later is the one served.
	cm, err := w.Chain.Store().Commit(tip)
	if err != nil {
		t.Fatal(err)
	}
	fuller := *cm
	fuller.Signatures = append([]registry.CommitSig{}, cm.Signatures...)
	fuller.Round = 1
	s, ok := w.Chain.Store().(interface{ SaveCommit(*registry.Commit) error })
	if !ok {
		t.Fatal("the store cannot replace a commit")
	}
	if err := s.SaveCommit(&fuller); err != nil {
		t.Fatal(err)
	}
	if _, got, _ := app.Decided(tip); got.Round != 1 {
		t.Fatal("Decided served a stale commit")
	}
}
