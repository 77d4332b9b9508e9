package registry_test

import (
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// BenchmarkApply measures did:idmesh create operations applied per second
// by the state machine, against raw ed25519.Verify in the same run (each
// create verifies one signature).
//
//	go test -run '^$' -bench Apply ./registry/
func BenchmarkApply(b *testing.B) {
	const blockSize = 1000
	b.Run("ed25519.Verify", func(b *testing.B) {
		pub, priv, _ := ed25519.GenerateKey(nil)
		msg := make([]byte, 600)
		sig := ed25519.Sign(priv, msg)
		cpu := cpuTime()
		for b.Loop() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("verify")
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
	})

	// Execute: decode, validate, verify, apply and update the state tree,
	// on a chain that already holds 10,000 DIDs, without saving. "execute"
	// verifies every signature; "execute-verified" is what a node does with
	// operations its mempool already verified (the signature cache).
	// "execute-new-machine" is "execute" with a new machine for each
	// block, so that nothing a machine keeps between blocks (the state
	// tree nodes it read and made) is reused: the same block executed
	// again finds all its nodes there, a chain's next block only the
	// upper levels.
	fromScratch := func() *registry.Machine {
		return registry.NewMachine(map[registry.TxType]registry.Handler{registry.TxDIDOperation: registry.DIDHandler{}})
	}
	for _, bc := range []struct {
		name  string
		m     func() *registry.Machine
		fresh bool
	}{
		{"execute", fromScratch, false},
		{"execute-new-machine", fromScratch, true},
		{"execute-verified", registry.NewMachineDefault, false},
	} {
		b.Run(bc.name, func(b *testing.B) { benchExecute(b, bc.m, bc.fresh, blockSize) })
	}
	// Commit: propose (check and verify every operation), sign and save
	// each block of 1,000 creates with one synced LevelDB write on disk.
	b.Run("commit-disk", func(b *testing.B) {
		c, err := registrytest.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		next := uint64(0)
		var applied time.Duration
		for b.Loop() {
			b.StopTimer()
			txs, _, err := registrytest.CreateOps(next, blockSize)
			if err != nil {
				b.Fatal(err)
			}
			next += blockSize
			b.StartTimer()
			start := time.Now()
			if _, err := c.CommitBlock(txs); err != nil {
				b.Fatal(err)
			}
			applied += time.Since(start)
		}
		b.ReportMetric(float64(b.N*blockSize)/applied.Seconds(), "ops/s")
	})
}

func benchExecute(b *testing.B, newMachine func() *registry.Machine, fresh bool, blockSize int) {
	m := newMachine()
	c, err := registrytest.Open("")
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Fill(0, 10_000, 5000, nil); err != nil {
		b.Fatal(err)
	}
	txs, _, err := registrytest.CreateOps(1_000_000, uint64(blockSize))
	if err != nil {
		b.Fatal(err)
	}
	st := c.State()
	ctx := registry.TxContext{ChainID: st.ChainID, Height: st.Height + 1, Time: st.LastBlockTime.Add(time.Second), Validators: st.Validators}
	cpu := cpuTime()
	for b.Loop() {
		if fresh {
			m = newMachine()
		}
		ex, err := m.Execute(c.Store, st.StateRoot, ctx, txs)
		if err != nil || !ex.Results[blockSize-1].OK() {
			b.Fatal(err, ex.Results[blockSize-1])
		}
	}
	b.ReportMetric(float64(b.N*blockSize)/b.Elapsed().Seconds(), "ops/s")
	// CPU time per operation: execution is single-threaded, so on a quiet
	// machine this is the wall time; on a loaded one it is the steadier figure.
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N*blockSize), "cpu-µs/op")
	// The share of the tree update's node reads the machine's cache
	// answered (of the last machine, for execute-new-machine).
	if cs := m.NodeCacheStats(); cs.Hits+cs.Misses > 0 {
		b.ReportMetric(100*float64(cs.Hits)/float64(cs.Hits+cs.Misses), "node-hit-%")
	}
}
