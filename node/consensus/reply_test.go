package consensus_test

import (
	"testing"

	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/consensus/consensustest"
)

// countingApp counts the decided blocks the engine reads for peers.
type countingApp struct {
	*consensustest.App
	reads int
}

func (a *countingApp) Decided(h uint64) (*consensustest.Block, *consensus.Commit, bool) {
	a.reads++
	return a.App.Decided(h)
}

// A peer that names every old height in Status messages gets at most
// maxRepliesPerPeer (8) decided blocks per rebroadcast period, and the
// engine reads no more blocks than it answers with; another peer still
// gets its answer in the same period.
func TestHelpFloodBounded(t *testing.T) {
	s := consensustest.New(consensustest.Config{Seed: 1, Powers: consensustest.Powers(4, false), MaxDelay: 1, TargetHeight: 30})
	s.Run()
	n := s.Nodes()[0]
	if n.App.Height() < 30 {
		t.Fatalf("chain at %d", n.App.Height())
	}
	app := &countingApp{App: n.App}
	last, commit := n.App.Last()
	e, err := consensus.New[*consensustest.Block](consensustest.EngineConfig{ChainID: "sim", Height: last.Header.Height + 1, LastCommit: commit,
		App: app, ID: consensus.Address{9}, RebroadcastTicks: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	flooder, other := consensus.Address{1}, consensus.Address{2}
	for h := uint64(1); h <= 30; h++ {
		_ = e.Step(consensustest.Message{From: flooder, Status: &consensus.Status{Height: h}})
	}
	_ = e.Step(consensustest.Message{From: other, Status: &consensus.Status{Height: 3}})
	answers := map[consensus.Address]int{}
	for _, m := range e.Ready().Messages {
		if m.Decided != nil {
			answers[m.To]++
		}
	}
	if answers[flooder] != 8 || answers[other] != 1 || app.reads != 9 {
		t.Fatalf("answers %v, block reads %d; want 8 to the flooder, 1 to the other, 9 reads", answers, app.reads)
	}
}

// decidedTo counts the decided blocks in msgs addressed to each peer.
func decidedTo(msgs []consensustest.Message) map[consensus.Address]int {
	n := map[consensus.Address]int{}
	for _, m := range msgs {
		if m.Decided != nil {
			n[m.To]++
		}
	}
	return n
}

// Only a peer that stays behind gets a decided block: not for a late
// vote or decided block (its sender decides from the gossip a moment
// later, or says it is behind in its Status), nor for the first Status
// of a peer one height behind and moving; but at once for a stuck peer
// or one two heights behind, and for the second Status that names the
// same height. Under load, answering every late vote sent a block a
// height to each of the slowest validators, all of them copies.
func TestHelpOnlyPeersThatStayBehind(t *testing.T) {
	e, last, commit := oneBehindEngine(t)
	top := last.Header.Height // the engine decides top+1; peers at top are one behind
	late, moving, stuck, far, sender := consensus.Address{1}, consensus.Address{2}, consensus.Address{3}, consensus.Address{4}, consensus.Address{5}
	steps := []struct {
		name string
		m    consensustest.Message
		want int // decided blocks sent to m.From
	}{
		{"late vote", consensustest.Message{From: late, Vote: &consensus.Vote{Type: consensus.Precommit, Height: top, Validator: late, Signature: make([]byte, 64)}}, 0},
		{"late decided block", consensustest.Message{From: sender, Decided: &consensustest.Decided{Block: last, Commit: commit}}, 0},
		{"first Status one behind", consensustest.Message{From: moving, Status: &consensus.Status{Height: top}}, 0},
		{"second Status one behind", consensustest.Message{From: moving, Status: &consensus.Status{Height: top}}, 1},
		{"stuck", consensustest.Message{From: stuck, Status: &consensus.Status{Height: top, Stuck: true}}, 1},
		{"two behind", consensustest.Message{From: far, Status: &consensus.Status{Height: top - 1}}, 1},
	}
	for _, st := range steps {
		before := len(e.Ready().Messages)
		if err := e.Step(st.m); err != nil {
			t.Logf("%s: %v", st.name, err)
		}
		if got := decidedTo(e.Ready().Messages[before:])[st.m.From]; got != st.want {
			t.Errorf("%s: %d decided blocks sent, want %d", st.name, got, st.want)
		}
	}
}

// A peer at this height that lacks the round's proposal gets it in the
// answer to its Status only once this node has held it for a rebroadcast
// period (before that, the gossip is most likely still bringing it), or
// at once if it says it is stuck; votes it lacks go at once either way.
func TestProposalAnsweredAfterAPeriod(t *testing.T) {
	const period = 20
	vs, signers := consensustest.NewValidators(7, []int64{10, 10, 10, 10})
	app := consensustest.NewApp(consensustest.AppConfig{ChainID: paperChain, Validators: func(uint64) *consensus.ValidatorSet { return vs }, Self: signers[0].Address()})
	cfg := paperConfig(signers[0], app)
	cfg.RebroadcastTicks = period
	e, err := consensus.New[*consensustest.Block](cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []consensustest.Message
	drain := func() {
		for e.HasReady() {
			out = append(out, e.Ready().Messages...)
			if err := e.Advance(); err != nil {
				t.Fatal(err)
			}
		}
	}
	drain()
	// Round 0's proposer is validator 1; validator 2 prevotes for it.
	bapp := consensustest.NewApp(consensustest.AppConfig{ChainID: paperChain, Validators: func(uint64) *consensus.ValidatorSet { return vs }, Self: signers[1].Address()})
	b, err := bapp.ProposeBlock(1, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []consensustest.Message{
		{From: signers[1].Address(), Proposal: consensustest.SignProposal(signers[1], paperChain, 1, 0, consensus.NilRound, b)},
		{From: signers[2].Address(), Vote: consensustest.SignVote(signers[2], paperChain, consensus.Prevote, 1, 0, b.ID())},
	} {
		if err := e.Step(m); err != nil {
			t.Fatal(err)
		}
		drain()
	}
	// answered returns what the engine sent peer in answer to st.
	answered := func(peer consensus.Address, st consensus.Status) (proposals, votes int) {
		before := len(out)
		if err := e.Step(consensustest.Message{From: peer, Status: &st}); err != nil {
			t.Fatal(err)
		}
		drain()
		for _, m := range out[before:] {
			if m.To != peer {
				continue
			}
			if m.Proposal != nil {
				proposals++
			}
			if m.Vote != nil {
				votes++
			}
		}
		return proposals, votes
	}
	lacking := consensus.Status{Height: 1, Has: [2]consensus.RoundHas{{}, {Prevotes: []byte{0}, Precommits: []byte{0}}}}
	if p, v := answered(signers[3].Address(), lacking); p != 0 || v == 0 {
		t.Errorf("a moving peer, proposal just held: %d proposals and %d votes sent, want 0 and some", p, v)
	}
	stuck := lacking
	stuck.Stuck = true
	if p, _ := answered(consensus.Address{7}, stuck); p != 1 {
		t.Errorf("a stuck peer: %d proposals sent, want 1", p)
	}
	for range period - 1 {
		e.Tick()
		drain()
	}
	if p, _ := answered(consensus.Address{8}, lacking); p != 0 {
		t.Errorf("a moving peer, proposal held a period less one tick: %d proposals sent, want 0", p)
	}
	e.Tick()
	drain()
	if p, _ := answered(signers[3].Address(), lacking); p != 1 {
		t.Errorf("a moving peer, proposal held a period: %d proposals sent, want 1", p)
	}
}
