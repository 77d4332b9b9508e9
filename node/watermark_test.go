package node_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/node/privval"
	"github.com/idmesh/idmesh/node/wal"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// TestConsensusSavesWatermark: the validator's watermark is on disk by
// the time its block is committed, at its last precommit.
func TestConsensusSavesWatermark(t *testing.T) {
	tn := mustNet(t, registrytest.ToyMachine())
	chain := tn.mustChain(t)
	pv, state := mustOpenSigner(t, tn, chain)
	if _, err := os.Stat(state); err != nil {
		t.Fatalf("OpenSigner did not create the state file: %v", err)
	}
	tn.signer = pv
	n := mustNode(t, chain, node.Options{})
	mustSubmit(t, n, toyTx("set a 1"))
	changed := n.Changed()
	r := mustStart(t, n, tn, newClock(genesisTime.Add(time.Hour)).Now)
	mustRecv(t, changed, "block 1")
	r.nextRound()
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	got, err := privval.OpenSigner(tn.key, state)
	if err != nil {
		t.Fatal(err)
	}
	c1, _ := n.Commit(1)
	if w := got.Last(); w.Height != 1 || w.Round != 0 || w.Step != privval.StepPrecommit || w.SignBytesHash != registry.Sum(consensus.VoteSignBytes(chainID, 1, 0, c1.BlockID)) {
		t.Fatalf("saved watermark %+v, want block 1's precommit", w)
	}
}

// TestConsensusRefusesBelowWatermark: a validator whose log was lost but
// whose watermark says it signed at the height it is deciding stops with
// ErrDoubleSign rather than sign something conflicting, and logs or sends
// nothing.
func TestConsensusRefusesBelowWatermark(t *testing.T) {
	tn := mustNet(t, registrytest.ToyMachine())
	chain := tn.mustChain(t)
	pv, _ := mustOpenSigner(t, tn, chain)
	// Before the log was lost, it prevoted another block at height 1.
	if _, err := pv.Sign(consensus.PrevoteSignBytes(chainID, 1, 0, registry.Sum([]byte("another block")))); err != nil {
		t.Fatal(err)
	}
	if err := pv.Save(); err != nil {
		t.Fatal(err)
	}
	tn.signer = pv
	n := mustNode(t, chain, node.Options{})
	mustSubmit(t, n, toyTx("set a 1"))
	ctx, cancel := context.WithTimeout(context.Background(), failsafe)
	defer cancel()
	c := &node.Consensus{Chain: chain, Mempool: n.Mempool, Signer: pv, WALPath: tn.walPath, Ticks: make(chan time.Time), Now: newClock(genesisTime.Add(time.Hour)).Now}
	err := c.Run(ctx)
	if !errors.Is(err, privval.ErrDoubleSign) {
		t.Fatalf("Run = %v, want ErrDoubleSign", err)
	}
	if chain.State().Height != 0 {
		t.Fatal("a block was committed")
	}
	log, signed, err := wal.Open[p2p.Message](tn.walPath, 1)
	if err != nil {
		t.Fatal(err)
	}
	log.Close()
	if len(signed) != 0 {
		t.Fatalf("the log holds %d messages signed after the refusal", len(signed))
	}
}

// TestConsensusWatermarkBehindLog: a crash after the log and before the
// watermark was saved leaves the watermark behind the log; the restart
// raises it from the log and resumes, committing what was signed.
func TestConsensusWatermarkBehindLog(t *testing.T) {
	tn := mustNet(t, registrytest.ToyMachine())
	chain := tn.mustChain(t)
	rd := signAndLog(t, tn, chain)
	pv, _ := mustOpenSigner(t, tn, chain)
	if w := pv.Last(); w.Height != 1 || w.Step != privval.StepPrecommit {
		t.Fatalf("watermark %+v, want the logged precommit at height 1", w)
	}
	tn.signer = pv
	n := mustNode(t, chain, node.Options{})
	changed := n.Changed()
	r := mustStart(t, n, tn, newClock(genesisTime.Add(time.Hour)).Now)
	mustRecv(t, changed, "the recovered block")
	r.nextRound()
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if b := mustBlock(t, n, 1); b.ID() != rd.Decided[0].Block.ID() {
		t.Fatal("block 1 is not the block signed before the crash")
	}
}

// TestOpenSignerRefusesCorruptLog: a validator does not start on a log
// with a bad record in the middle.
func TestOpenSignerRefusesCorruptLog(t *testing.T) {
	tn := mustNet(t, registrytest.ToyMachine())
	chain := tn.mustChain(t)
	log, _, err := wal.Open[p2p.Message](tn.walPath, 1)
	if err != nil {
		t.Fatal(err)
	}
	v := p2p.Message{Vote: &consensus.Vote{Type: consensus.Prevote, Height: 1, BlockID: registry.Sum([]byte{1}), Signature: make([]byte, 64)}}
	if err := log.Append([]p2p.Message{v, v}); err != nil {
		t.Fatal(err)
	}
	log.Close()
	b, _ := os.ReadFile(tn.walPath)
	b[20] ^= 1
	os.WriteFile(tn.walPath, b, 0o600)
	if _, err := node.OpenSigner(tn.key, filepath.Join(t.TempDir(), "state.json"), chain, tn.walPath); !errors.Is(err, wal.ErrCorrupt) {
		t.Fatalf("OpenSigner = %v, want ErrCorrupt", err)
	}
}
