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
