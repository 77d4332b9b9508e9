package consensus_test

import (
	"encoding/binary"
	"testing"

	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/consensus/consensustest"
)

// oneBehindEngine returns an engine one height above a decided chain of
// 30 heights, and that top height.
func oneBehindEngine(t *testing.T) (*consensus.Engine[*consensustest.Block], uint64) {
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
	return e, last.Header.Height
}

// Peers with fresh network keys (free: a Status is bound to the
// connection's key, not to a validator) that each send one Status one
// height behind fill lagging (10,000) without spending any reply budget;
// an honest peer one height behind that comes after them, and is not
// stuck, must still be answered at its second Status, not never at this
// height.
func TestHelpPeerAfterLaggingIsFull(t *testing.T) {
	e, top := oneBehindEngine(t)
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
