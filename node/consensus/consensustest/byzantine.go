package consensustest

import (
	"bytes"
	"slices"

	"github.com/idmesh/idmesh/node/consensus"
)

// Envelope is a message for node To.
type Envelope struct {
	To  int
	Msg Message
}

// Strategy is a Byzantine behaviour. It sees every message its node's
// engine hands the driver and returns what actually goes out; it holds the
// node's key, so it may sign anything.
type Strategy interface {
	Name() string
	Outgoing(n *Node, m Message) []Envelope
}

// Strategies returns a fresh instance of each named strategy that needs
// no coordination, for random scenarios.
func Strategies() []Strategy {
	return []Strategy{Silent(), EquivocatingProposer(), EquivocatingVoter(), InvalidProposer(), RandomVoter(), ForgedPOL(), WithholdPOL(), SelectiveVoter(), LockSplitter(), Amnesiac()}
}

// halves splits n's peers: the first half and the rest.
func halves(n *Node) (a, b []int) {
	ps := n.Peers()
	return ps[:len(ps)/2], ps[len(ps)/2:]
}

func to(peers []int, m Message) []Envelope {
	out := make([]Envelope, 0, len(peers))
	for _, p := range peers {
		out = append(out, Envelope{To: p, Msg: m})
	}
	return out
}

// passthrough routes m as an honest node would.
func passthrough(n *Node, m Message) []Envelope { return n.sim.route(n, m) }

type silent struct{}

// Silent sends nothing: a crashed or mute validator.
func Silent() Strategy { return silent{} }

func (silent) Name() string                       { return "silent" }
func (silent) Outgoing(*Node, Message) []Envelope { return nil }

type hr struct {
	t consensus.VoteType // 0 for proposals
	h uint64
	r int32
}

type equivProposer struct{ alt map[hr]*Proposal }

// EquivocatingProposer returns a strategy that, when proposer, signs a second block for the same
// round and sends its engine's proposal to half its peers and the other
// to the rest. Everything else goes out unchanged.
func EquivocatingProposer() Strategy { return &equivProposer{alt: map[hr]*Proposal{}} }

func (*equivProposer) Name() string { return "equivocating-proposer" }

func (s *equivProposer) Outgoing(n *Node, m Message) []Envelope {
	p := m.Proposal
	if p == nil || !m.Broadcast() {
		return passthrough(n, m)
	}
	k := hr{h: p.Height, r: p.Round}
	alt := s.alt[k]
	if alt == nil {
		alt = SignProposal(n.Signer, n.ChainID(), p.Height, p.Round, p.POLRound, Variant(p.Block, n.Rand()))
		s.alt[k] = alt
	}
	a, b := halves(n)
	return append(to(a, m), to(b, Message{Proposal: alt})...)
}

type equivVoter struct{ alt map[hr]*consensus.Vote }

// EquivocatingVoter signs, for every vote its engine signs, a conflicting
// one (nil for a block, a random block ID for nil) and sends the two to
// different halves of its peers.
func EquivocatingVoter() Strategy { return &equivVoter{alt: map[hr]*consensus.Vote{}} }

func (*equivVoter) Name() string { return "equivocating-voter" }

func (s *equivVoter) Outgoing(n *Node, m Message) []Envelope {
	v := m.Vote
	if v == nil || !m.Broadcast() {
		return passthrough(n, m)
	}
	k := hr{t: v.Type, h: v.Height, r: v.Round}
	alt := s.alt[k]
	if alt == nil {
		var id consensus.Hash
		if v.BlockID.IsZero() {
			id = randomID(n)
		}
		alt = SignVote(n.Signer, n.ChainID(), v.Type, v.Height, v.Round, id)
		s.alt[k] = alt
	}
	a, b := halves(n)
	return append(to(a, m), to(b, Message{Vote: alt})...)
}

type invalidProposer struct{ bad map[hr]*Proposal }

// InvalidProposer replaces its proposals with well-formed blocks that
// every App rejects.
func InvalidProposer() Strategy { return &invalidProposer{bad: map[hr]*Proposal{}} }

func (*invalidProposer) Name() string { return "invalid-proposer" }

func (s *invalidProposer) Outgoing(n *Node, m Message) []Envelope {
	p := m.Proposal
	if p == nil {
		return passthrough(n, m)
	}
	k := hr{h: p.Height, r: p.Round}
	bad := s.bad[k]
	if bad == nil {
		bad = SignProposal(n.Signer, n.ChainID(), p.Height, p.Round, p.POLRound, MarkInvalid(p.Block))
		s.bad[k] = bad
	}
	return passthrough(n, Message{To: m.To, Proposal: bad})
}

type randomVoter struct{ ids map[hr]*consensus.Vote }

// RandomVoter replaces each of its votes with one for a random block ID
// (one per type, height and round).
func RandomVoter() Strategy { return &randomVoter{ids: map[hr]*consensus.Vote{}} }

func (*randomVoter) Name() string { return "random-voter" }

func (s *randomVoter) Outgoing(n *Node, m Message) []Envelope {
	v := m.Vote
	if v == nil {
		return passthrough(n, m)
	}
	k := hr{t: v.Type, h: v.Height, r: v.Round}
	rv := s.ids[k]
	if rv == nil {
		rv = SignVote(n.Signer, n.ChainID(), v.Type, v.Height, v.Round, randomID(n))
		s.ids[k] = rv
	}
	return passthrough(n, Message{To: m.To, Vote: rv})
}

type forgedPOL struct{ forged map[hr]*Proposal }

// ForgedPOL claims proofs of lock it does not have: each of its proposals
// for a round r > 0 goes out with a proof-of-lock round drawn from
// [0, r), re-signed, whatever its engine proposed (a fresh block, or its
// valid value with its real proof-of-lock round).
func ForgedPOL() Strategy { return &forgedPOL{forged: map[hr]*Proposal{}} }

func (*forgedPOL) Name() string { return "forged-pol" }

func (s *forgedPOL) Outgoing(n *Node, m Message) []Envelope {
	p := m.Proposal
	if p == nil || p.Round == 0 || p.Proposer != n.Signer.Address() {
		return passthrough(n, m)
	}
	k := hr{h: p.Height, r: p.Round}
	f := s.forged[k]
	if f == nil {
		f = SignProposal(n.Signer, n.ChainID(), p.Height, p.Round, n.Rand().Int32N(p.Round), p.Block)
		s.forged[k] = f
	}
	return passthrough(n, Message{To: m.To, Proposal: f})
}

type withholdPOL struct{}

// WithholdPOL proposes its valid value with its proof-of-lock round but
// never relays the prevotes that prove it, nor anyone else's votes in
// answer to a peer that asks: only its own votes and proposals go out.
func WithholdPOL() Strategy { return withholdPOL{} }

func (withholdPOL) Name() string { return "withhold-pol" }

func (withholdPOL) Outgoing(n *Node, m Message) []Envelope {
	if m.Vote != nil && m.Vote.Validator != n.Signer.Address() {
		return nil
	}
	return passthrough(n, m)
}

type selectiveVoter struct{}

// SelectiveVoter sends each of its votes to one peer only, a different
// one each round: a proof of lock that only that peer sees, so honest
// nodes lock on different values in different rounds, and a re-proposal
// meets a node locked on a later value (line 28's nil branch).
func SelectiveVoter() Strategy { return selectiveVoter{} }

func (selectiveVoter) Name() string { return "selective-voter" }

func (selectiveVoter) Outgoing(n *Node, m Message) []Envelope {
	v := m.Vote
	if v == nil || !m.Broadcast() {
		return passthrough(n, m)
	}
	ps := n.Peers()
	return to([]int{ps[int(v.Round)%len(ps)]}, m)
}

type lockSplitter struct {
	done map[hr]bool
	next int
}

// LockSplitter sees everything (the adversary of the model controls the
// network) and builds proofs of lock that one honest node each sees. In
// each round it signs a prevote for a block that unlocked honest nodes
// prevoted, if its prevote makes a quorum, and shows it to one of them
// only (taking turns); everyone gets its votes for nil instead of its
// engine's votes for blocks. So honest nodes lock on different blocks in
// different rounds, and a node that re-proposes its valid value meets one
// locked on a later block (line 28's nil branch; see SplitConfig).
func LockSplitter() Strategy { return &lockSplitter{done: map[hr]bool{}} }

func (*lockSplitter) Name() string { return "lock-splitter" }

func (s *lockSplitter) Outgoing(n *Node, m Message) []Envelope {
	out := s.inject(n)
	if v := m.Vote; v != nil && v.Validator == n.Signer.Address() && !v.BlockID.IsZero() {
		// Its own votes for blocks become votes for nil, to everyone.
		nv := SignVote(n.Signer, n.ChainID(), v.Type, v.Height, v.Round, consensus.Hash{})
		return append(out, passthrough(n, Message{To: m.To, Vote: nv})...)
	}
	return append(out, passthrough(n, m)...)
}

// inject returns the split prevote of the current round, once.
func (s *lockSplitter) inject(n *Node) []Envelope {
	h, r := n.Engine.Height(), n.Engine.Round()
	k := hr{h: h, r: r}
	if s.done[k] {
		return nil
	}
	mon, vs := n.sim.mon, n.sim.Validators(h)
	self, _ := vs.ByAddress(n.Signer.Address())
	byID := mon.prevotes[h][r]
	ids := make([]consensus.Hash, 0, len(byID))
	for id := range byID {
		if !id.IsZero() {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b consensus.Hash) int { return bytes.Compare(a[:], b[:]) })
	for _, id := range ids {
		power := self.Power
		var cands []int
		for _, o := range n.sim.nodes {
			if !o.Honest() || !byID[id][o.Signer.Address()] {
				continue
			}
			if v, ok := vs.ByAddress(o.Signer.Address()); ok {
				power += v.Power
			}
			if _, locked := mon.locks[o.Index][h]; !locked {
				cands = append(cands, o.Index)
			}
		}
		if len(cands) == 0 || 3*power <= 2*vs.TotalPower() {
			continue
		}
		s.done[k] = true
		s.next++
		vote := SignVote(n.Signer, n.ChainID(), consensus.Prevote, h, r, id)
		return to([]int{cands[s.next%len(cands)]}, Message{Vote: vote})
	}
	return nil
}

type amnesiac struct{}

// Amnesiac behaves honestly but forgets what it signed: RandomConfig
// restarts it without its write-ahead log, so it may vote against its
// own lock and sign conflicting votes (the amnesia attack).
func Amnesiac() Strategy { return amnesiac{} }

func (amnesiac) Name() string                           { return "amnesia" }
func (amnesiac) Outgoing(n *Node, m Message) []Envelope { return passthrough(n, m) }

func randomID(n *Node) consensus.Hash {
	var id consensus.Hash
	for i := range id {
		id[i] = byte(n.Rand().Uint32())
	}
	return id
}

// ForkCoalition is a coordinated attack by all the nodes that share one
// instance: it splits the honest nodes into two groups and shows each a
// consistent world. A coalition proposer signs block A for the first group
// and block B for the second; every coalition vote goes to each group for
// that group's block of the round (nil in rounds the coalition did not
// propose), and the coalition never helps anyone catch up. With more than
// a third of the power it forks the chain; with less it must not.
type ForkCoalition struct {
	views map[hr][2]*Block
	group map[int]int
}

// NewForkCoalition returns a coalition; give the same instance to every
// member as its Strategy.
func NewForkCoalition() *ForkCoalition {
	return &ForkCoalition{views: map[hr][2]*Block{}}
}

// Name returns "fork-coalition".
func (*ForkCoalition) Name() string { return "fork-coalition" }

func (c *ForkCoalition) groups(n *Node) map[int]int {
	if c.group == nil {
		c.group = map[int]int{}
		k := 0
		for _, o := range n.sim.nodes {
			if o.Honest() {
				c.group[o.Index] = k % 2
				k++
			}
		}
	}
	return c.group
}

// Outgoing implements Strategy.
func (c *ForkCoalition) Outgoing(n *Node, m Message) []Envelope {
	g := c.groups(n)
	var out []Envelope
	switch {
	case m.Proposal != nil:
		p := m.Proposal
		k := hr{h: p.Height, r: p.Round}
		v, ok := c.views[k]
		if !ok {
			v = [2]*Block{p.Block, Variant(p.Block, n.Rand())}
			c.views[k] = v
		}
		props := [2]*Proposal{
			SignProposal(n.Signer, n.ChainID(), p.Height, p.Round, p.POLRound, v[0]),
			SignProposal(n.Signer, n.ChainID(), p.Height, p.Round, p.POLRound, v[1]),
		}
		for _, peer := range n.Peers() {
			grp, honest := g[peer]
			if !honest {
				grp = 0
			}
			out = append(out, Envelope{To: peer, Msg: Message{Proposal: props[grp]}})
		}
	case m.Vote != nil:
		vt := m.Vote
		view, ok := c.views[hr{h: vt.Height, r: vt.Round}]
		for _, peer := range n.Peers() {
			grp, honest := g[peer]
			if !honest {
				out = append(out, Envelope{To: peer, Msg: m})
				continue
			}
			var id consensus.Hash
			if ok {
				id = view[grp].ID()
			}
			out = append(out, Envelope{To: peer, Msg: Message{Vote: SignVote(n.Signer, n.ChainID(), vt.Type, vt.Height, vt.Round, id)}})
		}
	}
	return out
}
