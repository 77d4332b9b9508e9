package consensustest_test

import (
	"fmt"
	"testing"

	"github.com/idmesh/idmesh/node/consensus/consensustest"
)

// BenchmarkSimulation measures the engine alone in simulation: N
// validators of equal power, no loss, delays of 1-3 ticks, 20 heights
// per run. A decision is a height decided by the network;
// msgs/decision counts the messages delivered.
func BenchmarkSimulation(b *testing.B) {
	const heights = 20
	for _, n := range []int{4, 7, 10} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			var decisions, msgs, ticks int
			seed := uint64(0)
			for b.Loop() {
				seed++
				s := consensustest.New(consensustest.Config{Seed: seed, Powers: consensustest.Powers(n, false), MinDelay: 1, MaxDelay: 3, TargetHeight: heights})
				s.Run()
				if rep := s.Check(true); len(rep.Violations) > 0 {
					b.Fatalf("seed %d: %s", seed, rep)
				}
				decisions += heights
				msgs += s.Stats().Delivered
				ticks += int(s.Stats().Ticks)
			}
			b.ReportMetric(float64(decisions)/b.Elapsed().Seconds(), "decisions/s")
			b.ReportMetric(float64(msgs)/float64(decisions), "msgs/decision")
			b.ReportMetric(float64(ticks)/float64(decisions), "ticks/decision")
		})
	}
}
