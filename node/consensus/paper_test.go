package consensus_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/consensus/consensustest"
)

// Paper tests, in the style of etcd raft's raft_paper_test.go: one test
// per rule of Algorithm 1 of "The latest gossip on BFT consensus"
// (Buchman, Kwon, Milosevic 2018), named by the rule's line. A single
// engine is driven by hand with messages signed by the three other
// validators of a 4-validator set of equal power (f = 1, 2f+1 = 3
// validators). At height 1 the proposer of round r is validator
// (1+r) mod 4, so the engine under test (validator 0 unless said
// otherwise) proposes in round 3.

const paperChain = "paper"

type paperEnv struct {
	t       *testing.T
	vs      *consensus.ValidatorSet
	signers []*consensustest.Signer
	me      int
	app     *consensustest.App
	e       *consensustest.Engine

	out      []consensustest.Message // everything the engine sent
	persist  []consensustest.Message
	decided  []consensustest.Decided
	evidence []consensus.Evidence
}

func paperConfig(s *consensustest.Signer, app *consensustest.App) consensustest.EngineConfig {
	return consensustest.EngineConfig{
		ChainID: paperChain, Height: 1, Signer: s, App: app,
		TimeoutPropose: 30, TimeoutProposeDelta: 10,
		TimeoutPrevote: 10, TimeoutPrevoteDelta: 10,
		TimeoutPrecommit: 10, TimeoutPrecommitDelta: 10,
		RebroadcastTicks: 1 << 30, // no resends in paper tests
	}
}

func newPaperEnv(t *testing.T, me int) *paperEnv {
	t.Helper()
	vs, signers := consensustest.NewValidators(7, []int64{10, 10, 10, 10})
	env := &paperEnv{t: t, vs: vs, signers: signers, me: me}
	env.app = consensustest.NewApp(consensustest.AppConfig{ChainID: paperChain, Validators: env.validators, Self: signers[me].Address()})
	e, err := consensus.New[*consensustest.Block](paperConfig(signers[me], env.app))
	if err != nil {
		t.Fatal(err)
	}
	env.e = e
	env.drain()
	return env
}

func (env *paperEnv) validators(uint64) *consensus.ValidatorSet { return env.vs }

// proposer returns the index of the proposer of round r at height 1.
func (env *paperEnv) proposer(r int32) int { return int(1+r) % 4 }

// block returns a valid block for height 1, different for each seed.
func (env *paperEnv) block(seed uint64) *consensustest.Block {
	env.t.Helper()
	app := consensustest.NewApp(consensustest.AppConfig{ChainID: paperChain, Validators: env.validators, Self: env.signers[1].Address(), Rand: rand.New(rand.NewPCG(seed, 99))})
	b, err := app.ProposeBlock(1, 0, nil)
	if err != nil {
		env.t.Fatal(err)
	}
	return b
}

// drain carries out the engine's Ready as a driver does.
func (env *paperEnv) drain() {
	env.t.Helper()
	for env.e.HasReady() {
		rd := env.e.Ready()
		env.persist = append(env.persist, rd.Persist...)
		env.out = append(env.out, rd.Messages...)
		for _, d := range rd.Decided {
			if err := env.app.Commit(d); err != nil {
				env.t.Fatalf("apply decided block: %v", err)
			}
		}
		env.decided = append(env.decided, rd.Decided...)
		env.evidence = append(env.evidence, rd.Evidence...)
		if err := env.e.Advance(); err != nil {
			env.t.Fatal(err)
		}
	}
}

func (env *paperEnv) step(m consensustest.Message) error {
	env.t.Helper()
	err := env.e.Step(m)
	env.drain()
	return err
}

func (env *paperEnv) mustStep(m consensustest.Message) {
	env.t.Helper()
	if err := env.step(m); err != nil {
		env.t.Fatalf("step %s: %v", consensustest.Describe(m), err)
	}
}

// propose delivers the proposal of b for round r from its proposer.
func (env *paperEnv) propose(r, pol int32, b *consensustest.Block) {
	env.t.Helper()
	s := env.signers[env.proposer(r)]
	env.mustStep(consensustest.Message{From: s.Address(), Proposal: consensustest.SignProposal(s, paperChain, 1, r, pol, b)})
}

// votes delivers votes of type t for id at round r from validators from.
func (env *paperEnv) votes(t consensus.VoteType, r int32, id consensus.Hash, from ...int) {
	env.t.Helper()
	for _, i := range from {
		s := env.signers[i]
		env.mustStep(consensustest.Message{From: s.Address(), Vote: consensustest.SignVote(s, paperChain, t, 1, r, id)})
	}
}

func (env *paperEnv) tick(n int) {
	for range n {
		env.e.Tick()
		env.drain()
	}
}

// voted returns the engine's own vote of type t at round r, if it sent one.
func (env *paperEnv) voted(t consensus.VoteType, r int32) (consensus.Hash, bool) {
	for _, m := range env.out {
		if v := m.Vote; v != nil && v.Type == t && v.Round == r && v.Validator == env.signers[env.me].Address() {
			return v.BlockID, true
		}
	}
	return consensus.Hash{}, false
}

func (env *paperEnv) wantVote(t consensus.VoteType, r int32, want consensus.Hash) {
	env.t.Helper()
	got, ok := env.voted(t, r)
	if !ok {
		env.t.Fatalf("no %s at round %d, want one for %s", t, r, idName(want))
	}
	if got != want {
		env.t.Fatalf("%s at round %d for %s, want %s", t, r, idName(got), idName(want))
	}
}

func (env *paperEnv) wantNoVote(t consensus.VoteType, r int32) {
	env.t.Helper()
	if got, ok := env.voted(t, r); ok {
		env.t.Fatalf("%s at round %d for %s, want none yet", t, r, idName(got))
	}
}

// lockOn makes the engine lock b in round r (it must be at round r, step
// propose): the proposal, then prevotes from two others.
func (env *paperEnv) lockOn(r int32, b *consensustest.Block) {
	env.t.Helper()
	env.propose(r, consensus.NilRound, b)
	others := env.othersBut(env.proposer(r))
	env.votes(consensus.Prevote, r, b.ID(), env.proposer(r), others[0])
	if lr, id := env.e.Locked(); lr != r || id != b.ID() {
		env.t.Fatalf("locked (%d, %s), want (%d, %s)", lr, idName(id), r, idName(b.ID()))
	}
}

// othersBut returns the validators other than the engine's and except.
func (env *paperEnv) othersBut(except ...int) []int {
	var out []int
next:
	for i := range env.signers {
		if i == env.me {
			continue
		}
		for _, x := range except {
			if i == x {
				continue next
			}
		}
		out = append(out, i)
	}
	return out
}

func idName(id consensus.Hash) string {
	if id.IsZero() {
		return "nil"
	}
	return id.String()[:8]
}

var nilID consensus.Hash

func TestPaperProposerOfRoundZero(t *testing.T) {
	env := newPaperEnv(t, 0)
	for i, s := range env.signers {
		app := consensustest.NewApp(consensustest.AppConfig{ChainID: paperChain, Validators: env.validators, Self: s.Address()})
		e, err := consensus.New[*consensustest.Block](paperConfig(s, app))
		if err != nil {
			t.Fatal(err)
		}
		proposed := false
		for _, m := range e.Ready().Messages {
			proposed = proposed || m.Proposal != nil
		}
		if proposed != (i == env.proposer(0)) {
			t.Fatalf("validator %d proposed=%v at round 0, want proposer %d", i, proposed, env.proposer(0))
		}
	}
}

// Line 22: upon a proposal with no POL round while in step propose,
// prevote id(v) if valid(v) and unlocked or locked on v, else nil.
func TestPaperLine22(t *testing.T) {
	t.Run("valid and unlocked: prevote the block", func(t *testing.T) {
		env := newPaperEnv(t, 0)
		v := env.block(1)
		env.propose(0, consensus.NilRound, v)
		env.wantVote(consensus.Prevote, 0, v.ID())
		if env.e.CurrentStep() != consensus.StepPrevote {
			t.Fatalf("step %s, want prevote", env.e.CurrentStep())
		}
	})
	t.Run("invalid: prevote nil", func(t *testing.T) {
		env := newPaperEnv(t, 0)
		env.propose(0, consensus.NilRound, consensustest.MarkInvalid(env.block(1)))
		env.wantVote(consensus.Prevote, 0, nilID)
	})
	t.Run("locked on another block: prevote nil", func(t *testing.T) {
		env := newPaperEnv(t, 0)
		v, w := env.block(1), env.block(2)
		env.lockOn(0, v)
		// Round 1 by f+1 messages of it: its proposal (w) and a prevote.
		env.votes(consensus.Prevote, 1, nilID, 1)
		env.propose(1, consensus.NilRound, w)
		if env.e.Round() != 1 {
			t.Fatalf("round %d, want 1", env.e.Round())
		}
		env.wantVote(consensus.Prevote, 1, nilID)
	})
	t.Run("locked on the same block: prevote it", func(t *testing.T) {
		env := newPaperEnv(t, 0)
		v := env.block(1)
		env.lockOn(0, v)
		env.votes(consensus.Prevote, 1, nilID, 1)
		env.propose(1, consensus.NilRound, v)
		env.wantVote(consensus.Prevote, 1, v.ID())
	})
}

// Line 28: upon a proposal with POL round vr < r and 2f+1 prevotes for it
// at vr, in step propose: prevote id(v) if valid(v) and (lockedRound <= vr
// or lockedValue = v), else nil.
func TestPaperLine28(t *testing.T) {
	t.Run("locked earlier than vr: prevote the block", func(t *testing.T) {
		env := newPaperEnv(t, 0)
		v, w := env.block(1), env.block(2)
		env.lockOn(0, v)
		env.votes(consensus.Prevote, 1, w.ID(), 1, 2, 3) // the POL of w in round 1, no proposal seen
		env.votes(consensus.Prevote, 2, nilID, 1)
		env.propose(2, 1, w)
		env.wantVote(consensus.Prevote, 2, w.ID())
	})
	t.Run("locked later than vr on another block: prevote nil", func(t *testing.T) {
		env := newPaperEnv(t, 0)
		v, w := env.block(1), env.block(2)
		env.votes(consensus.Prevote, 0, w.ID(), 1, 2, 3) // POL of w in round 0
		env.votes(consensus.Prevote, 1, v.ID(), 1)
		env.lockOn(1, v)
		env.votes(consensus.Prevote, 2, nilID, 1)
		env.propose(2, 0, w)
		env.wantVote(consensus.Prevote, 2, nilID)
	})
	t.Run("locked later than vr on the same block: prevote it", func(t *testing.T) {
		env := newPaperEnv(t, 0)
		v := env.block(1)
		env.votes(consensus.Prevote, 0, v.ID(), 1, 2, 3)
		env.votes(consensus.Prevote, 1, v.ID(), 1)
		env.lockOn(1, v)
		env.votes(consensus.Prevote, 2, nilID, 1)
		env.propose(2, 0, v)
		env.wantVote(consensus.Prevote, 2, v.ID())
	})
	t.Run("without the POL: wait", func(t *testing.T) {
		env := newPaperEnv(t, 0)
		w := env.block(2)
		env.votes(consensus.Prevote, 0, w.ID(), 1, 2) // only 2f
		env.votes(consensus.Prevote, 1, nilID, 1)
		env.propose(1, 0, w)
		env.wantNoVote(consensus.Prevote, 1)
	})
}

// Line 34: upon 2f+1 prevotes of any kind while in step prevote, schedule
// the prevote timeout; line 61: on it, precommit nil.
func TestPaperLine34And61(t *testing.T) {
	env := newPaperEnv(t, 0)
	v := env.block(1)
	env.propose(0, consensus.NilRound, v)
	env.votes(consensus.Prevote, 0, nilID, 1)
	env.tick(200) // 2f prevotes: no timeout is scheduled
	env.wantNoVote(consensus.Precommit, 0)
	env.votes(consensus.Prevote, 0, env.block(2).ID(), 2) // 2f+1, no majority
	env.tick(9)
	env.wantNoVote(consensus.Precommit, 0)
	env.tick(1)
	env.wantVote(consensus.Precommit, 0, nilID)
}

// Line 36: upon the proposal and 2f+1 prevotes for it while step >=
// prevote, the first time: in step prevote lock it and precommit it; in
// any case set validValue and validRound.
func TestPaperLine36(t *testing.T) {
	t.Run("in step prevote: lock and precommit", func(t *testing.T) {
		env := newPaperEnv(t, 0)
		v := env.block(1)
		env.propose(0, consensus.NilRound, v)
		env.votes(consensus.Prevote, 0, v.ID(), 1, 2)
		env.wantVote(consensus.Precommit, 0, v.ID())
		if lr, id := env.e.Locked(); lr != 0 || id != v.ID() {
			t.Fatalf("locked (%d, %s)", lr, idName(id))
		}
		if vr, vb := env.e.Valid(); vr != 0 || vb == nil || vb.ID() != v.ID() {
			t.Fatalf("valid round %d", vr)
		}
	})
	t.Run("past prevote: validValue only", func(t *testing.T) {
		env := newPaperEnv(t, 0)
		v := env.block(1)
		env.propose(0, consensus.NilRound, v)
		env.votes(consensus.Prevote, 0, nilID, 1)
		env.votes(consensus.Prevote, 0, v.ID(), 2)
		env.tick(10) // prevote timeout: precommit nil
		env.wantVote(consensus.Precommit, 0, nilID)
		env.votes(consensus.Prevote, 0, v.ID(), 3) // now 2f+1 for v
		if vr, vb := env.e.Valid(); vr != 0 || vb == nil || vb.ID() != v.ID() {
			t.Fatalf("valid round %d, want 0 with the block", vr)
		}
		if lr, _ := env.e.Locked(); lr != consensus.NilRound {
			t.Fatalf("locked round %d, want none: the lock is taken only in step prevote", lr)
		}
	})
}

// Line 44: upon 2f+1 nil prevotes in step prevote, precommit nil.
func TestPaperLine44(t *testing.T) {
	env := newPaperEnv(t, 0)
	env.propose(0, consensus.NilRound, env.block(1))
	env.votes(consensus.Prevote, 0, nilID, 1, 2)
	env.wantNoVote(consensus.Precommit, 0)
	env.votes(consensus.Prevote, 0, nilID, 3)
	env.wantVote(consensus.Precommit, 0, nilID)
}

// Line 47: upon 2f+1 precommits of any kind, schedule the precommit
// timeout; line 65: on it, start the next round.
func TestPaperLine47And65(t *testing.T) {
	env := newPaperEnv(t, 0)
	v := env.block(1)
	env.propose(0, consensus.NilRound, v)
	env.votes(consensus.Precommit, 0, v.ID(), 1)
	env.votes(consensus.Precommit, 0, nilID, 2)
	env.tick(100)
	if env.e.Round() != 0 {
		t.Fatalf("round %d with 2f precommits, want 0", env.e.Round())
	}
	env.votes(consensus.Precommit, 0, nilID, 3)
	env.tick(9)
	if env.e.Round() != 0 {
		t.Fatalf("round %d before the precommit timeout, want 0", env.e.Round())
	}
	env.tick(1)
	if env.e.Round() != 1 || env.e.CurrentStep() != consensus.StepPropose {
		t.Fatalf("round %d step %s after the precommit timeout, want 1 propose", env.e.Round(), env.e.CurrentStep())
	}
}

// Line 49: upon a proposal and 2f+1 precommits for it in any round,
// decide it.
func TestPaperLine49(t *testing.T) {
	check := func(t *testing.T, env *paperEnv, v *consensustest.Block) {
		t.Helper()
		if len(env.decided) != 1 || env.decided[0].Block.ID() != v.ID() {
			t.Fatalf("decided %d blocks, want %s", len(env.decided), idName(v.ID()))
		}
		if err := consensus.VerifyCommit(paperChain, env.vs, 1, v.ID(), env.decided[0].Commit); err != nil {
			t.Fatalf("the decision's commit: %v", err)
		}
		if env.e.Height() != 2 {
			t.Fatalf("height %d after the decision, want 2", env.e.Height())
		}
	}
	t.Run("current round", func(t *testing.T) {
		env := newPaperEnv(t, 0)
		v := env.block(1)
		env.propose(0, consensus.NilRound, v)
		env.votes(consensus.Precommit, 0, v.ID(), 1, 2)
		if len(env.decided) != 0 {
			t.Fatal("decided on 2f precommits")
		}
		env.votes(consensus.Precommit, 0, v.ID(), 3)
		check(t, env, v)
	})
	t.Run("earlier round", func(t *testing.T) {
		env := newPaperEnv(t, 0)
		v := env.block(1)
		env.propose(0, consensus.NilRound, v)
		env.votes(consensus.Prevote, 2, nilID, 1, 2) // to round 2
		if env.e.Round() != 2 {
			t.Fatalf("round %d, want 2", env.e.Round())
		}
		env.votes(consensus.Precommit, 0, v.ID(), 1, 2, 3)
		check(t, env, v)
	})
	t.Run("without the proposal: no decision", func(t *testing.T) {
		env := newPaperEnv(t, 0)
		v := env.block(1)
		env.votes(consensus.Precommit, 0, v.ID(), 1, 2, 3)
		if len(env.decided) != 0 {
			t.Fatal("decided a block it never saw")
		}
		env.propose(0, consensus.NilRound, v)
		check(t, env, v)
	})
}

// Line 55: upon f+1 messages of a round above the current one, start that
// round.
func TestPaperLine55(t *testing.T) {
	env := newPaperEnv(t, 0)
	env.votes(consensus.Prevote, 5, nilID, 1)
	if env.e.Round() != 0 {
		t.Fatalf("round %d after f messages of round 5, want 0", env.e.Round())
	}
	env.votes(consensus.Precommit, 5, nilID, 2)
	if env.e.Round() != 5 {
		t.Fatalf("round %d after f+1 messages of round 5, want 5", env.e.Round())
	}
}

// Line 57: on the propose timeout in step propose, prevote nil.
func TestPaperTimeoutPropose57(t *testing.T) {
	env := newPaperEnv(t, 0)
	env.tick(29)
	env.wantNoVote(consensus.Prevote, 0)
	env.tick(1)
	env.wantVote(consensus.Prevote, 0, nilID)
}

// Timeouts grow with the round: Base + r*Delta.
func TestPaperTimeoutsGrowWithRound(t *testing.T) {
	env := newPaperEnv(t, 0)
	env.votes(consensus.Prevote, 2, nilID, 1)
	env.votes(consensus.Precommit, 2, nilID, 2)
	if env.e.Round() != 2 {
		t.Fatalf("round %d, want 2", env.e.Round())
	}
	env.tick(49)
	env.wantNoVote(consensus.Prevote, 2)
	env.tick(1) // 30 + 2*10
	env.wantVote(consensus.Prevote, 2, nilID)
	env.votes(consensus.Prevote, 2, env.block(1).ID(), 3) // 2f+1 of any kind
	env.tick(29)
	env.wantNoVote(consensus.Precommit, 2)
	env.tick(1) // 10 + 2*10
	env.wantVote(consensus.Precommit, 2, nilID)
}

// Lines 14-18: a proposer with a valid value proposes it again, with
// POLRound = validRound.
func TestPaperProposerReproposesValidValue(t *testing.T) {
	env := newPaperEnv(t, 2) // the proposer of round 1
	v := env.block(1)
	env.propose(0, consensus.NilRound, v)
	env.votes(consensus.Prevote, 0, v.ID(), 1, 3)
	env.wantVote(consensus.Precommit, 0, v.ID())
	env.votes(consensus.Precommit, 0, nilID, 0, 1)
	env.tick(10)
	if env.e.Round() != 1 {
		t.Fatalf("round %d, want 1", env.e.Round())
	}
	var p *consensustest.Proposal
	for _, m := range env.out {
		if m.Proposal != nil && m.Proposal.Round == 1 {
			p = m.Proposal
		}
	}
	if p == nil {
		t.Fatal("no proposal in round 1")
	}
	if p.Block.ID() != v.ID() || p.POLRound != 0 {
		t.Fatalf("proposed %s with POL round %d, want %s with 0", idName(p.Block.ID()), p.POLRound, idName(v.ID()))
	}
	env.wantVote(consensus.Prevote, 1, v.ID())
}

// A Decided message with a valid commit decides the height; one whose
// commit lacks two thirds or carries a bad signature is refused.
func TestPaperDecidedMessage(t *testing.T) {
	t.Run("valid commit", func(t *testing.T) {
		env := newPaperEnv(t, 0)
		v := env.block(1)
		c := consensustest.MakeCommit(paperChain, env.signers[1:], 1, 3, v.ID())
		env.mustStep(consensustest.Message{From: env.signers[1].Address(), Decided: &consensustest.Decided{Block: v, Commit: c}})
		if len(env.decided) != 1 || env.decided[0].Block.ID() != v.ID() || env.app.Height() != 1 {
			t.Fatalf("decided %d blocks", len(env.decided))
		}
	})
	bad := map[string]func(env *paperEnv, v *consensustest.Block) *consensus.Commit{
		"two signatures": func(env *paperEnv, v *consensustest.Block) *consensus.Commit {
			return consensustest.MakeCommit(paperChain, env.signers[1:3], 1, 0, v.ID())
		},
		"bad signature": func(env *paperEnv, v *consensustest.Block) *consensus.Commit {
			c := consensustest.MakeCommit(paperChain, env.signers[1:], 1, 0, v.ID())
			c.Signatures[0].Signature = consensustest.MakeCommit(paperChain, env.signers[1:2], 1, 1, v.ID()).Signatures[0].Signature
			return c
		},
		"another block": func(env *paperEnv, v *consensustest.Block) *consensus.Commit {
			return consensustest.MakeCommit(paperChain, env.signers[1:], 1, 0, env.block(2).ID())
		},
	}
	for name, commit := range bad {
		t.Run(name, func(t *testing.T) {
			env := newPaperEnv(t, 0)
			v := env.block(1)
			err := env.step(consensustest.Message{From: env.signers[1].Address(), Decided: &consensustest.Decided{Block: v, Commit: commit(env, v)}})
			if !errors.Is(err, consensus.ErrInvalidMessage) {
				t.Fatalf("step: %v, want ErrInvalidMessage", err)
			}
			if len(env.decided) != 0 || env.e.Height() != 1 {
				t.Fatal("decided on a bad commit")
			}
		})
	}
	t.Run("invalid block", func(t *testing.T) {
		env := newPaperEnv(t, 0)
		v := consensustest.MarkInvalid(env.block(1))
		c := consensustest.MakeCommit(paperChain, env.signers[1:], 1, 0, v.ID())
		if err := env.step(consensustest.Message{Decided: &consensustest.Decided{Block: v, Commit: c}}); err == nil || len(env.decided) != 0 {
			t.Fatalf("step: %v, decided %d: want a refusal", err, len(env.decided))
		}
	})
}

// A validator that votes twice for different blocks in one round is
// reported with verifiable evidence.
func TestPaperEvidence(t *testing.T) {
	env := newPaperEnv(t, 0)
	v := env.block(1)
	env.votes(consensus.Prevote, 0, v.ID(), 1)
	env.votes(consensus.Prevote, 0, nilID, 1)
	env.votes(consensus.Prevote, 0, nilID, 1) // a duplicate of the second: no new evidence
	if len(env.evidence) != 1 {
		t.Fatalf("%d pieces of evidence, want 1", len(env.evidence))
	}
	ev := env.evidence[0]
	if err := ev.Verify(paperChain, env.vs); err != nil {
		t.Fatalf("evidence does not verify: %v", err)
	}
	if ev.A.Validator != env.signers[1].Address() {
		t.Fatal("evidence names the wrong validator")
	}
}

// An engine restarted with its signed messages (Config.Signed) refuses to
// sign a vote conflicting with one it signed before the restart.
func TestPaperRestartRefusesConflictingVote(t *testing.T) {
	env := newPaperEnv(t, 0)
	env.tick(30) // propose timeout: prevote nil
	env.wantVote(consensus.Prevote, 0, nilID)

	cfg := paperConfig(env.signers[0], env.app)
	cfg.Signed = env.persist
	e, err := consensus.New[*consensustest.Block](cfg)
	if err != nil {
		t.Fatal(err)
	}
	env.e, env.out, env.persist = e, nil, nil
	env.drain()
	v := env.block(1)
	env.propose(0, consensus.NilRound, v)
	env.votes(consensus.Prevote, 0, v.ID(), 1, 2)
	for _, m := range append(env.out, env.persist...) {
		if m.Vote != nil && m.Vote.Type == consensus.Prevote && m.Vote.Round == 0 && m.Vote.BlockID == v.ID() {
			t.Fatal("the restarted engine signed a prevote conflicting with its logged nil prevote")
		}
	}
	// Without the log the same engine would have voted for v.
	fresh := newPaperEnv(t, 0)
	fresh.propose(0, consensus.NilRound, v)
	fresh.wantVote(consensus.Prevote, 0, v.ID())
}
