package consensus

import (
	"slices"
)

// This file holds the paper's Algorithm 1, one function per rule, named
// by the line where the rule starts.

// startRound is StartRound(round), lines 11-21.
func (e *Engine[B]) startRound(r int32) {
	e.round, e.step = r, StepPropose
	if r == 0 && e.cfg.WaitForTxs && !e.txsReady && len(e.proposals) == 0 && len(e.signed) == 0 {
		// Wait for TxsAvailable, or for a proposal (rule 22 still applies:
		// a proposal from elsewhere gets this node's prevote).
		e.waiting = true
		return
	}
	e.waiting = false
	if e.cfg.Signer != nil && e.proposer(r) == e.self {
		if p, ok := e.proposals[r]; ok && p.Proposer == e.self {
			// Restored from the log: send what was signed, never a new one.
			e.fired("14 resend restored proposal")
			e.send(Message[B]{Proposal: p})
			return
		}
		b := e.validBlock
		if b == zero[B]() {
			var err error
			if b, err = e.cfg.App.ProposeBlock(e.height, r, e.commit); err != nil || b == zero[B]() {
				if r == 0 && e.cfg.WaitForTxs {
					// Nothing worth a block after all: wait again.
					e.waiting, e.txsReady = true, false
					return
				}
				// Nothing to propose: the others time out and move on.
				e.schedule(StepPropose, r)
				return
			}
		}
		p := &Proposal[B]{Height: e.height, Round: r, POLRound: e.validRound, Block: b, Proposer: e.self}
		p.Signature = e.cfg.Signer.Sign(p.SignBytes(e.cfg.ChainID))
		e.addProposal(p)
		e.ready.Persist = append(e.ready.Persist, Message[B]{From: e.self, Proposal: p})
		e.send(Message[B]{Proposal: p})
		if p.POLRound != NilRound {
			e.fired("14 propose valid value")
			e.sendPOL() // the proof of lock travels with the re-proposal
		} else {
			e.fired("14 propose new value")
		}
		return
	}
	e.schedule(StepPropose, r)
}

// schedule arms the timeout of step in round r.
func (e *Engine[B]) schedule(step Step, r int32) {
	var base, delta int
	switch step {
	case StepPropose:
		base, delta = e.cfg.TimeoutPropose, e.cfg.TimeoutProposeDelta
	case StepPrevote:
		base, delta = e.cfg.TimeoutPrevote, e.cfg.TimeoutPrevoteDelta
	default:
		base, delta = e.cfg.TimeoutPrecommit, e.cfg.TimeoutPrecommitDelta
	}
	at := e.tick + uint64(base) + uint64(delta)*uint64(r)
	e.timeouts = append(e.timeouts, timeout{at: at, step: step, height: e.height, round: r})
}

// onTimeout is OnTimeoutPropose (57), OnTimeoutPrevote (61) and
// OnTimeoutPrecommit (65).
func (e *Engine[B]) onTimeout(t timeout) {
	if t.height != e.height || t.round != e.round {
		return
	}
	switch t.step {
	case StepPropose:
		if e.step == StepPropose {
			e.fired("57 timeout propose")
			e.vote(Prevote, Hash{})
			e.step = StepPrevote
		}
	case StepPrevote:
		if e.step == StepPrevote {
			e.fired("61 timeout prevote")
			e.vote(Precommit, Hash{})
			e.step = StepPrecommit
		}
	case StepPrecommit:
		e.fired("65 timeout precommit")
		e.startRound(e.round + 1)
	}
}

// vote signs and sends a vote of the current round. The guard refuses to
// sign a second, different vote of one type in one round of a height.
func (e *Engine[B]) vote(t VoteType, id Hash) {
	if e.cfg.Signer == nil {
		return
	}
	if _, ok := e.power[e.self]; !ok {
		return
	}
	k := signKey{t, e.round}
	if old, ok := e.signed[k]; ok {
		if old.BlockID == id {
			e.send(Message[B]{Vote: old})
		}
		return
	}
	v := &Vote{Type: t, Height: e.height, Round: e.round, BlockID: id, Validator: e.self}
	v.Signature = e.cfg.Signer.Sign(v.SignBytes(e.cfg.ChainID))
	e.signed[k] = v
	e.addVote(v)
	e.ready.Persist = append(e.ready.Persist, Message[B]{From: e.self, Vote: v})
	e.send(Message[B]{Vote: v})
}

func (e *Engine[B]) send(m Message[B]) {
	m.From = e.self
	e.ready.Messages = append(e.ready.Messages, m)
}

// rebroadcast runs once a period: the node says where it is and what it
// holds (Status). Peers already past its height answer with the decided
// block; peers at its height answer with the proposals and votes of its
// round and the one before that it lacks, and with their own later
// round's messages and proof of lock (see answer). Nothing is published
// twice: a node that lost a message gets it by asking.
func (e *Engine[B]) rebroadcast() {
	_, isValidator := e.power[e.self]
	stuck := !isValidator || e.tick-e.progressAt >= uint64(e.cfg.RebroadcastTicks)
	st := &Status{Height: e.height, Round: e.round, Stuck: stuck}
	for i, r := range []int32{e.round - 1, e.round} {
		st.Has[i] = e.has(r)
	}
	e.send(Message[B]{Status: st})
}

// has returns what this node holds of round r.
func (e *Engine[B]) has(r int32) RoundHas {
	var h RoundHas
	if r < 0 {
		return h
	}
	_, h.Proposal = e.proposals[r]
	bits := func(s *voteSet) []byte {
		if s == nil {
			return nil
		}
		b := make([]byte, (len(e.vals.Validators)+7)/8)
		for i, v := range e.vals.Validators {
			if len(s.votes[v.Address()]) > 0 {
				b[i/8] |= 1 << (i % 8)
			}
		}
		return b
	}
	h.Prevotes, h.Precommits = bits(e.prevotes[r]), bits(e.precommits[r])
	return h
}

// answer sends peer, which is at this height, what it lacks of its round
// and the one before; if this node is in a later round, that round's
// messages (so that the peer can follow, by the f+1 rule); and if the
// peer is stuck, every proposal and vote of this node's valid round (the
// proof of lock the peer may need to accept a re-proposal). A proposal
// (a whole block) goes to a peer that is not stuck only once this node
// has held it for a rebroadcast period: before that, the gossip is most
// likely still bringing it, and under load such answers were a fifth of
// a block a height to each validator, all of them copies.
func (e *Engine[B]) answer(peer Address, st *Status) {
	sendSet := func(s *voteSet, have []byte) {
		if s == nil {
			return
		}
		for i, val := range e.vals.Validators {
			if have != nil && hasBit(have, i) {
				continue
			}
			for _, v := range s.votes[val.Address()] {
				e.send(Message[B]{To: peer, Vote: v})
			}
		}
	}
	sendRound := func(r int32, has *RoundHas) {
		if p, ok := e.proposals[r]; ok && (has == nil || !has.Proposal) && (st.Stuck || e.tick-e.proposalAt[r] >= uint64(e.cfg.RebroadcastTicks)) {
			e.send(Message[B]{To: peer, Proposal: p})
		}
		var pv, pc []byte
		if has != nil {
			pv, pc = has.Prevotes, has.Precommits
			if pv == nil {
				pv = []byte{}
			}
			if pc == nil {
				pc = []byte{}
			}
		}
		sendSet(e.prevotes[r], pv)
		sendSet(e.precommits[r], pc)
	}
	for i, r := range []int32{st.Round - 1, st.Round} {
		if r >= 0 {
			sendRound(r, &st.Has[i])
		}
	}
	if e.round > st.Round {
		sendRound(e.round, nil)
	}
	if st.Stuck && e.validRound >= 0 && e.validRound < st.Round-1 {
		sendRound(e.validRound, nil)
	}
}

// sendPOL relays the prevotes of validRound for the valid value.
func (e *Engine[B]) sendPOL() {
	if e.validRound == NilRound || e.validBlock == zero[B]() {
		return
	}
	s := e.prevotes[e.validRound]
	if s == nil {
		return
	}
	id := e.validBlock.ID()
	for _, val := range e.vals.Validators {
		if v := s.vote(val.Address(), id); v != nil && v.Validator != e.self {
			e.send(Message[B]{Vote: v})
		}
	}
}

// checkRules applies every rule whose condition holds, until none does.
func (e *Engine[B]) checkRules() {
	for e.step != StepDecided && e.applyOne() {
	}
}

// applyOne applies the first rule that fires and reports whether one did.
func (e *Engine[B]) applyOne() bool {
	return e.rule49() || e.rule55() || e.rule22() || e.rule28() || e.rule34() || e.rule36() || e.rule44() || e.rule47()
}

func (e *Engine[B]) once(line int, r int32) bool {
	k := ruleKey{line, r}
	if e.done[k] {
		return false
	}
	e.done[k] = true
	return true
}

func (e *Engine[B]) prevoteSet(r int32) *voteSet {
	if s := e.prevotes[r]; s != nil {
		return s
	}
	return newVoteSet()
}

func (e *Engine[B]) precommitSet(r int32) *voteSet {
	if s := e.precommits[r]; s != nil {
		return s
	}
	return newVoteSet()
}

// rule22: upon PROPOSAL(h, r, v, -1) from proposer(h, r) while step =
// propose: prevote id(v) if valid(v) and (lockedRound = -1 or lockedValue
// = v), else nil.
func (e *Engine[B]) rule22() bool {
	p := e.proposals[e.round]
	if e.step != StepPropose || p == nil || p.POLRound != NilRound {
		return false
	}
	id := p.Block.ID()
	if e.valid(p.Block) && (e.lockedRound == NilRound || e.lockedID == id) {
		e.fired("22 prevote value")
		e.vote(Prevote, id)
	} else {
		e.fired("22 prevote nil")
		e.vote(Prevote, Hash{})
	}
	e.step = StepPrevote
	return true
}

// rule28: upon PROPOSAL(h, r, v, vr) and 2f+1 PREVOTE(h, vr, id(v)) while
// step = propose and 0 <= vr < r: prevote id(v) if valid(v) and
// (lockedRound <= vr or lockedValue = v), else nil.
func (e *Engine[B]) rule28() bool {
	p := e.proposals[e.round]
	if e.step != StepPropose || p == nil || p.POLRound == NilRound || p.POLRound >= e.round {
		return false
	}
	id := p.Block.ID()
	if !twoThirds(e.prevoteSet(p.POLRound).byBlock[id], e.total) {
		return false
	}
	if e.valid(p.Block) && (e.lockedRound <= p.POLRound || e.lockedID == id) {
		e.fired("28 prevote value")
		e.vote(Prevote, id)
	} else {
		e.fired("28 prevote nil")
		e.vote(Prevote, Hash{})
	}
	e.step = StepPrevote
	return true
}

// rule34: upon 2f+1 PREVOTE(h, r, *) while step = prevote, the first
// time: schedule OnTimeoutPrevote(h, r).
func (e *Engine[B]) rule34() bool {
	if e.step != StepPrevote || !twoThirds(e.prevoteSet(e.round).total, e.total) || !e.once(34, e.round) {
		return false
	}
	e.fired("34 schedule timeout prevote")
	e.schedule(StepPrevote, e.round)
	return true
}

// rule36: upon PROPOSAL(h, r, v, *) and 2f+1 PREVOTE(h, r, id(v)) while
// valid(v) and step >= prevote, the first time: if step = prevote, lock
// v and precommit id(v); in any case, validValue = v.
func (e *Engine[B]) rule36() bool {
	p := e.proposals[e.round]
	if e.step < StepPrevote || p == nil {
		return false
	}
	id := p.Block.ID()
	if !twoThirds(e.prevoteSet(e.round).byBlock[id], e.total) || !e.valid(p.Block) || !e.once(36, e.round) {
		return false
	}
	if e.step == StepPrevote {
		e.fired("36 lock and precommit")
		e.lockedRound, e.lockedID = e.round, id
		e.vote(Precommit, id)
		e.step = StepPrecommit
	} else {
		e.fired("36 valid only")
	}
	e.validRound, e.validBlock = e.round, p.Block
	return true
}

// rule44: upon 2f+1 PREVOTE(h, r, nil) while step = prevote: precommit nil.
func (e *Engine[B]) rule44() bool {
	if e.step != StepPrevote || !twoThirds(e.prevoteSet(e.round).byBlock[Hash{}], e.total) {
		return false
	}
	e.fired("44 precommit nil")
	e.vote(Precommit, Hash{})
	e.step = StepPrecommit
	return true
}

// rule47: upon 2f+1 PRECOMMIT(h, r, *) the first time: schedule
// OnTimeoutPrecommit(h, r).
func (e *Engine[B]) rule47() bool {
	if !twoThirds(e.precommitSet(e.round).total, e.total) || !e.once(47, e.round) {
		return false
	}
	e.fired("47 schedule timeout precommit")
	e.schedule(StepPrecommit, e.round)
	return true
}

// rule49: upon PROPOSAL(h, r, v, *) and 2f+1 PRECOMMIT(h, r, id(v)) while
// decision is nil, for any round r: if valid(v), decide v.
func (e *Engine[B]) rule49() bool {
	rounds := make([]int32, 0, len(e.precommits))
	for r := range e.precommits {
		rounds = append(rounds, r)
	}
	slices.Sort(rounds) // map order is random; decisions must not be
	for _, r := range rounds {
		s := e.precommits[r]
		id, ok := s.majority(e.total)
		if !ok || id.IsZero() {
			continue
		}
		b := e.blockByID(id)
		if b == zero[B]() || !e.valid(b) {
			continue // the block is missing: a proposal or a Decided brings it
		}
		e.fired("49 decide")
		e.decide(b, s.commit(e.vals, e.height, r, id))
		return true
	}
	return false
}

// blockByID returns a proposed block with the given ID from any round:
// the decision is about the block, whichever round's proposal carried it.
func (e *Engine[B]) blockByID(id Hash) B {
	rounds := make([]int32, 0, len(e.proposals))
	for r := range e.proposals {
		rounds = append(rounds, r)
	}
	slices.Sort(rounds)
	for _, r := range rounds {
		if p := e.proposals[r]; p.Block.ID() == id {
			return p.Block
		}
	}
	return zero[B]()
}

// rule55: upon f+1 messages of round r > round_p: StartRound(r).
func (e *Engine[B]) rule55() bool {
	best := NilRound
	for r, senders := range e.senders {
		if r <= e.round || r <= best {
			continue
		}
		var p int64
		for a := range senders {
			p += e.power[a]
		}
		if oneThird(p, e.total) {
			best = r
		}
	}
	if best == NilRound {
		return false
	}
	e.fired("55 skip to round")
	e.startRound(best)
	return true
}

// decide records the decision; the engine waits for Advance.
func (e *Engine[B]) decide(b B, c *Commit) {
	e.step = StepDecided
	e.commit = c
	e.height++ // messages of the decided height are now "past"
	e.ready.Decided = append(e.ready.Decided, Decided[B]{Block: b, Commit: c})
}
