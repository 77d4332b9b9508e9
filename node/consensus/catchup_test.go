package consensus_test

import (
	"math/rand/v2"
	"testing"

	"github.com/idmesh/idmesh/node/consensus/consensustest"
)

// Catching up takes a few rebroadcast periods, not the liveness limit's
// hundred: two of four validators are cut off for a while (so the
// others cannot decide without one of them), then healed, with loss and
// random delays; over 50 seeds every run stays safe and live, and the
// network decides 4 more heights within 800 ticks of the heal (40
// periods of 20 ticks; the mean is about 130). The liveness limit alone
// would let catch-up slow down many times over (review R23). Answering
// no peer behind fails here at once; answering only peers that say they
// are stuck does not slow this scenario, where they say so within a
// period (TestHelpOnlyPeersThatStayBehind holds the finer rules).
func TestCatchUpIsBounded(t *testing.T) {
	const seeds, bound = 50, 800
	var total uint64
	for i := range seeds {
		seed := uint64(20_000_000 + i)
		rng := rand.New(rand.NewPCG(seed, 99))
		from := 50 + rng.Uint64N(300)
		heal := from + 20 + rng.Uint64N(400)
		cfg := consensustest.Config{Seed: seed, Powers: consensustest.Powers(4, false), MinDelay: 1, MaxDelay: 1 + rng.Uint64N(10),
			Loss: rng.Float64() * 0.3, TargetHeight: 3, AfterSettle: 4, Liveness: 4000,
			Partitions: []consensustest.Partition{{From: from, To: heal, Nodes: rng.Perm(4)[:2]}}}
		cfg.Relay = rng.IntN(2) == 0
		cfg.TxWait = rng.IntN(3) == 0
		s := consensustest.New(cfg)
		s.Run()
		if rep := s.Check(true); !rep.Safe() || !rep.Live() {
			t.Fatalf("seed %d: %s", seed, rep)
		}
		after := s.Stats().Ticks - min(heal, s.Stats().Ticks)
		if after > bound {
			t.Errorf("seed %d: %d ticks after the heal, want at most %d", seed, after, bound)
		}
		total += after
	}
	t.Logf("ticks after the heal: mean %d over %d seeds", total/seeds, seeds)
}
