package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

func (m *Mempool) leavingLen() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.leaving)
}

// TestMempoolLeaving: the channel of a pending transaction closes when
// it leaves (committed or rejected) and not when another one does; one
// not pending gets a closed channel; releasing forgets the entry, so
// that waiters that give up leave nothing behind.
func TestMempoolLeaving(t *testing.T) {
	m := NewMempool(100, 1<<20)
	a, b, c := registrytest.ToyTx("set a 1"), registrytest.ToyTx("set b 1"), registrytest.ToyTx("set c 1")
	for _, tx := range []registry.Tx{a, b, c} {
		if err := m.Add(tx.Hash(), tx); err != nil {
			t.Fatal(err)
		}
	}
	closed := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	unknown, release, pending := m.Leaving(registrytest.ToyTx("set z 1").Hash())
	release()
	if pending || !closed(unknown) || m.leavingLen() != 0 {
		t.Fatal("a transaction not pending: want a closed channel and no entry")
	}
	la1, ra1, _ := m.Leaving(a.Hash())
	la2, ra2, _ := m.Leaving(a.Hash())
	lb, rb, _ := m.Leaving(b.Hash())
	lc, rc, _ := m.Leaving(c.Hash())
	if m.leavingLen() != 3 {
		t.Fatalf("%d entries, want one per transaction waited on (3)", m.leavingLen())
	}
	m.Remove([]registry.Hash{c.Hash()}, nil)
	if closed(la1) || closed(la2) || closed(lb) || !closed(lc) {
		t.Fatal("committing c: want only c's channel closed")
	}
	m.Remove(nil, map[registry.Hash]error{b.Hash(): errors.New("no")})
	if closed(la1) || !closed(lb) {
		t.Fatal("rejecting b: want only b's channel closed")
	}
	rb()
	rc()
	ra1()
	if closed(la2) || m.leavingLen() != 1 {
		t.Fatalf("a still waited on: want its channel open and its entry kept (%d entries)", m.leavingLen())
	}
	ra2()
	ra2() // releasing twice is harmless
	if m.leavingLen() != 0 {
		t.Fatalf("%d entries after every waiter released, want 0", m.leavingLen())
	}
	// a, pending again after being committed and re-added, gets a new
	// channel; an old release does not drop the new entry.
	la3, ra3, _ := m.Leaving(a.Hash())
	m.Remove([]registry.Hash{a.Hash()}, nil)
	if !closed(la3) {
		t.Fatal("committing a: its channel stays open")
	}
	if err := m.Add(a.Hash(), a); err != nil {
		t.Fatal(err)
	}
	la4, ra4, _ := m.Leaving(a.Hash())
	ra3()
	if m.leavingLen() != 1 || closed(la4) {
		t.Fatal("an old waiter's release dropped a new waiter's entry")
	}
	ra4()
}

// TestWaitStatusWakesOnlyItsOwn: with many clients waiting, a block
// wakes only the waiters of the transactions it holds, each returns its
// own block's height, waiters that give up leave nothing behind, and a
// rejection after a recheck still wakes its waiter.
func TestWaitStatusWakesOnlyItsOwn(t *testing.T) {
	w := newWaitNode(t)
	const blocks, perBlock = 4, 50
	var txs []registry.Tx
	for i := range blocks * perBlock {
		tx := registrytest.ToyTx(fmt.Sprintf("set k%d %d", i, i))
		if _, err := w.Submit(tx); err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
	}
	// Two waiters on each transaction, one more that gives up at once.
	type result struct {
		i int
		s TxStatus
	}
	results := make(chan result, 2*len(txs))
	var wg sync.WaitGroup
	for i, tx := range txs {
		for range 2 {
			wg.Go(func() {
				s, err := w.WaitStatus(t.Context(), tx.Hash())
				if err != nil {
					t.Error(err)
				}
				results <- result{i, s}
			})
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if s, err := w.WaitStatus(ctx, tx.Hash()); err != nil || s.Status != TxPending {
			t.Fatalf("a waiter that gave up: %+v, %v", s, err)
		}
	}
	// Wait for every waiter to be registered before the first block.
	for w.Mempool.leavingLen() != len(txs) {
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(time.Millisecond): // polling goroutines' progress
		}
	}
	for b := range blocks {
		w.commit(t, txs[b*perBlock:(b+1)*perBlock]...)
		for range 2 * perBlock {
			r := <-results
			if want := uint64(r.i/perBlock + 1); r.s.Status != TxCommitted || r.s.Height != want {
				t.Fatalf("tx %d: %+v, want committed at %d", r.i, r.s, want)
			}
			if r.i/perBlock != b {
				t.Fatalf("tx %d of block %d woken by block %d", r.i, r.i/perBlock+1, b+1)
			}
		}
		select {
		case r := <-results:
			t.Fatalf("block %d woke tx %d (%+v), not in it", b+1, r.i, r.s)
		default:
		}
	}
	wg.Wait()
	if n := w.Mempool.leavingLen(); n != 0 {
		t.Fatalf("%d waiting entries left after every waiter returned", n)
	}

	// A pending transaction that a block makes invalid is rejected by
	// the recheck, and its waiter wakes.
	a, b := registrytest.ToyTx("setonce x 1"), registrytest.ToyTx("setonce x 2")
	for _, tx := range []registry.Tx{a, b} {
		if _, err := w.Submit(tx); err != nil {
			t.Fatal(err)
		}
	}
	got := make(chan TxStatus, 1)
	go func() {
		s, _ := w.WaitStatus(t.Context(), b.Hash())
		got <- s
	}()
	for w.Mempool.leavingLen() != 1 {
		time.Sleep(time.Millisecond) // polling a goroutine's progress
	}
	w.commit(t, a)
	if s := <-got; s.Status != TxRejected {
		t.Fatalf("b after a's block: %+v, want rejected", s)
	}
}
