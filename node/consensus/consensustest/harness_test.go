package consensustest_test

import (
	"errors"
	"testing"

	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/consensus/consensustest"
)

func TestAppValidatesLinks(t *testing.T) {
	vs, signers := consensustest.NewValidators(1, []int64{1, 1, 1, 1})
	vals := func(uint64) *consensus.ValidatorSet { return vs }
	app := consensustest.NewApp(consensustest.AppConfig{ChainID: "c", Validators: vals, Self: signers[0].Address()})
	b1, err := app.ProposeBlock(1, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.ValidateBlock(b1); err != nil {
		t.Fatalf("own block: %v", err)
	}
	if err := app.ValidateBlock(consensustest.MarkInvalid(b1)); !errors.Is(err, consensustest.ErrRejected) {
		t.Fatalf("marked block: %v, want ErrRejected", err)
	}
	if err := app.Commit(consensustest.Decided{Block: b1, Commit: consensustest.MakeCommit("c", signers[:2], 1, 0, b1.ID())}); err == nil {
		t.Fatal("committed with 2 of 4 signatures")
	}
	c1 := consensustest.MakeCommit("c", signers[1:], 1, 0, b1.ID())
	if err := app.Commit(consensustest.Decided{Block: b1, Commit: c1}); err != nil {
		t.Fatal(err)
	}
	b2, err := app.ProposeBlock(2, 0, c1)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.ValidateBlock(b2); err != nil {
		t.Fatalf("height 2: %v", err)
	}
	if !b2.Header.Time.After(b1.Header.Time) {
		t.Fatal("block time does not increase")
	}
	// A block on another parent, or with a commit that does not verify,
	// is rejected.
	other := *b2
	other.Header.LastBlockID = consensus.Sum([]byte("x"))
	if err := app.ValidateBlock(&other); err == nil {
		t.Fatal("accepted a block on another parent")
	}
	weak := consensustest.MakeCommit("c", signers[1:3], 1, 0, b1.ID())
	b2w, _ := app.ProposeBlock(2, 0, weak)
	if err := app.ValidateBlock(b2w); err == nil {
		t.Fatal("accepted a last commit without two thirds")
	}
}

// Each strategy on one of four validators, on a reliable network: safe
// and live.
func TestStrategiesStaySafeWithinF(t *testing.T) {
	for i, s := range consensustest.Strategies() {
		cfg := consensustest.Config{Seed: uint64(100 + i), Powers: consensustest.Powers(4, false), MaxDelay: 4, TargetHeight: 3,
			Byzantine: map[int]consensustest.Strategy{i % 4: s}}
		sim := consensustest.New(cfg)
		sim.Run()
		if rep := sim.Check(true); len(rep.Violations) > 0 {
			t.Errorf("%s: %s", s.Name(), rep)
		}
	}
}

func TestEquivocationProducesEvidence(t *testing.T) {
	cfg := consensustest.Config{Seed: 5, Powers: consensustest.Powers(4, false), MaxDelay: 2, TargetHeight: 3, Relay: true,
		Byzantine: map[int]consensustest.Strategy{2: consensustest.EquivocatingVoter()}}
	sim := consensustest.New(cfg)
	sim.Run()
	ev := sim.Evidence()
	if len(ev) == 0 {
		t.Fatal("no evidence of an equivocating voter whose votes are relayed")
	}
	vs := sim.Validators(1)
	for _, e := range ev {
		if err := e.Verify("sim", vs); err != nil {
			t.Fatal(err)
		}
		if e.A.Validator != sim.Nodes()[2].Signer.Address() {
			t.Fatal("evidence against an honest node")
		}
	}
}
