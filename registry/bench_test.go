package registry_test

import (
	"context"
	"crypto/ed25519"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
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

// BenchmarkAdmission measures the mempool's admission check of
// did:idmesh creates a node's peers gossip to it (CheckTxReads, each
// operation new to the node: decoded, its signature verified, its rules
// checked), per operation: one by one ("single"), and with each burst of
// 64 prepared first (run first, so that the process warming up counts
// against it), its signatures verified in ZIP-215 batches
// (Chain.PrepareChecks, what the node's gossip receiver does: "batched").
// With -benchtime 128x or less every operation is new to the process.
// cpu-µs/op is the steadier figure on a loaded machine; ed25519.Verify in
// BenchmarkApply is the baseline of the same run.
//
//	go test -run '^$' -bench Admission ./registry/
func BenchmarkAdmission(b *testing.B) {
	const burst, pool = 64, 64 * 128
	for i, batched := range []bool{true, false} {
		name := "single"
		if batched {
			name = "batched"
		}
		// Operations of their own, so that no key is known to the
		// process's caches of parsed keys from the other run.
		txs, _, err := registrytest.CreateOps(uint64(2_000_000+i*pool), pool)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			var chain *registry.Chain
			next := pool
			now := registrytest.Genesis().GenesisTime
			var cpu time.Duration
			for b.Loop() {
				if next == pool { // fresh caches: every operation new to the node
					b.StopTimer()
					chain = openBenchChain(b)
					next = 0
					b.StartTimer()
				}
				start := cpuTime()
				in := txs[next : next+burst]
				if batched {
					chain.PrepareChecks(in)
				}
				for _, t := range in {
					if _, _, err := chain.CheckTxReads(t, now); err != nil {
						b.Fatal(err)
					}
				}
				cpu += cpuTime() - start
				next += burst
			}
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*burst), "cpu-µs/op")
			b.ReportMetric(float64(b.N*burst)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// openBenchChain opens an empty chain in memory with the default machine
// (the node's DID handler and its caches).
func openBenchChain(b *testing.B) *registry.Chain {
	store, err := leveldb.OpenMemory()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	chain, err := registry.OpenChain(store, registrytest.Genesis(), registry.NewMachineDefault())
	if err != nil {
		b.Fatal(err)
	}
	return chain
}

// BenchmarkValidatorPath measures the CPU a validator spends on each
// did:idmesh create from its admission to its commit, without the
// network: two chains on disk that already hold the same 10,000 DIDs, a
// proposer and a validator, admit every create as a peer's gossip
// reaches a node (Chain.PrepareChecks on bursts of 64, then
// CheckTxReads for each); the proposer then proposes and commits blocks
// of 256 (Propose checks each operation again), and the validator
// decodes each block from its encoding, verifies it (executes it) and
// commits it. The figures, per operation: "proposer-cpu-µs/op" and
// "validator-cpu-µs/op", the work of each role, and "mean-cpu-µs/op"
// for a network of four (one proposer, three validators a block); a
// network's validators also gossip, vote and answer HTTP. Each operation
// is new to each chain's caches, as a network's are; but did/keys keeps
// the keys it checked per process, and generating an operation's key
// checks it, so neither role decompresses the key, which a network's
// validators each do once: about 13 µs a create, 5% of the figures,
// left out of both. Raw ed25519.Verify is the baseline of the same run
// (mean-x-raw).
// The CPU is the process's, so the store's compactions count; a CPU
// profile labels each role's work (-tagfocus role=validator).
//
//	go test -run '^$' -bench ValidatorPath -benchtime 60x ./registry/
func BenchmarkValidatorPath(b *testing.B) {
	const block, burst = 256, 64
	open := func() *registrytest.Chain {
		c, err := registrytest.Open(b.TempDir()) // on disk, as a node's
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		if _, err := c.Fill(0, 10_000, 1000, nil); err != nil {
			b.Fatal(err)
		}
		return c
	}
	prop, val := open(), open()
	if prop.State().LastBlockID != val.State().LastBlockID {
		b.Fatal("the two chains differ after the same blocks")
	}
	next := uint64(3_000_000)
	admit := func(c *registrytest.Chain, txs []registry.Tx) {
		now := c.State().LastBlockTime.Add(time.Second)
		for i := 0; i < len(txs); i += burst {
			in := txs[i:min(i+burst, len(txs))]
			c.PrepareChecks(in)
			for _, t := range in {
				if _, _, err := c.CheckTxReads(t, now); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	var propCPU, valCPU time.Duration
	for b.Loop() {
		b.StopTimer()
		txs, _, err := registrytest.CreateOps(next, block)
		if err != nil {
			b.Fatal(err)
		}
		next += block
		b.StartTimer()

		start := cpuTime()
		var blk *registry.Block
		pprof.Do(context.Background(), pprof.Labels("role", "proposer"), func(context.Context) {
			admit(prop, txs)
			blk, err = prop.CommitBlock(txs)
		})
		if err != nil {
			b.Fatal(err)
		}
		propCPU += cpuTime() - start
		commit, err := prop.Store.Commit(blk.Header.Height)
		if err != nil {
			b.Fatal(err)
		}
		raw := blk.Encode()

		start = cpuTime()
		pprof.Do(context.Background(), pprof.Labels("role", "validator"), func(context.Context) {
			admit(val, txs)
			var got *registry.Block
			if got, err = registry.DecodeBlock(raw); err != nil {
				return
			}
			if err = val.Verify(got); err != nil {
				return
			}
			_, err = val.Commit(got, commit)
		})
		if err != nil {
			b.Fatal(err)
		}
		valCPU += cpuTime() - start
	}
	ops := float64(b.N * block)
	p, v := float64(propCPU.Microseconds())/ops, float64(valCPU.Microseconds())/ops
	b.ReportMetric(p, "proposer-cpu-µs/op")
	b.ReportMetric(v, "validator-cpu-µs/op")
	b.ReportMetric((p+3*v)/4, "mean-cpu-µs/op")
	// The baseline, in the same run: raw ed25519.Verify of a 600-byte
	// message (about an operation's signing input).
	raw := rawVerifyCPU(b, 4000)
	b.ReportMetric(raw, "raw-verify-cpu-µs")
	b.ReportMetric((p+3*v)/4/raw, "mean-x-raw")
}

// rawVerifyCPU returns the CPU time of one ed25519.Verify of a 600-byte
// message, in µs, over n verifications.
func rawVerifyCPU(b *testing.B, n int) float64 {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 600)
	sig := ed25519.Sign(priv, msg)
	start := cpuTime()
	for range n {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("verify")
		}
	}
	return float64((cpuTime() - start).Microseconds()) / float64(n)
}
