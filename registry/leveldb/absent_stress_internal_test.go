package leveldb

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry"
)

// TestAbsentStress: readers on other goroutines never get not-found for a
// key (or transaction) whose block SaveBlock returned before the read
// began, while small filters are outgrown and rebuilt continuously and
// builds are slowed after their snapshot (by 0 to 2 ms, to vary the
// interleavings). Review R21.
func TestAbsentStress(t *testing.T) {
	oldMin, oldHook := absentMinKeys, buildHook
	absentMinKeys = 16
	buildHook = func() { time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond) }
	defer func() { absentMinKeys, buildHook = oldMin, oldHook }()
	s, err := OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	c := pruneChain(t, s)
	type pub struct {
		keys []string
		txs  []registry.Hash
	}
	var published atomic.Pointer[pub]
	published.Store(&pub{})
	var stop atomic.Bool
	var passes [4]atomic.Int64 // each reader's completed passes
	var fails atomic.Int64
	var wg sync.WaitGroup
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				p := published.Load()
				for _, k := range p.keys {
					if _, err := s.Get([]byte(k)); err != nil {
						if fails.Add(1) == 1 {
							t.Errorf("key %s: %v", k, err)
						}
					}
				}
				for _, h := range p.txs {
					if _, err := s.Tx(h); err != nil {
						if fails.Add(1) == 1 {
							t.Errorf("tx %s: %v", h, err)
						}
					}
				}
				if _, err := s.Get([]byte("never written")); !errors.Is(err, registry.ErrNotFound) {
					if fails.Add(1) == 1 {
						t.Errorf("an absent key: %v", err)
					}
				}
				passes[r].Add(1)
			}
		}()
	}
	var keys []string
	var txs []registry.Hash
	for b := range 150 {
		var cmds []string
		for i := range 10 {
			k := fmt.Sprintf("k%d.%d", b, i)
			cmds = append(cmds, "set "+k+" v")
			keys = append(keys, k)
			txs = append(txs, registry.Tx{Type: registry.TxDIDOperation, Payload: []byte("set " + k + " v")}.Hash())
		}
		commitCmds(t, c, cmds)
		published.Store(&pub{keys: append([]string(nil), keys...), txs: append([]registry.Hash(nil), txs...)})
		if b%10 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	// Every reader makes two more passes, the last over every key.
	var after [4]int64
	for r := range passes {
		after[r] = passes[r].Load()
	}
	for r := range passes {
		for passes[r].Load() < after[r]+2 {
			time.Sleep(time.Millisecond)
		}
	}
	stop.Store(true)
	wg.Wait()
	if b := s.absent.built.Load(); b < 3 {
		t.Errorf("%d builds: the filter was not outgrown and rebuilt under the readers", b)
	}
	if s.absent.hits.Load() == 0 {
		t.Error("the filter answered no read")
	}
	s.Close()
}
