package consensustest

import (
	"fmt"
	"strings"

	"github.com/idmesh/idmesh/node/consensus"
)

// Kind names a property that a run violated.
type Kind string

// Kinds of violation.
const (
	KindFork       Kind = "fork"        // two honest nodes decided different blocks at a height
	KindBadCommit  Kind = "bad-commit"  // an honest decision with a commit VerifyCommit rejects
	KindDoubleSign Kind = "double-sign" // an honest node signed two conflicting votes or proposals
	KindLiveness   Kind = "liveness"    // an honest node missed the target height by the deadline
	KindRoundSync  Kind = "round-sync"  // an honest node still behind the others' round after the heal
)

// Safety reports whether k is a safety property.
func (k Kind) Safety() bool { return k != KindLiveness && k != KindRoundSync }

// Violation is a property a run broke.
type Violation struct {
	Kind   Kind
	Tick   uint64
	Detail string
}

func (v Violation) String() string { return fmt.Sprintf("%s at t=%d: %s", v.Kind, v.Tick, v.Detail) }

// Report is the checker's verdict on a run.
type Report struct {
	Violations []Violation
}

// Safe reports whether no safety property was violated.
func (r Report) Safe() bool {
	for _, v := range r.Violations {
		if v.Kind.Safety() {
			return false
		}
	}
	return true
}

// Live reports whether the liveness property held.
func (r Report) Live() bool {
	for _, v := range r.Violations {
		if !v.Kind.Safety() {
			return false
		}
	}
	return true
}

// Has reports whether a violation of kind k was found.
func (r Report) Has(k Kind) bool {
	for _, v := range r.Violations {
		if v.Kind == k {
			return true
		}
	}
	return false
}

func (r Report) String() string {
	if len(r.Violations) == 0 {
		return "ok"
	}
	var b strings.Builder
	for _, v := range r.Violations {
		b.WriteString(v.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Check is the checker run at the end of a run. Safety: no two honest
// nodes decided different blocks at a height and every honest decision's
// commit passes consensus.VerifyCommit (both recorded as decisions are
// applied); no honest node signed two conflicting votes (same type,
// height and round, different block IDs) or proposals, over its
// write-ahead log and everything it sent. Liveness (if live): every honest
// node decided TargetHeight.
func (s *Sim) Check(live bool) Report {
	r := Report{Violations: append([]Violation(nil), s.violations...)}
	type key struct {
		node int
		hr
	}
	seen := map[key]consensus.Hash{}
	see := func(n *Node, m Message, where string) {
		var k key
		var id consensus.Hash
		switch {
		case m.Vote != nil && m.Vote.Validator == n.Signer.Address():
			k, id = key{n.Index, hr{t: m.Vote.Type, h: m.Vote.Height, r: m.Vote.Round}}, m.Vote.BlockID
		case m.Proposal != nil && m.Proposal.Proposer == n.Signer.Address():
			k, id = key{n.Index, hr{h: m.Proposal.Height, r: m.Proposal.Round}}, m.Proposal.Block.ID()
		default:
			return
		}
		old, ok := seen[k]
		if !ok {
			seen[k] = id
			return
		}
		if old != id {
			what := "proposal"
			if k.t != 0 {
				what = k.t.String()
			}
			r.Violations = append(r.Violations, Violation{Kind: KindDoubleSign, Tick: s.now,
				Detail: fmt.Sprintf("honest node %d signed two %ss at h%d r%d: %s and %s (%s)", n.Index, what, k.h, k.r, short(old), short(id), where)})
			seen[k] = id // report each change once
		}
	}
	for _, n := range s.nodes {
		if !n.Honest() {
			continue
		}
		for _, m := range n.WAL {
			see(n, m, "write-ahead log")
		}
		for _, m := range n.Sent {
			see(n, m, "sent")
		}
	}
	if live {
		for _, n := range s.nodes {
			if n.Honest() && n.App.Height() < s.Target() {
				lr, lid := n.Engine.Locked()
				vr, _ := n.Engine.Valid()
				r.Violations = append(r.Violations, Violation{Kind: KindLiveness, Tick: s.now,
					Detail: fmt.Sprintf("honest node %d at height %d (round %d, step %s, locked %s in round %d, valid round %d), target %d, %d ticks after the network settled",
						n.Index, n.App.Height(), n.Engine.Round(), n.Engine.CurrentStep(), short(lid), lr, vr, s.Target(), s.cfg.Liveness)})
			}
		}
	}
	return r
}

// Target returns the height every honest node must decide: TargetHeight,
// raised by AfterSettle once the network settled.
func (s *Sim) Target() uint64 { return max(s.target, s.cfg.TargetHeight) }

// Evidence returns the equivocation evidence the engines reported.
func (s *Sim) Evidence() []consensus.Evidence { return s.evidence }
