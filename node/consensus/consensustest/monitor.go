package consensustest

import (
	"fmt"

	"github.com/idmesh/idmesh/node/consensus"
)

// KindProtocol is a violation of a rule of the protocol by an honest
// node, found before it turns into a fork: a precommit without more than
// two thirds of prevotes for its block, or a prevote that its lock
// forbids or that rests on a proof of lock that does not exist.
const KindProtocol Kind = "protocol"

// monitor checks every vote an honest node signs, at the moment it signs
// it, against what the whole network had signed until then: a node can
// only have received what was signed before, so a vote the global record
// does not justify is one the node's own view did not justify either.
// The rules are the paper's (lines 22, 28 and 36), checked from the
// outside with quorum arithmetic of the monitor's own:
//
//   - a precommit for a block needs more than 2/3 of the power to have
//     prevoted that block in that round;
//   - a prevote for a block in round r needs a proposal of that block in
//     round r, either without a proof-of-lock round, or with a round vr
//     in which more than 2/3 prevoted it; and if the node precommitted
//     another block in an earlier round (its lock), the proposal must
//     carry a proof of lock from that round or later.
type monitor struct {
	sim *Sim
	// prevotes[h][r][id] holds who prevoted id at height h, round r.
	prevotes map[uint64]map[int32]map[consensus.Hash]map[consensus.Address]bool
	// pols[h][r][id] lists the proof-of-lock rounds of the proposals of
	// id at height h, round r (NilRound for none).
	pols map[uint64]map[int32]map[consensus.Hash][]int32
	// locks[node][h] is the node's lock at h: the last round in which it
	// precommitted a block, and that block.
	locks map[int]map[uint64]lock
	seen  map[string]bool // signatures recorded
}

type lock struct {
	round int32
	id    consensus.Hash
}

func newMonitor(s *Sim) *monitor {
	return &monitor{sim: s,
		prevotes: map[uint64]map[int32]map[consensus.Hash]map[consensus.Address]bool{},
		pols:     map[uint64]map[int32]map[consensus.Hash][]int32{},
		locks:    map[int]map[uint64]lock{},
		seen:     map[string]bool{},
	}
}

// record notes a message put on the network or signed, by anyone.
func (m *monitor) record(msg Message) {
	switch {
	case msg.Vote != nil:
		v := msg.Vote
		if v.Type != consensus.Prevote || m.seen[string(v.Signature)] {
			return
		}
		m.seen[string(v.Signature)] = true
		byRound := m.prevotes[v.Height]
		if byRound == nil {
			byRound = map[int32]map[consensus.Hash]map[consensus.Address]bool{}
			m.prevotes[v.Height] = byRound
		}
		byID := byRound[v.Round]
		if byID == nil {
			byID = map[consensus.Hash]map[consensus.Address]bool{}
			byRound[v.Round] = byID
		}
		if byID[v.BlockID] == nil {
			byID[v.BlockID] = map[consensus.Address]bool{}
		}
		byID[v.BlockID][v.Validator] = true
	case msg.Proposal != nil:
		p := msg.Proposal
		if m.seen[string(p.Signature)] {
			return
		}
		m.seen[string(p.Signature)] = true
		byRound := m.pols[p.Height]
		if byRound == nil {
			byRound = map[int32]map[consensus.Hash][]int32{}
			m.pols[p.Height] = byRound
		}
		if byRound[p.Round] == nil {
			byRound[p.Round] = map[consensus.Hash][]int32{}
		}
		byRound[p.Round][p.Block.ID()] = append(byRound[p.Round][p.Block.ID()], p.POLRound)
	}
}

// quorum reports whether more than 2/3 of height h's power prevoted id
// in round r, by the monitor's own arithmetic.
func (m *monitor) quorum(h uint64, r int32, id consensus.Hash) bool {
	vs := m.sim.Validators(h)
	var p int64
	for a := range m.prevotes[h][r][id] {
		if v, ok := vs.ByAddress(a); ok {
			p += v.Power
		}
	}
	return 3*p > 2*vs.TotalPower()
}

// signed checks a vote honest node n just signed, then records it.
func (m *monitor) signed(n *Node, msg Message) {
	defer m.record(msg)
	v := msg.Vote
	if v == nil || v.BlockID.IsZero() {
		return
	}
	h, r, id := v.Height, v.Round, v.BlockID
	locks := m.locks[n.Index]
	if locks == nil {
		locks = map[uint64]lock{}
		m.locks[n.Index] = locks
	}
	if v.Type == consensus.Precommit {
		if !m.quorum(h, r, id) {
			m.sim.violate(KindProtocol, "honest node %d precommitted %s at h%d r%d without more than 2/3 prevotes for it", n.Index, short(id), h, r)
		}
		if l, ok := locks[h]; !ok || r > l.round {
			locks[h] = lock{round: r, id: id}
		}
		return
	}
	l, locked := locks[h]
	for _, vr := range m.pols[h][r][id] {
		switch {
		case vr == consensus.NilRound && (!locked || l.id == id):
			return // line 22
		case vr != consensus.NilRound && vr < r && m.quorum(h, vr, id) && (!locked || l.round <= vr || l.id == id):
			return // line 28
		}
	}
	why := "no proposal of it in that round justifies it"
	if locked && l.id != id {
		why = fmt.Sprintf("it is locked on %s since round %d and no proof of lock from then on exists", short(l.id), l.round)
	}
	m.sim.violate(KindProtocol, "honest node %d prevoted %s at h%d r%d: %s", n.Index, short(id), h, r, why)
}
