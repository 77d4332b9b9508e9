package registry_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// TestForgetDuringChecks: checks on other goroutines keep decoding
// operations (through the DID handler's cache, PrepareChecks and
// DecodeOperation) while blocks holding them are committed and forgotten;
// run with -race. Afterwards a committed operation's check gives the same
// answer decoded afresh as from the cache: forgetting changes only cost.
func TestForgetDuringChecks(t *testing.T) {
	c, err := registrytest.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	txs, _, err := registrytest.CreateOps(0, 96)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_750_000_100, 0)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Go(func() {
			for !stop.Load() {
				for i, tx := range txs {
					switch (i + g) % 3 {
					case 0:
						_ = c.CheckTx(tx, now)
					case 1:
						c.PrepareChecks(txs[i : i+1])
					default:
						_, _ = c.DecodeOperation(tx.Payload)
					}
				}
			}
		})
	}
	for i := 0; i < len(txs); i += 8 {
		if _, err := c.CommitBlock(txs[i : i+8]); err != nil {
			stop.Store(true)
			wg.Wait()
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	for i, tx := range txs {
		first := c.CheckTx(tx, now)  // decoded again, or as the racing checks left it
		second := c.CheckTx(tx, now) // from the cache
		if first == nil || second == nil || first.Error() != second.Error() || registry.CodeOf(first) != registry.CodeOf(second) {
			t.Fatalf("committed operation %d: checks gave %v, then %v", i, first, second)
		}
	}
}
