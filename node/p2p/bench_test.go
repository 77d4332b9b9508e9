package p2p_test

import (
	"testing"
	"time"

	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/p2p"
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
	votes := make([]consensus.Message, b.N)
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
