package consensustest

import (
	"container/heap"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/idmesh/idmesh/node/consensus"
)

// Config describes one simulation run. Node i is validator i of the
// initial set in address order.
type Config struct {
	// Seed determines keys, network behaviour, payloads and Byzantine
	// choices: the same Config gives the same run.
	Seed    uint64
	ChainID string // default "sim"
	// Powers are the initial voting powers, one per node.
	Powers []int64
	// ChangeAt, if non-zero, is the first height decided by NewPowers
	// (same nodes; a power of 0 removes the node from the set).
	ChangeAt  uint64
	NewPowers []int64

	// TargetHeight is the height every honest node must decide.
	TargetHeight uint64
	// AfterSettle raises the target to this many heights above the
	// highest honest height when the network settles (the last partition
	// ends and the last restart is done), so that liveness is asserted
	// after healing too.
	AfterSettle uint64
	// Liveness is how many ticks after the last partition ends the honest
	// nodes have to reach TargetHeight; the run stops then at the latest.
	Liveness uint64

	// RoundSync, if non-zero, asserts that this many ticks after the
	// network settles every honest node has reached the height and round
	// the most advanced honest node was in when it settled (the paper's
	// round synchronisation after GST, which line 55 provides).
	RoundSync uint64

	// Network: a delay in [MinDelay, MaxDelay] ticks (at least 1), the
	// probability that a message is lost, or delivered twice, and
	// partitions.
	MinDelay, MaxDelay uint64
	Loss, Dup          float64
	Partitions         []Partition

	// Byzantine maps a node to the strategy wrapping its outgoing
	// messages. Its engine runs as an honest one underneath.
	Byzantine map[int]Strategy
	// Restarts recreate honest nodes' engines during the run.
	Restarts []Restart

	// Engine adjusts every engine's config (timeouts) before New.
	Engine func(*EngineConfig)
	// Relay makes honest nodes forward every proposal and vote they
	// receive for the first time to all their peers, as a gossip layer
	// (libp2p pubsub) does. Tendermint's liveness argument assumes it: a
	// message one correct process receives, every correct process
	// eventually receives.
	Relay bool
	// TxWait runs the engines with WaitForTxs: a height's first round
	// starts only once transactions are available, which the simulation
	// tells each node at a random tick (about every TxEvery ticks, default
	// 30) while its engine waits, as a mempool would.
	TxWait  bool
	TxEvery int

	// WAN, if set, replaces MinDelay and MaxDelay with a wide-area
	// latency model (see WAN); Gossip, if set, carries broadcasts as
	// gossipsub does (see Gossip) instead of one send to every peer.
	WAN    *WAN
	Gossip *Gossip
	// BlockInterval, if non-zero, runs the engines with WaitForTxs and
	// transactions always pending, as a loaded node: each node's next
	// height starts BlockInterval ticks after it committed the last (the
	// node's Consensus.Interval), or when a proposal arrives.
	BlockInterval uint64
	// BlockBytes is added to the size of every proposal and decided
	// block on the wire (Stats.Traffic, and the upload time under a
	// WAN.Bandwidth): the transactions the simulated block stands for.
	BlockBytes int
	// VerifyCost, if non-zero, is the CPU time of one signature check,
	// spent on one core per node, one message after another: the checks
	// node/p2p's validator makes of each proposal, vote or decided block
	// received (a commit counts its signatures) before the engine gets
	// it, then the checks the engine and app make while they take it.
	// Gossip copies already seen cost nothing, nor does anything else.
	VerifyCost time.Duration
	// MaxInFlight, if non-zero, stops the run with a liveness violation
	// when more messages than this are in flight: a network that falls
	// behind for good would otherwise fill memory.
	MaxInFlight int

	// Trace records a line per delivery, decision and restart.
	Trace bool
}

// Restart recreates node Node's engine at tick At from its App's chain.
// The engine gets the node's write-ahead log of the current height as
// Config.Signed, unless Forget is set: a forgetful node, the broken
// variant that may sign conflicting votes.
type Restart struct {
	Node   int
	At     uint64
	Forget bool
}

// Stats counts what happened in a run.
type Stats struct {
	Ticks     uint64 // ticks simulated
	Sent      int    // messages put on the network (per recipient)
	Delivered int
	Dropped   int
	Decisions int // decided blocks applied, over all nodes
	Rejected  int // messages the engines returned an error for
	Evidence  int

	// Traffic counts what was put on the network, per kind: every copy,
	// gossip relays and control included.
	Traffic [NumTrafficKinds]Traffic
	// Under Config.Gossip: copies forwarded by mesh peers, copies dropped
	// as already seen, and publications sent in answer to IWANT.
	Forwarded, Duplicates, Served int
	// Verifies counts the signature checks the nodes' engines and apps
	// asked for (Config.Verify calls: a real node without a cache does
	// each); NetChecks those node/p2p's topic validator would do first,
	// once per proposal, vote or decided block delivered (a commit counts
	// its signatures).
	Verifies, NetChecks int
}

// Node is one simulated validator: its engine, app, write-ahead log and
// (if Byzantine) strategy.
type Node struct {
	Index    int
	Signer   *Signer
	App      *App
	Engine   *Engine
	Strategy Strategy // nil if honest

	// WAL is everything the node's engine signed (Ready.Persist), over
	// all its restarts.
	WAL []Message
	// Sent is every message the node's engine handed to the driver
	// (Ready.Messages), before any strategy.
	Sent []Message

	sim     *Sim
	relayed map[string]bool
	cover   map[string]int // of the engines a restart replaced
	readyAt uint64         // when the next height may start (Config.BlockInterval)
}

// Honest reports whether the node follows the protocol.
func (n *Node) Honest() bool { return n.Strategy == nil }

// Peers returns the indexes of the other nodes, in order.
func (n *Node) Peers() []int {
	ps := make([]int, 0, len(n.sim.nodes)-1)
	for i := range n.sim.nodes {
		if i != n.Index {
			ps = append(ps, i)
		}
	}
	return ps
}

// Rand returns the simulation's random source.
func (n *Node) Rand() *rand.Rand { return n.sim.rng }

// ChainID returns the chain ID.
func (n *Node) ChainID() string { return n.sim.cfg.ChainID }

// Sim is a simulation: nodes, the network and the clock.
type Sim struct {
	cfg   Config
	rng   *rand.Rand
	nodes []*Node
	addr  map[consensus.Address]int
	vals  [2]*consensus.ValidatorSet
	q     queue
	seq   uint64
	now   uint64
	stats Stats
	trace []string

	// decided[h] is the first block ID an honest node decided at h and
	// which node; safety violations are recorded as they happen.
	decided    map[uint64]decision
	target     uint64 // the height every honest node must decide
	mon        *monitor
	verified   map[[32]byte]bool // signature checks, remembered (verify)
	violations []Violation
	evidence   []consensus.Evidence

	wan        *wan
	gossip     *gossip
	cpu        []uint64          // cpu[i]: when node i's core is free, in nanoseconds (Config.VerifyCost)
	proposedAt map[uint64]uint64 // the tick of the first proposal of each height
	finality   []uint64          // ticks from proposal to commit, per honest node and height
}

type decision struct {
	node int
	id   consensus.Hash
}

// New builds a simulation from cfg.
func New(cfg Config) *Sim {
	if cfg.ChainID == "" {
		cfg.ChainID = "sim"
	}
	if cfg.MinDelay == 0 {
		cfg.MinDelay = 1
	}
	if cfg.MaxDelay < cfg.MinDelay {
		cfg.MaxDelay = cfg.MinDelay
	}
	if cfg.TargetHeight == 0 {
		cfg.TargetHeight = 3
	}
	if cfg.Liveness == 0 {
		cfg.Liveness = 5000
	}
	if cfg.TxEvery <= 0 {
		cfg.TxEvery = 30
	}
	s := &Sim{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x1d3e5)), addr: map[consensus.Address]int{}, decided: map[uint64]decision{}}
	s.mon = newMonitor(s)
	s.verified = map[[32]byte]bool{}
	s.proposedAt = map[uint64]uint64{}
	s.cpu = make([]uint64, len(cfg.Powers))
	if cfg.WAN != nil {
		s.wan = newWAN(*cfg.WAN, cfg.Seed, len(cfg.Powers))
	}
	if cfg.Gossip != nil {
		s.gossip = newGossip(*cfg.Gossip, cfg.Seed, len(cfg.Powers))
	}
	vs, signers := NewValidators(cfg.Seed, cfg.Powers)
	s.vals[0], s.vals[1] = vs, vs
	if cfg.ChangeAt > 0 {
		var vals []consensus.Validator
		for i, sg := range signers {
			if p := cfg.NewPowers[i]; p > 0 {
				vals = append(vals, consensus.Validator{PubKey: sg.PubKey(), Power: p})
			}
		}
		nvs, err := consensus.NewValidatorSet(vals)
		if err != nil {
			panic(fmt.Sprintf("consensustest: new validator set: %v", err))
		}
		s.vals[1] = nvs
	}
	for i, sg := range signers {
		n := &Node{Index: i, Signer: sg, Strategy: cfg.Byzantine[i], sim: s}
		n.App = NewApp(AppConfig{ChainID: cfg.ChainID, Validators: s.Validators, Self: sg.Address(), Now: s.Now, Rand: s.rng, Verify: s.nodeVerify})
		s.addr[sg.Address()] = i
		s.nodes = append(s.nodes, n)
	}
	for _, n := range s.nodes {
		s.start(n, nil)
	}
	return s
}

// verify is ed25519.Verify, remembered: every node checks the same
// messages, and the simulation spends most of its time in Ed25519. The
// key is a hash of all three inputs, so an answer is only reused for the
// same question.
func (s *Sim) verify(pub ed25519.PublicKey, msg, sig []byte) bool {
	h := sha256.New()
	for _, b := range [][]byte{pub, msg, sig} {
		h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(b))))
		h.Write(b)
	}
	k := [32]byte(h.Sum(nil))
	ok, seen := s.verified[k]
	if !seen {
		ok = ed25519.Verify(pub, msg, sig)
		s.verified[k] = ok
	}
	return ok
}

// nodeVerify is verify for the nodes, counted (Stats.Verifies).
func (s *Sim) nodeVerify(pub ed25519.PublicKey, msg, sig []byte) bool {
	s.stats.Verifies++
	return s.verify(pub, msg, sig)
}

// Finality returns, for every height an honest node decided, the ticks
// from the height's first proposal to that node's commit.
func (s *Sim) Finality() []uint64 { return slices.Clone(s.finality) }

// Validators returns the validator set of height h.
func (s *Sim) Validators(h uint64) *consensus.ValidatorSet {
	if s.cfg.ChangeAt > 0 && h >= s.cfg.ChangeAt {
		return s.vals[1]
	}
	return s.vals[0]
}

// Now returns the simulated time: a millisecond per tick after Genesis.
func (s *Sim) Now() time.Time { return Genesis.Add(time.Duration(s.now) * time.Millisecond) }

// Tick returns the current tick.
func (s *Sim) Tick() uint64 { return s.now }

// Nodes returns the nodes.
func (s *Sim) Nodes() []*Node { return s.nodes }

// Config returns the run's configuration (with defaults filled in).
func (s *Sim) Config() Config { return s.cfg }

// Coverage returns how many times each rule and branch fired in the run,
// over every node's engines (consensus.Engine.Coverage).
func (s *Sim) Coverage() map[string]int {
	out := map[string]int{}
	for _, n := range s.nodes {
		for k, v := range n.cover {
			out[k] += v
		}
		for k, v := range n.Engine.Coverage() {
			out[k] += v
		}
	}
	return out
}

// Stats returns the counters of the run.
func (s *Sim) Stats() Stats { return s.stats }

// TraceLines returns the trace (empty unless Config.Trace).
func (s *Sim) TraceLines() []string { return s.trace }

func (s *Sim) tracef(format string, args ...any) {
	if s.cfg.Trace {
		s.trace = append(s.trace, fmt.Sprintf("t=%d ", s.now)+fmt.Sprintf(format, args...))
	}
}

// start (re)creates n's engine at the height after its chain.
func (s *Sim) start(n *Node, signed []Message) {
	last, commit := n.App.Last()
	h := uint64(1)
	if last != nil {
		h = last.Header.Height + 1
	}
	cfg := EngineConfig{ChainID: s.cfg.ChainID, Height: h, LastCommit: commit, Signer: n.Signer, App: n.App, Signed: signed, Verify: s.nodeVerify,
		WaitForTxs: s.cfg.TxWait || s.cfg.BlockInterval > 0}
	if s.cfg.Engine != nil {
		s.cfg.Engine(&cfg)
	}
	e, err := consensus.New[*Block](cfg)
	if err != nil {
		panic(fmt.Sprintf("consensustest: node %d: %v", n.Index, err))
	}
	if n.Engine != nil {
		if n.cover == nil {
			n.cover = map[string]int{}
		}
		for k, v := range n.Engine.Coverage() {
			n.cover[k] += v
		}
	}
	n.Engine = e
	s.handle(n)
}

// restart recreates n's engine, with its write-ahead log of the current
// height unless forget.
func (s *Sim) restart(n *Node, forget bool) {
	var signed []Message
	h := n.App.Height() + 1
	if !forget {
		for _, m := range n.WAL {
			if m.Height() == h {
				signed = append(signed, m)
			}
		}
	}
	s.tracef("restart n%d at h%d r%d forget=%v (%d signed replayed)", n.Index, h, n.Engine.Round(), forget, len(signed))
	s.start(n, signed)
}

// Run simulates until every honest node has decided TargetHeight after
// the last partition ended, or until the liveness deadline, or until a
// fork or bad commit is found (checked as decisions are applied).
func (s *Sim) Run() {
	settle := uint64(0)
	for _, p := range s.cfg.Partitions {
		settle = max(settle, p.To)
	}
	for _, r := range s.cfg.Restarts {
		settle = max(settle, r.At)
	}
	deadline := settle + s.cfg.Liveness
	s.target = s.cfg.TargetHeight
	var ahead [2]uint64 // the most advanced honest (height, round) at settle
	for s.now = 1; s.now <= deadline; s.now++ {
		if s.now == settle+1 && s.cfg.RoundSync > 0 {
			ahead = s.mostAdvanced()
		}
		if s.cfg.RoundSync > 0 && s.now == settle+1+s.cfg.RoundSync {
			s.checkRoundSync(ahead)
		}
		if s.now == settle+1 && s.cfg.AfterSettle > 0 {
			for _, n := range s.nodes {
				if n.Honest() {
					s.target = max(s.target, n.App.Height()+s.cfg.AfterSettle)
				}
			}
		}
		for _, r := range s.cfg.Restarts {
			if r.At == s.now {
				s.restart(s.nodes[r.Node], r.Forget)
			}
		}
		for len(s.q) > 0 && s.q[0].at <= s.now {
			ev := heap.Pop(&s.q).(event)
			s.deliver(ev)
		}
		if s.gossip != nil {
			s.heartbeats()
		}
		for _, n := range s.nodes {
			if s.cfg.TxWait && n.Engine.Waiting() && s.rng.IntN(s.cfg.TxEvery) == 0 {
				n.Engine.TxsAvailable()
			}
			if s.cfg.BlockInterval > 0 && n.Engine.Waiting() && s.now >= n.readyAt {
				n.Engine.TxsAvailable()
			}
			n.Engine.Tick()
			s.handle(n)
		}
		s.stats.Ticks = s.now
		if !s.safe() { // a fork, a bad commit or a broken rule: nothing more to learn
			break
		}
		if s.now > settle && s.honestReached(s.target) {
			break
		}
		if s.cfg.MaxInFlight > 0 && len(s.q) > s.cfg.MaxInFlight {
			s.violate(KindLiveness, "%d messages in flight, more than %d: the network does not keep up", len(s.q), s.cfg.MaxInFlight)
			break
		}
	}
}

func (s *Sim) safe() bool { return Report{Violations: s.violations}.Safe() }

// mostAdvanced returns the highest (height, round) of an honest engine.
func (s *Sim) mostAdvanced() [2]uint64 {
	var best [2]uint64
	for _, n := range s.nodes {
		if !n.Honest() {
			continue
		}
		if hr := [2]uint64{n.Engine.Height(), uint64(n.Engine.Round())}; hr[0] > best[0] || hr[0] == best[0] && hr[1] > best[1] {
			best = hr
		}
	}
	return best
}

// checkRoundSync reports honest nodes still behind ahead.
func (s *Sim) checkRoundSync(ahead [2]uint64) {
	for _, n := range s.nodes {
		h, r := n.Engine.Height(), uint64(n.Engine.Round())
		if n.Honest() && (h < ahead[0] || h == ahead[0] && r < ahead[1]) {
			s.violate(KindRoundSync, "honest node %d at h%d r%d, %d ticks after the network settled with an honest node at h%d r%d", n.Index, h, r, s.cfg.RoundSync, ahead[0], ahead[1])
		}
	}
}

func (s *Sim) honestReached(h uint64) bool {
	for _, n := range s.nodes {
		if n.Honest() && n.App.Height() < h {
			return false
		}
	}
	return true
}

func (s *Sim) deliver(ev event) {
	if ev.ctl != nil {
		s.control(ev)
		return
	}
	checks := 0
	switch {
	case ev.msg.Vote != nil, ev.msg.Proposal != nil:
		checks = 1
	case ev.msg.Decided != nil && ev.msg.Decided.Commit != nil:
		checks = len(ev.msg.Decided.Commit.Signatures)
	}
	if !ev.checked {
		if ev.pub != 0 && !s.receive(ev) {
			return
		}
		if s.cfg.VerifyCost > 0 && checks > 0 {
			// The node's core checks it after what it received before.
			done := max(s.now*uint64(time.Millisecond), s.cpu[ev.to]) + uint64(checks)*uint64(s.cfg.VerifyCost)
			s.cpu[ev.to] = done
			if at := (done + uint64(time.Millisecond) - 1) / uint64(time.Millisecond); at > s.now {
				s.seq++
				ev.at, ev.seq, ev.checked = at, s.seq, true
				heap.Push(&s.q, ev)
				return
			}
		}
	}
	n := s.nodes[ev.to]
	s.stats.Delivered++
	s.stats.NetChecks += checks
	if s.cfg.Trace {
		s.tracef("n%d→n%d %s", ev.from, ev.to, Describe(ev.msg))
	}
	verifies := s.stats.Verifies
	err := n.Engine.Step(ev.msg)
	if s.cfg.VerifyCost > 0 && s.stats.Verifies > verifies {
		s.cpu[ev.to] = max(s.cpu[ev.to], s.now*uint64(time.Millisecond)) + uint64(s.stats.Verifies-verifies)*uint64(s.cfg.VerifyCost)
	}
	if err != nil {
		s.stats.Rejected++
		s.tracef("n%d rejects: %v", ev.to, err)
	}
	s.handle(n)
	switch {
	case ev.pub != 0:
		if err == nil && n.Honest() {
			s.forward(ev)
		}
	case s.cfg.Relay && err == nil && n.Honest():
		s.relay(n, ev)
	}
}

// relay forwards a proposal or vote n received for the first time to its
// other peers.
func (s *Sim) relay(n *Node, ev event) {
	var sig []byte
	switch {
	case ev.msg.Vote != nil:
		sig = ev.msg.Vote.Signature
	case ev.msg.Proposal != nil:
		sig = ev.msg.Proposal.Signature
	default:
		return
	}
	if n.relayed == nil {
		n.relayed = map[string]bool{}
	}
	if n.relayed[string(sig)] {
		return
	}
	n.relayed[string(sig)] = true
	m := ev.msg
	m.To = consensus.Address{}
	for _, p := range n.Peers() {
		if p != ev.from {
			s.stats.Sent++
			s.transmit(n.Index, p, m)
		}
	}
}

// handle follows the Ready contract: persist, send, apply decided blocks
// in order, then Advance.
func (s *Sim) handle(n *Node) {
	for n.Engine.HasReady() {
		rd := n.Engine.Ready()
		n.WAL = append(n.WAL, rd.Persist...)
		if n.Honest() {
			// (A Byzantine node's messages count as it sends them: what
			// its engine signed may never go out.)
			for _, m := range rd.Persist {
				s.mon.signed(n, m)
			}
		}
		for _, m := range rd.Messages {
			n.Sent = append(n.Sent, m)
			if p := m.Proposal; p != nil && n.Honest() {
				if _, ok := s.proposedAt[p.Height]; !ok {
					s.proposedAt[p.Height] = s.now
				}
			}
			if s.gossip != nil && n.Strategy == nil && m.Broadcast() && m.Status == nil {
				m.From = n.Signer.Address()
				s.publish(n, m)
				continue
			}
			var out []Envelope
			if n.Strategy != nil {
				out = n.Strategy.Outgoing(n, m)
			} else {
				out = s.route(n, m)
			}
			for _, env := range out {
				env.Msg.From = n.Signer.Address()
				s.stats.Sent++
				s.transmit(n.Index, env.To, env.Msg)
			}
		}
		for _, d := range rd.Decided {
			s.apply(n, d)
		}
		for _, ev := range rd.Evidence {
			s.stats.Evidence++
			s.evidence = append(s.evidence, ev)
		}
		if err := n.Engine.Advance(); err != nil {
			panic(fmt.Sprintf("consensustest: node %d: advance: %v", n.Index, err))
		}
	}
}

// route returns the envelopes of an honest message: to its recipient, or
// to every other node.
func (s *Sim) route(n *Node, m Message) []Envelope {
	if !m.Broadcast() {
		if to, ok := s.addr[m.To]; ok && to != n.Index {
			return []Envelope{{To: to, Msg: m}}
		}
		return nil
	}
	out := make([]Envelope, 0, len(s.nodes)-1)
	for _, p := range n.Peers() {
		out = append(out, Envelope{To: p, Msg: m})
	}
	return out
}

func (s *Sim) apply(n *Node, d Decided) {
	h, id := d.Block.Header.Height, d.Block.ID()
	s.stats.Decisions++
	s.tracef("n%d decides h%d %s (commit round %d, %d sigs)", n.Index, h, short(id), d.Commit.Round, len(d.Commit.Signatures))
	if err := consensus.VerifyCommitWith(s.verify, s.cfg.ChainID, s.Validators(h), h, id, d.Commit); err != nil && n.Honest() {
		s.violate(KindBadCommit, "node %d decided h%d %s with a commit VerifyCommit rejects: %v", n.Index, h, short(id), err)
	}
	if err := n.App.Commit(d); err != nil {
		if n.Honest() {
			s.violate(KindBadCommit, "node %d cannot apply its decision at h%d: %v", n.Index, h, err)
		}
		return
	}
	if !n.Honest() {
		return
	}
	n.readyAt = s.now + s.cfg.BlockInterval
	if at, ok := s.proposedAt[h]; ok {
		s.finality = append(s.finality, s.now-at)
	}
	if first, ok := s.decided[h]; !ok {
		s.decided[h] = decision{node: n.Index, id: id}
	} else if first.id != id {
		s.violate(KindFork, "fork at h%d: node %d decided %s, node %d decided %s", h, first.node, short(first.id), n.Index, short(id))
	}
}

func (s *Sim) violate(k Kind, format string, args ...any) {
	v := Violation{Kind: k, Tick: s.now, Detail: fmt.Sprintf(format, args...)}
	s.tracef("VIOLATION %s", v)
	s.violations = append(s.violations, v)
}

// Describe returns a one-line description of m for traces.
func Describe(m Message) string {
	switch {
	case m.Proposal != nil:
		p := m.Proposal
		return fmt.Sprintf("proposal h%d r%d pol%d %s", p.Height, p.Round, p.POLRound, short(p.Block.ID()))
	case m.Vote != nil:
		v := m.Vote
		return fmt.Sprintf("%s h%d r%d %s", v.Type, v.Height, v.Round, short(v.BlockID))
	case m.Decided != nil:
		return fmt.Sprintf("decided h%d %s", m.Decided.Block.Header.Height, short(m.Decided.Block.ID()))
	}
	return "empty"
}

func short(id consensus.Hash) string {
	if id.IsZero() {
		return "nil"
	}
	return strings.ToUpper(id.String()[:8])
}
