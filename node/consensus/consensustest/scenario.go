package consensustest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
)

// Fault names the faulty behaviour of a random scenario.
type Fault string

// Faults of random scenarios. Each puts the most Byzantine validators the
// protocol tolerates (power below a third) under the named strategy;
// FaultMixed draws a strategy per node.
const (
	FaultNone                 Fault = "none"
	FaultSilent               Fault = "silent"
	FaultEquivocatingProposer Fault = "equivocating-proposer"
	FaultEquivocatingVoter    Fault = "equivocating-voter"
	FaultInvalidProposer      Fault = "invalid-proposer"
	FaultRandomVoter          Fault = "random-voter"
	FaultMixed                Fault = "mixed"
)

// Faults lists every fault of random scenarios.
var Faults = []Fault{FaultNone, FaultSilent, FaultEquivocatingProposer, FaultEquivocatingVoter, FaultInvalidProposer, FaultRandomVoter, FaultMixed}

func (f Fault) strategy(rng *rand.Rand) Strategy {
	switch f {
	case FaultSilent:
		return Silent()
	case FaultEquivocatingProposer:
		return EquivocatingProposer()
	case FaultEquivocatingVoter:
		return EquivocatingVoter()
	case FaultInvalidProposer:
		return InvalidProposer()
	case FaultRandomVoter:
		return RandomVoter()
	case FaultMixed:
		all := Strategies()
		return all[rng.IntN(len(all))]
	}
	return nil
}

// Powers returns n equal powers, or unequal ones (1, 2, ..., n).
func Powers(n int, unequal bool) []int64 {
	p := make([]int64, n)
	for i := range p {
		p[i] = 10
		if unequal {
			p[i] = int64(i + 1)
		}
	}
	return p
}

// RandomConfig derives a scenario from seed: a random network (delays up
// to 20 ticks, up to 30% loss, up to 20% duplication, up to two
// partitions that heal), faulty validators with less than a third of the
// power running fault, and sometimes an honest node restarted from its
// write-ahead log.
func RandomConfig(seed uint64, powers []int64, fault Fault) Config {
	rng := rand.New(rand.NewPCG(seed, 0x5ce7a210))
	n := len(powers)
	cfg := Config{Seed: seed, Powers: powers, TargetHeight: 3, Liveness: 2000, MinDelay: 1, MaxDelay: 1 + rng.Uint64N(20)}
	if rng.IntN(4) > 0 {
		cfg.Loss = rng.Float64() * 0.3
	}
	if rng.IntN(4) > 0 {
		cfg.Dup = rng.Float64() * 0.2
	}
	for range rng.IntN(3) {
		p := Partition{From: rng.Uint64N(300)}
		p.To = p.From + 20 + rng.Uint64N(400)
		p.Nodes = append(p.Nodes, rng.Perm(n)[:1+rng.IntN(n-1)]...)
		cfg.Partitions = append(cfg.Partitions, p)
	}
	var total, faulty int64
	for _, p := range powers {
		total += p
	}
	f := (n - 1) / 3
	cfg.Byzantine = map[int]Strategy{}
	if fault != FaultNone {
		for _, i := range rng.Perm(n) {
			if len(cfg.Byzantine) == f {
				break
			}
			if 3*(faulty+powers[i]) < total {
				faulty += powers[i]
				cfg.Byzantine[i] = fault.strategy(rng)
			}
		}
	}
	if rng.IntN(4) == 0 {
		for _, i := range rng.Perm(n) {
			if cfg.Byzantine[i] == nil {
				cfg.Restarts = append(cfg.Restarts, Restart{Node: i, At: 1 + rng.Uint64N(400)})
				break
			}
		}
	}
	return cfg
}

// Describe summarises cfg in one line.
func (c Config) Describe() string {
	var byz []string
	for i := range len(c.Powers) {
		if s := c.Byzantine[i]; s != nil {
			byz = append(byz, fmt.Sprintf("n%d:%s", i, s.Name()))
		}
	}
	return fmt.Sprintf("seed=%d powers=%v delay=[%d,%d] loss=%.2f dup=%.2f partitions=%v byzantine=%v restarts=%v",
		c.Seed, c.Powers, c.MinDelay, c.MaxDelay, c.Loss, c.Dup, c.Partitions, byz, c.Restarts)
}

// Seeds returns the seeds a simulation test runs: only seed if non-zero
// (from the -seed flag or IDMESH_SIM_SEED), else count seeds starting at
// base, where count is n (from -seeds or IDMESH_SIM_SEEDS) if non-zero,
// long if IDMESH_LONG is set, and def otherwise.
func Seeds(seed uint64, n, base, def, long int) []uint64 {
	if seed == 0 {
		seed, _ = strconv.ParseUint(os.Getenv("IDMESH_SIM_SEED"), 10, 64)
	}
	if seed != 0 {
		return []uint64{seed}
	}
	if n == 0 {
		n, _ = strconv.Atoi(os.Getenv("IDMESH_SIM_SEEDS"))
	}
	if n == 0 {
		n = def
		if os.Getenv("IDMESH_LONG") != "" {
			n = long
		}
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(base + i)
	}
	return out
}

// Tail returns the last n lines of a trace, joined.
func Tail(lines []string, n int) string {
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
