package p2p_test

import (
	"bytes"
	"testing"

	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
)

// TestMessageCarriesTheBlockAsItIs: a proposal or decided message sends
// its block's current encoding, whether the block was built, decoded
// from a peer's bytes (whose bytes it reuses) or decoded and then given
// another header: never bytes the block no longer has.
func TestMessageCarriesTheBlockAsItIs(t *testing.T) {
	k := keyOf(1)
	built, commit := firstBlock(k)
	for _, tc := range []struct {
		name  string
		block func(t *testing.T) *registry.Block
	}{
		{"built", func(*testing.T) *registry.Block { return built }},
		{"decoded", func(t *testing.T) *registry.Block { return decoded(t, built) }},
		{"decoded then changed", func(t *testing.T) *registry.Block {
			b := decoded(t, built)
			b.Header.Time = b.Header.Time.Add(1)
			return b
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.block(t)
			for _, m := range []p2p.Message{
				{From: addrOf(k), Proposal: &p2p.Proposal{Height: 1, POLRound: -1, Block: b, Proposer: addrOf(k), Signature: bytes.Repeat([]byte{1}, 64)}},
				{From: addrOf(k), Decided: &p2p.Decided{Block: b, Commit: commit}},
			} {
				raw, err := p2p.EncodeMessage(m)
				if err != nil {
					t.Fatal(err)
				}
				got, err := p2p.DecodeMessage(raw)
				if err != nil {
					t.Fatal(err)
				}
				var sent *registry.Block
				if got.Proposal != nil {
					sent = got.Proposal.Block
				} else {
					sent = got.Decided.Block
				}
				if !bytes.Equal(sent.Encode(), b.Encode()) {
					t.Fatal("the message carries other bytes than the block's encoding")
				}
			}
		})
	}
}

func decoded(t *testing.T, b *registry.Block) *registry.Block {
	t.Helper()
	d, err := registry.DecodeBlock(b.Encode())
	if err != nil {
		t.Fatal(err)
	}
	return d
}
