package consensustest

import (
	"fmt"
	"slices"
	"time"
)

// ScaleConfig describes a scale run: Validators of equal power deciding
// Heights heights over a WAN, all honest.
type ScaleConfig struct {
	Validators int
	Heights    uint64
	Seed       uint64
	WAN        WAN
	Loss       float64
	// Gossip carries broadcasts as gossipsub does; nil sends each one
	// directly to every peer (what a network without relays would do).
	Gossip *Gossip
	// BlockInterval and BlockBytes are Config's (ticks, bytes).
	BlockInterval uint64
	BlockBytes    int
	// VerifyCost is Config's: the CPU time of a signature check.
	VerifyCost time.Duration
}

// DefaultScale returns the scale run of docs/scale.md for n validators
// and k heights: DefaultWAN (20 to 150 ms one way), 1% of messages lost,
// gossipsub with node/p2p's parameters, the node's 100 ms block interval,
// no block payload and no bandwidth limit.
func DefaultScale(n int, k uint64) ScaleConfig {
	return ScaleConfig{Validators: n, Heights: k, Seed: 1, WAN: DefaultWAN, Loss: 0.01, Gossip: DefaultGossip(), BlockInterval: 100}
}

// NodeTiming sets an engine's timeouts to a node's: the engine's defaults
// are in ticks of node.Consensus.Tick (10 ms), the simulation's ticks
// are milliseconds. Propose 1 s, prevote and precommit 500 ms, each
// 500 ms longer per round, a Status every 200 ms.
func NodeTiming(c *EngineConfig) {
	c.TimeoutPropose, c.TimeoutProposeDelta = 1000, 500
	c.TimeoutPrevote, c.TimeoutPrevoteDelta = 500, 500
	c.TimeoutPrecommit, c.TimeoutPrecommitDelta = 500, 500
	c.RebroadcastTicks = 200
}

// Config returns the simulation's Config for c.
func (c ScaleConfig) Config() Config {
	w := c.WAN
	return Config{Seed: c.Seed, Powers: Powers(c.Validators, false), TargetHeight: c.Heights, Liveness: 10_000 + 5_000*c.Heights,
		WAN: &w, Loss: c.Loss, Gossip: c.Gossip, BlockInterval: c.BlockInterval, BlockBytes: c.BlockBytes, VerifyCost: c.VerifyCost, Engine: NodeTiming,
		MaxInFlight: 1_000_000}
}

// ScaleResult is what a scale run measured. Per decision means per
// height decided by every node, over all nodes.
type ScaleResult struct {
	Validators int
	Heights    uint64
	// Decided is the height every node reached: Heights, unless the run
	// stopped (Report says why).
	Decided uint64
	// Virtual is the simulated time until every node decided Heights,
	// or until the run stopped.
	Virtual            time.Duration
	DecisionsPerSecond float64 // Decided over Virtual
	// FinalityP50 and FinalityP99 are over every (node, height): from the
	// height's first proposal to the node's commit.
	FinalityP50, FinalityP99 time.Duration
	// LateRounds counts the heights decided after round 0.
	LateRounds int
	// MessagesPerDecision and BytesPerDecision count everything put on
	// the network (every copy); Traffic splits it by kind (totals).
	MessagesPerDecision, BytesPerDecision float64
	Traffic                               [NumTrafficKinds]Traffic
	// UploadPerNode is the mean bytes a node sends per simulated second.
	UploadPerNode float64
	// SigChecksPerDecision counts signature verifications over all nodes
	// (Stats.Verifies + Stats.NetChecks): what the nodes would compute
	// without a cache.
	SigChecksPerDecision float64
	// Wall is the wall-clock time the simulation took.
	Wall   time.Duration
	Stats  Stats
	Report Report
}

// Scale runs c and measures it.
func Scale(c ScaleConfig) ScaleResult {
	start := time.Now()
	s := New(c.Config())
	s.Run()
	r := ScaleResult{Validators: c.Validators, Heights: c.Heights, Wall: time.Since(start), Stats: s.Stats(), Report: s.Check(true)}
	st := r.Stats
	r.Decided = c.Heights
	for _, n := range s.nodes {
		r.Decided = min(r.Decided, n.App.Height())
	}
	k := float64(max(r.Decided, 1))
	r.Virtual = time.Duration(st.Ticks) * time.Millisecond
	r.DecisionsPerSecond = float64(r.Decided) / r.Virtual.Seconds()
	fin := s.Finality()
	slices.Sort(fin)
	if len(fin) > 0 {
		r.FinalityP50 = time.Duration(fin[len(fin)/2]) * time.Millisecond
		r.FinalityP99 = time.Duration(fin[min(len(fin)-1, len(fin)*99/100)]) * time.Millisecond
	}
	for _, cm := range s.nodes[0].App.commits {
		if cm.Round > 0 {
			r.LateRounds++
		}
	}
	r.Traffic = st.Traffic
	var msgs, bytes float64
	for _, t := range st.Traffic {
		msgs += float64(t.Messages)
		bytes += float64(t.Bytes)
	}
	r.MessagesPerDecision, r.BytesPerDecision = msgs/k, bytes/k
	r.UploadPerNode = bytes / float64(c.Validators) / r.Virtual.Seconds()
	r.SigChecksPerDecision = float64(st.Verifies+st.NetChecks) / k
	return r
}

// String returns the result as one line.
func (r ScaleResult) String() string {
	return fmt.Sprintf("n=%d heights=%d/%d decisions/s=%.2f finality p50=%v p99=%v late-rounds=%d msgs/decision=%.0f bytes/decision=%.0f upload/node=%.0f B/s sigchecks/decision=%.0f wall=%v",
		r.Validators, r.Decided, r.Heights, r.DecisionsPerSecond, r.FinalityP50, r.FinalityP99, r.LateRounds, r.MessagesPerDecision, r.BytesPerDecision,
		r.UploadPerNode, r.SigChecksPerDecision, r.Wall.Round(time.Millisecond))
}
