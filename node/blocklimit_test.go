package node_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// TestOversizedProposalGetsNilPrevote: a validator that receives a
// proposal whose block exceeds the chain's max_block_bytes prevotes nil,
// through the engine's ordinary invalid-value path; a proposal within the
// limit gets a prevote for its block.
func TestOversizedProposalGetsNilPrevote(t *testing.T) {
	keys := []ed25519.PrivateKey{
		ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize)),
		ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, ed25519.SeedSize)),
	}
	var vals []registry.Validator
	for _, k := range keys {
		vals = append(vals, registry.Validator{PubKey: k.Public().(ed25519.PublicKey), Power: 10})
	}
	openChain := func(maxBytes int) *registry.Chain {
		store, err := leveldb.OpenMemory()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		g := &registry.Genesis{ChainID: chainID, GenesisTime: genesisTime, Validators: vals, MaxBlockBytes: maxBytes}
		c, err := registry.OpenChain(store, g, registrytest.ToyMachine())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	var big []registry.Tx
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		big = append(big, toyTx("set "+k+" "+strings.Repeat("v", 60_000)))
	}
	tests := []struct {
		name    string
		txs     []registry.Tx
		wantNil bool
	}{
		{"over the limit", big, true},
		{"within the limit", big[:4], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The proposer of round 0 runs on a chain that allows 4 MiB
			// (a faulty or differently configured proposer); the other
			// validator's chain allows 256 KiB.
			var prop *p2p.Proposal
			follower := -1
			for i, k := range keys {
				sg := edSigner{k}
				e, err := consensus.New(consensus.Config[*registry.Block]{ChainID: chainID, Height: 1, Signer: sg,
					App: walApp{chain: openChain(0), addr: sg.Address(), txs: tt.txs}})
				if err != nil {
					t.Fatal(err)
				}
				var p *p2p.Proposal
				for _, m := range e.Ready().Persist {
					if m.Proposal != nil {
						p = m.Proposal
					}
				}
				if p == nil {
					follower = i
				} else {
					prop = p
				}
			}
			if prop == nil || follower < 0 {
				t.Fatal("no proposer and follower at round 0")
			}
			if len(prop.Block.Txs) != len(tt.txs) {
				t.Fatalf("the proposal holds %d transactions, want %d", len(prop.Block.Txs), len(tt.txs))
			}
			sg := edSigner{keys[follower]}
			e, err := consensus.New(consensus.Config[*registry.Block]{ChainID: chainID, Height: 1, Signer: sg,
				App: walApp{chain: openChain(registry.MinBlockBytes), addr: sg.Address()}})
			if err != nil {
				t.Fatal(err)
			}
			e.Ready()
			if err := e.Step(p2p.Message{From: prop.Proposer, Proposal: prop}); err != nil {
				t.Fatal(err)
			}
			var prevote *consensus.Vote
			for _, m := range e.Ready().Persist {
				if m.Vote != nil && m.Vote.Type == consensus.Prevote {
					prevote = m.Vote
				}
			}
			if prevote == nil {
				t.Fatal("the follower did not prevote on the proposal")
			}
			if got, want := prevote.BlockID.IsZero(), tt.wantNil; got != want {
				t.Fatalf("prevote for %s on a block of %d proposal bytes (limit %d); want nil: %v", prevote.BlockID, registry.ProposalBytes(prop.Block), registry.MinBlockBytes, want)
			}
		})
	}
}

// TestSubmitRefusesTxThatNeverFits: a transaction larger than any block
// of the chain can hold is refused at submission and never queued.
func TestSubmitRefusesTxThatNeverFits(t *testing.T) {
	tn := mustNet(t, registrytest.ToyMachine())
	tn.genesis.MaxBlockBytes = registry.MinBlockBytes
	var gossiped int
	n := mustNode(t, tn.mustChain(t), node.Options{Gossip: func(registry.Tx) { gossiped++ }})
	big := toyTx("set big " + strings.Repeat("v", registry.MaxTxBytesFor(registry.MinBlockBytes)))
	_, err := n.Submit(big)
	if !errors.Is(err, node.ErrRejected) || !errors.Is(err, registry.ErrTxTooLargeForBlock) {
		t.Fatalf("Submit of %d bytes (at most %d fit) = %v", big.Size(), registry.MaxTxBytesFor(registry.MinBlockBytes), err)
	}
	if n.Mempool.Len() != 0 || gossiped != 0 {
		t.Fatalf("the transaction was queued (%d) or gossiped (%d)", n.Mempool.Len(), gossiped)
	}
	if _, err := n.Submit(toyTx("set ok " + strings.Repeat("v", 60_000))); err != nil {
		t.Fatal(err)
	}
}
