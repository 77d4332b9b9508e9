package p2p_test

import (
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// BenchmarkConsensusThroughput sends bursts of signed votes from one host
// to another over loopback, with at most window messages in flight, and
// reports delivered messages per second. Every vote is verified by the
// receiver's topic validator.
func BenchmarkConsensusThroughput(b *testing.B) {
	const window = 1024
	chain := newTestChain(b, validatorKeys...)
	nodes := MustHosts(b, chain, 2, func(_ int, c *p2p.Config) { c.QueueSize = 2 * window })
	from, to := nodes[0], nodes[1]
	votes := make([]p2p.Message, b.N)
	for i := range votes {
		votes[i] = signedVote(from.key, 1+uint64(i/1000), int32(i%1000))
	}
	b.ResetTimer()
	start := time.Now()
	received := 0
	for sent := 0; sent < b.N; {
		for ; sent < b.N && sent-received < window; sent++ {
			from.Send(votes[sent])
		}
		mustReceive(b, to.Receive())
		received++
	}
	for received < b.N {
		mustReceive(b, to.Receive())
		received++
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if s := from.Stats(); s.Dropped != 0 {
		b.Fatalf("dropped %d", s.Dropped)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

// BenchmarkBlockPropagation publishes a proposal carrying a block of
// 2,000 DID operations from one of three hosts on loopback and reports
// the time until the last of the other two delivers it (each checks the
// proposer's signature and decodes the block first).
func BenchmarkBlockPropagation(b *testing.B) {
	chain := newTestChain(b, validatorKeys...)
	nodes := MustHosts(b, chain, 3, nil)
	txs, _, err := registrytest.CreateOps(0, 2000)
	if err != nil {
		b.Fatal(err)
	}
	blk := &registry.Block{Header: registry.Header{ChainID: testChainID, Height: 5, Time: time.Unix(1_750_000_000, 0).UTC()}, Txs: txs}
	blk.Header.TxRoot = registry.MerkleRoot(blk.TxHashes())
	blk.LastCommit = &registry.Commit{Height: 4}
	blk.Header.LastCommitHash = blk.LastCommit.Hash()
	from := nodes[0]
	var total time.Duration
	round := int32(0)
	for b.Loop() {
		p := &p2p.Proposal{Height: 5, Round: round, POLRound: consensus.NilRound, Block: blk, Proposer: addrOf(from.key)}
		round++
		p.Signature = ed25519.Sign(from.key, p.SignBytes(testChainID))
		start := time.Now()
		from.Send(p2p.Message{From: addrOf(from.key), Proposal: p})
		for _, n := range nodes[1:] {
			mustReceive(b, n.Receive())
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms/block")
	b.ReportMetric(float64(len(blk.Encode()))/1e6, "MB/block")
}
