package node

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/idmesh/idmesh/registry"
)

// TestPreparerBatchesWaiting holds the first batch until many calls
// queue behind it: each transaction is prepared exactly once, no call
// returns before its own transaction's batch ran, the calls that queued
// are prepared together, in batches of at most registry.MaxPrepareChecks,
// and a call alone is prepared at once, alone.
func TestPreparerBatchesWaiting(t *testing.T) {
	for _, waiting := range []int{1, 2, 40, registry.MaxPrepareChecks + 30} {
		t.Run(fmt.Sprint(waiting), func(t *testing.T) {
			var (
				mu       sync.Mutex
				prepared = map[string]int{}
				batches  [][]string
			)
			// The first two batches are held until the test releases
			// them; a transaction counts as prepared when its batch ends.
			release := []chan struct{}{make(chan struct{}), make(chan struct{})}
			p := &preparer{prepare: func(txs []registry.Tx) {
				var names []string
				for _, tx := range txs {
					names = append(names, string(tx.Payload))
				}
				mu.Lock()
				batches = append(batches, names)
				i := len(batches) - 1
				mu.Unlock()
				if i < len(release) {
					<-release[i]
				}
				mu.Lock()
				for _, name := range names {
					prepared[name]++
				}
				mu.Unlock()
			}}
			isPrepared := func(name string) bool {
				mu.Lock()
				defer mu.Unlock()
				return prepared[name] > 0
			}
			tx := func(i int) registry.Tx {
				return registry.Tx{Type: registry.TxDIDOperation, Payload: fmt.Appendf(nil, "tx%d", i)}
			}
			var wg sync.WaitGroup
			errs := make(chan error, waiting+1)
			call := func(i int) {
				defer wg.Done()
				p.do(tx(i))
				if name := fmt.Sprintf("tx%d", i); !isPrepared(name) {
					errs <- fmt.Errorf("%s returned before it was prepared", name)
				}
			}
			wg.Add(1)
			go call(0)
			started := func(k int) func() bool {
				return func() bool {
					mu.Lock()
					defer mu.Unlock()
					return len(batches) == k
				}
			}
			waitUntil(started(1)) // the first call is preparing, alone
			for i := 1; i <= waiting; i++ {
				wg.Add(1)
				go call(i)
			}
			waitUntil(func() bool { // all of them queued behind it
				p.mu.Lock()
				defer p.mu.Unlock()
				return len(p.queue) == waiting
			})
			close(release[0])
			waitUntil(started(2)) // the second batch runs: a call it holds must not return
			for range 1000 {
				runtime.Gosched()
			}
			close(release[1])
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if len(prepared) != waiting+1 {
				t.Fatalf("%d transactions prepared, want %d", len(prepared), waiting+1)
			}
			for name, n := range prepared {
				if n != 1 {
					t.Errorf("%s prepared %d times", name, n)
				}
			}
			if !slices.Equal(batches[0], []string{"tx0"}) {
				t.Errorf("first batch %v, want the first call alone", batches[0])
			}
			want := (waiting + registry.MaxPrepareChecks - 1) / registry.MaxPrepareChecks
			if got := len(batches) - 1; got != want {
				t.Errorf("%d calls that waited were prepared in %d batches, want %d", waiting, got, want)
			}
			for _, b := range batches {
				if len(b) > registry.MaxPrepareChecks {
					t.Errorf("batch of %d, at most %d", len(b), registry.MaxPrepareChecks)
				}
			}
			wantAlone := uint64(1) // the first call
			if waiting%registry.MaxPrepareChecks == 1 {
				wantAlone++ // the last batch of those that waited holds one
			}
			if b, n, alone := p.batches.Load(), p.txs.Load(), p.alone.Load(); b != uint64(len(batches)) || n != uint64(waiting+1) || alone != wantAlone {
				t.Errorf("counted %d batches of %d transactions, %d alone; want %d, %d, %d", b, n, alone, len(batches), waiting+1, wantAlone)
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.busy || len(p.queue) != 0 {
				t.Errorf("preparer left busy=%v with %d queued", p.busy, len(p.queue))
			}
		})
	}
}

// waitUntil yields until cond holds.
func waitUntil(cond func() bool) {
	for !cond() {
		runtime.Gosched()
	}
}

// TestPreparerSurvivesPanic: a prepare that panics still lets the calls
// of its batch return and the next call prepare.
func TestPreparerSurvivesPanic(t *testing.T) {
	calls := 0
	p := &preparer{prepare: func([]registry.Tx) {
		calls++
		if calls == 1 {
			panic("prepare failed")
		}
	}}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic did not reach the caller")
			}
		}()
		p.do(registry.Tx{Payload: []byte("a")})
	}()
	p.do(registry.Tx{Payload: []byte("b")}) // would block forever if busy stayed set
	if calls != 2 || p.busy {
		t.Fatalf("calls %d, busy %v; want 2, false", calls, p.busy)
	}
}
