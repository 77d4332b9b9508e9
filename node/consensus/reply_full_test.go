package consensus_test

import (
	"encoding/binary"
	"testing"

	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/consensus/consensustest"
)

// oneBehindEngine returns an engine one height above a decided chain of
// 30 heights, and that chain's last block and commit.
func oneBehindEngine(t *testing.T) (*consensus.Engine[*consensustest.Block], *consensustest.Block, *consensus.Commit) {
	t.Helper()
	s := consensustest.New(consensustest.Config{Seed: 1, Powers: consensustest.Powers(4, false), MaxDelay: 1, TargetHeight: 30})
	s.Run()
	n := s.Nodes()[0]
	last, commit := n.App.Last()
	if last.Header.Height < 30 {
		t.Fatalf("chain at %d", last.Header.Height)
	}
	e, err := consensus.New[*consensustest.Block](consensustest.EngineConfig{ChainID: "sim", Height: last.Header.Height + 1, LastCommit: commit,
		App: n.App, ID: consensus.Address{9}, RebroadcastTicks: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	return e, last, commit
}

// Peers with fresh network keys (free: a Status is bound to the
// connection's key, not to a validator) that each send one Status one
// height behind fill lagging (10,000) without spending any reply budget;
// an honest peer one height behind that comes after them, and is not
// stuck, must still be answered at its second Status, not never at this
// height.
func TestHelpPeerAfterLaggingIsFull(t *testing.T) {
	e, last, _ := oneBehindEngine(t)
	top := last.Header.Height
	for i := range 10_000 {
		var a consensus.Address
		binary.BigEndian.PutUint32(a[:4], uint32(i+1000))
		_ = e.Step(consensustest.Message{From: a, Status: &consensus.Status{Height: top}})
	}
	honest := consensus.Address{1}
	before := len(e.Ready().Messages)
	for range 5 {
		_ = e.Step(consensustest.Message{From: honest, Status: &consensus.Status{Height: top}})
	}
	if got := decidedTo(e.Ready().Messages[before:])[honest]; got == 0 {
		t.Errorf("a peer one behind, 5 Statuses after 10,000 others': %d decided blocks, want 1", got)
	}
}

// lagging holds the peers of the current height only: 10,000 peers one
// height behind at height 2 are forgotten when the engine decides it, so
// at height 3 a new peer one behind waits for its second Status (a map
// never emptied would stay full and answer everyone at once, as before
// lagging existed).
func TestLaggingClearedEachHeight(t *testing.T) {
	env := newPaperEnv(t, 0)
	b1 := env.block(1)
	c1 := consensustest.MakeCommit(paperChain, env.signers[1:], 1, 0, b1.ID())
	env.mustStep(consensustest.Message{From: env.signers[1].Address(), Decided: &consensustest.Decided{Block: b1, Commit: c1}})
	for i := range 10_000 {
		var a consensus.Address
		binary.BigEndian.PutUint32(a[:4], uint32(i+1000))
		_ = env.step(consensustest.Message{From: a, Status: &consensus.Status{Height: 1}})
	}
	proposer := consensustest.NewApp(consensustest.AppConfig{ChainID: paperChain, Validators: env.validators, Self: env.signers[1].Address()})
	if err := proposer.Commit(consensustest.Decided{Block: b1, Commit: c1}); err != nil {
		t.Fatal(err)
	}
	b2, err := proposer.ProposeBlock(2, 0, c1)
	if err != nil {
		t.Fatal(err)
	}
	c2 := consensustest.MakeCommit(paperChain, env.signers[1:], 2, 0, b2.ID())
	env.mustStep(consensustest.Message{From: env.signers[1].Address(), Decided: &consensustest.Decided{Block: b2, Commit: c2}})
	if env.e.Height() != 3 {
		t.Fatalf("engine at height %d, want 3", env.e.Height())
	}
	late := consensus.Address{1}
	before := len(env.out)
	_ = env.step(consensustest.Message{From: late, Status: &consensus.Status{Height: 2}})
	if got := decidedTo(env.out[before:])[late]; got != 0 {
		t.Errorf("a peer one behind, first Status at the next height: %d decided blocks, want 0", got)
	}
	_ = env.step(consensustest.Message{From: late, Status: &consensus.Status{Height: 2}})
	if got := decidedTo(env.out[before:])[late]; got != 1 {
		t.Errorf("the same peer's second Status: %d decided blocks, want 1", got)
	}
}
