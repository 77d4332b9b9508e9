package consensus_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/consensus/consensustest"
)

// coverage counts, per rule branch, the TestSimulation runs that fired it.
type coverage struct {
	mu   sync.Mutex
	runs int
	by   map[string]int
}

func (c *coverage) add(s *consensustest.Sim) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.runs++
	for k, v := range s.Coverage() {
		if v > 0 {
			c.by[k]++
		}
	}
}

// report logs the coverage table and fails t if a branch was never
// reached.
func (c *coverage) report(t *testing.T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "rule coverage over %d runs (runs that fired each branch):\n", c.runs)
	for _, k := range consensus.Branches {
		fmt.Fprintf(&b, "  %-32s %6d\n", k, c.by[k])
		if c.by[k] == 0 && c.runs > 0 && *seedFlag == 0 {
			t.Errorf("no run reached %q: the simulation no longer exercises it", k)
		}
	}
	t.Log(b.String())
}

var (
	seedFlag  = flag.Uint64("seed", 0, "run simulation tests with this seed only (or IDMESH_SIM_SEED)")
	seedsFlag = flag.Int("seeds", 0, "number of seeds per simulation subtest (or IDMESH_SIM_SEEDS)")
)

// runSim runs cfg and fails t with the seed, a rerun hint and the tail of
// the trace if the checker finds a violation. It returns the checker's
// report.
func runSim(t *testing.T, cfg consensustest.Config, live bool) (*consensustest.Sim, consensustest.Report) {
	t.Helper()
	s := consensustest.New(cfg)
	s.Run()
	rep := s.Check(live)
	if len(rep.Violations) > 0 {
		failRun(t, cfg, rep)
	}
	return s, rep
}

func failRun(t *testing.T, cfg consensustest.Config, rep consensustest.Report) {
	t.Helper()
	cfg.Trace = true
	cfg.Byzantine = freshStrategies(cfg)
	replay := consensustest.New(cfg)
	replay.Run()
	t.Errorf("%s\n%s\nrerun: go test ./node/consensus -run '%s' -seed %d -v\ntrace tail:\n%s",
		cfg.Describe(), rep, runPattern(t.Name()), cfg.Seed, consensustest.Tail(replay.TraceLines(), 60))
}

func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + p + "$"
	}
	return strings.Join(parts, "/")
}

// freshStrategies returns new instances of cfg's strategies (they keep
// state), for a replay.
func freshStrategies(cfg consensustest.Config) map[int]consensustest.Strategy {
	out := map[int]consensustest.Strategy{}
	var coalition *consensustest.ForkCoalition
	for i, s := range cfg.Byzantine {
		if s.Name() == "fork-coalition" {
			if coalition == nil {
				coalition = consensustest.NewForkCoalition()
			}
			out[i] = coalition
			continue
		}
		for _, f := range consensustest.Strategies() {
			if f.Name() == s.Name() {
				out[i] = f
			}
		}
	}
	return out
}

// TestSimulation runs random scenarios on 4, 7 and 10 validators with
// equal and unequal powers: random delays (reordering), loss,
// duplication, partitions that heal, honest restarts from the
// write-ahead log, and up to f Byzantine validators (power below a
// third) under each strategy, in turn by seed. Safety must always hold;
// every honest node must decide the target height within the liveness
// bound after the network settles.
func TestSimulation(t *testing.T) {
	cases := []struct {
		name      string
		powers    []int64
		def, long int
		base      int
		scenario  func(seed uint64, powers []int64) consensustest.Config // nil: RandomConfig
	}{
		{"n=4/equal", consensustest.Powers(4, false), 50, 30000, 1_000_000, nil},
		{"n=4/unequal", consensustest.Powers(4, true), 40, 20000, 2_000_000, nil},
		{"n=7/equal", consensustest.Powers(7, false), 20, 15000, 3_000_000, nil},
		{"n=7/unequal", consensustest.Powers(7, true), 20, 15000, 4_000_000, nil},
		{"n=10/equal", consensustest.Powers(10, false), 6, 10000, 5_000_000, nil},
		{"n=10/unequal", consensustest.Powers(10, true), 6, 10000, 6_000_000, nil},
		// Totals divisible by 3, where "more than 2/3" and "at least
		// 2/3" differ: 4 of 6 validators, and powers 1, 1, 2, 2 (4 of 6).
		{"n=6/equal", consensustest.Powers(6, false), 20, 15000, 8_000_000, nil},
		{"n=4/thirds", []int64{1, 1, 2, 2}, 30, 20000, 9_000_000, nil},
		// Split locks (line 28's nil branch): about 1 seed in 25 gets there.
		{"n=4/split", consensustest.Powers(4, false), 40, 20000, 11_000_000, consensustest.SplitConfig},
	}
	cov := &coverage{by: map[string]int{}}
	t.Cleanup(func() { cov.report(t) }) // after the parallel subtests
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, seed := range consensustest.Seeds(*seedFlag, *seedsFlag, c.base, c.def, c.long) {
				var cfg consensustest.Config
				if c.scenario != nil {
					cfg = c.scenario(seed, c.powers)
				} else {
					cfg = consensustest.RandomConfig(seed, c.powers, consensustest.Faults[seed%uint64(len(consensustest.Faults))])
				}
				s, rep := runSim(t, cfg, true)
				cov.add(s)
				if len(rep.Violations) > 0 {
					return
				}
			}
		})
	}
}

// TestSimulationValidatorChange changes the validator set at height 3:
// one validator leaves and the powers become unequal. The node that
// leaves must keep following the chain.
func TestSimulationValidatorChange(t *testing.T) {
	for _, seed := range consensustest.Seeds(*seedFlag, *seedsFlag, 7_000_000, 12, 2000) {
		cfg := consensustest.RandomConfig(seed, consensustest.Powers(5, false), consensustest.FaultNone)
		cfg.ChangeAt, cfg.NewPowers, cfg.TargetHeight = 3, []int64{40, 30, 20, 10, 0}, 6
		cfg.Restarts = nil
		runSim(t, cfg, true)
		if t.Failed() {
			return
		}
	}
}

// TestSimulationDeterministic: the same seed gives the same run.
func TestSimulationDeterministic(t *testing.T) {
	run := func() string {
		cfg := consensustest.RandomConfig(42, consensustest.Powers(7, true), consensustest.FaultMixed)
		cfg.Trace = true
		s := consensustest.New(cfg)
		s.Run()
		return strings.Join(s.TraceLines(), "\n")
	}
	a, b := run(), run()
	if a != b || a == "" {
		t.Fatal("two runs of seed 42 differ")
	}
}

// The checker catches a broken variant built in the harness: an honest
// node restarted mid-height without its write-ahead log (Config.Signed
// empty) forgets its votes and its lock, and signs conflicting ones. The
// same runs with the log replayed are safe.
func TestCheckerCatchesForgetfulNode(t *testing.T) {
	caught := uint64(0)
	for seed := uint64(1); seed <= 100 && caught == 0; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		cfg := consensustest.Config{Seed: seed, Powers: consensustest.Powers(4, false), MaxDelay: 1 + rng.Uint64N(8), TargetHeight: 4,
			Restarts: []consensustest.Restart{{Node: rng.IntN(4), At: 5 + rng.Uint64N(80), Forget: true}}}
		s := consensustest.New(cfg)
		s.Run()
		if rep := s.Check(false); rep.Has(consensustest.KindDoubleSign) && (strings.Contains(rep.String(), "two prevotes") || strings.Contains(rep.String(), "two precommits")) {
			caught = seed
			t.Logf("seed %d: %s", seed, rep)
		}
		cfg.Restarts[0].Forget = false
		runSim(t, cfg, true)
	}
	if caught == 0 {
		t.Fatal("no forgetful run was caught signing conflicting votes")
	}
}

// With more than f Byzantine validators safety can be broken: a coalition
// of f+1 splits the honest nodes and forks the chain, and the checker
// reports it. With f it must not.
func TestCheckerCatchesForkBeyondF(t *testing.T) {
	for _, c := range []struct{ n, byz int }{{4, 2}, {7, 3}} {
		t.Run(fmt.Sprintf("n=%d/byzantine=%d", c.n, c.byz), func(t *testing.T) {
			forked := uint64(0)
			for seed := uint64(1); seed <= 40 && forked == 0; seed++ {
				coalition := consensustest.NewForkCoalition()
				cfg := consensustest.Config{Seed: seed, Powers: consensustest.Powers(c.n, false), MaxDelay: 3, TargetHeight: 3, Liveness: 300,
					Byzantine: map[int]consensustest.Strategy{}}
				for _, i := range rand.New(rand.NewPCG(seed, 8)).Perm(c.n)[:c.byz] {
					cfg.Byzantine[i] = coalition
				}
				s := consensustest.New(cfg)
				s.Run()
				if rep := s.Check(false); rep.Has(consensustest.KindFork) {
					forked = seed
					t.Logf("seed %d: %s", seed, rep)
				}
			}
			if forked == 0 {
				t.Fatal("f+1 Byzantine validators never forked the chain: the checker or the attack is broken")
			}
		})
	}
	t.Run("n=4/byzantine=1", func(t *testing.T) {
		for seed := uint64(1); seed <= 20; seed++ {
			coalition := consensustest.NewForkCoalition()
			cfg := consensustest.Config{Seed: seed, Powers: consensustest.Powers(4, false), MaxDelay: 3, TargetHeight: 3,
				Byzantine: map[int]consensustest.Strategy{int(seed % 4): coalition}}
			runSim(t, cfg, true)
		}
	})
}

// TestSimulationRoundSkew isolates one honest validator for a long time
// while a Byzantine one keeps the others moving through rounds without
// deciding (it votes for random blocks): when the partition heals, the
// isolated node is many rounds behind, and the others cannot decide
// without it. Line 55 (f+1 messages of a later round) must bring it to
// their round at once: every honest node must decide within a few
// rounds' time of the heal.
func TestSimulationRoundSkew(t *testing.T) {
	for _, seed := range consensustest.Seeds(*seedFlag, *seedsFlag, 10_000_000, 6, 2000) {
		runSim(t, consensustest.SkewConfig(seed, consensustest.Powers(4, false)), true)
		if t.Failed() {
			return
		}
	}
}
