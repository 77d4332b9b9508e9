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
	FaultForgedPOL            Fault = "forged-pol"
	FaultWithholdPOL          Fault = "withhold-pol"
	FaultSelectiveVoter       Fault = "selective-voter"
	FaultAmnesia              Fault = "amnesia"
	FaultMixed                Fault = "mixed"
)

// Faults lists every fault of random scenarios.
var Faults = []Fault{FaultNone, FaultSilent, FaultEquivocatingProposer, FaultEquivocatingVoter, FaultInvalidProposer, FaultRandomVoter,
	FaultForgedPOL, FaultWithholdPOL, FaultSelectiveVoter, FaultAmnesia, FaultMixed}

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
	case FaultForgedPOL:
		return ForgedPOL()
	case FaultWithholdPOL:
		return WithholdPOL()
	case FaultSelectiveVoter:
		return SelectiveVoter()
	case FaultAmnesia:
		return Amnesiac()
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
	// Amnesiacs forget everything they signed, a few times a run.
	for i := range n {
		if s := cfg.Byzantine[i]; s != nil && s.Name() == "amnesia" {
			for range 1 + rng.IntN(3) {
				cfg.Restarts = append(cfg.Restarts, Restart{Node: i, At: 1 + rng.Uint64N(600), Forget: true})
			}
		}
	}
	// Sometimes the network is slower than the base timeouts: only
	// timeouts that grow with the round let a height end. (Only on small
	// networks: a slow network keeps ten times as many messages in
	// flight, and four nodes exercise the timeouts as well as ten.)
	if slow := rng.IntN(6) == 0; slow && n <= 4 {
		cfg.MinDelay = 50 + rng.Uint64N(100)
		cfg.MaxDelay = cfg.MinDelay + rng.Uint64N(200)
		cfg.Liveness = 40000
	}
	// Decide two more heights after the last partition heals and the last
	// restart ends: liveness is asserted then, not only before.
	cfg.AfterSettle = 2
	// Gossip relays (every honest node forwards what it receives first)
	// and heights that wait for transactions, sometimes.
	cfg.Relay = rng.IntN(3) == 0
	cfg.TxWait = rng.IntN(4) == 0
	return cfg
}

// SkewConfig derives a round-skew scenario from seed: one honest node
// cut off from everyone from the start for 2,000 to 5,000 ticks while a Byzantine
// validator (the most power below a third) votes for random blocks, so
// that the others keep changing rounds without deciding. After the heal,
// every honest node must reach the round the others were in within 1,200
// ticks (the others may have just entered it and sent nothing yet: the
// bound covers their propose timeout in the rounds reached), and decide
// within 8,000 (a node that learns an old proof of lock on the way locks
// on it, and a re-proposal waits for it to be proposer).
func SkewConfig(seed uint64, powers []int64) Config {
	rng := rand.New(rand.NewPCG(seed, 0x5e3a))
	n := len(powers)
	cfg := Config{Seed: seed, Powers: powers, TargetHeight: 1, AfterSettle: 1, Liveness: 8000, RoundSync: 1200,
		MinDelay: 1, MaxDelay: 1 + rng.Uint64N(10), Byzantine: map[int]Strategy{}}
	perm := rng.Perm(n)
	cfg.Byzantine[perm[0]] = RandomVoter()
	// From the start, so that nobody locks before the heal: what is
	// measured is how fast the isolated node joins the others' round.
	cfg.Partitions = []Partition{{From: 0, To: 2000 + rng.Uint64N(3000), Nodes: []int{perm[1]}}}
	return cfg
}

// SplitConfig derives a split-lock scenario from seed: a lock splitter
// (see LockSplitter) and an honest node cut off during the first round,
// so that in that round two honest nodes prevote a block and only one of
// them sees its proof of lock, and in a later round another pair locks on
// another block: a re-proposal of the first meets a node locked on a
// later value (line 28's nil branch).
func SplitConfig(seed uint64, powers []int64) Config {
	rng := rand.New(rand.NewPCG(seed, 0x5b1e))
	n := len(powers)
	cfg := Config{Seed: seed, Powers: powers, TargetHeight: 2, AfterSettle: 1, Liveness: 8000,
		MinDelay: 1, MaxDelay: 1 + rng.Uint64N(8), Byzantine: map[int]Strategy{}}
	perm := rng.Perm(n)
	cfg.Byzantine[perm[0]] = LockSplitter()
	cfg.Partitions = []Partition{{From: 0, To: 120 + rng.Uint64N(300), Nodes: []int{perm[1]}}}
	return cfg
}

// Describe summarises cfg in one line.
func (c Config) Describe() string {
	extra := ""
	if c.Relay {
		extra += " relay"
	}
	if c.TxWait {
		extra += " txwait"
	}
	var byz []string
	for i := range len(c.Powers) {
		if s := c.Byzantine[i]; s != nil {
			byz = append(byz, fmt.Sprintf("n%d:%s", i, s.Name()))
		}
	}
	return fmt.Sprintf("seed=%d powers=%v delay=[%d,%d] loss=%.2f dup=%.2f partitions=%v byzantine=%v restarts=%v%s",
		c.Seed, c.Powers, c.MinDelay, c.MaxDelay, c.Loss, c.Dup, c.Partitions, byz, c.Restarts, extra)
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
