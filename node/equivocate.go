//go:build equivocate

package node

import (
	"crypto/ed25519"
	"os"

	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
)

// This file is built only with `-tags equivocate`, by the tests of
// evidence and jailing: never into a release binary, and no runtime flag
// reaches it. With EquivocateKnob set in its environment, a validator
// signs, next to each of its prevotes, a conflicting prevote for a block
// that does not exist, with its raw key (past the watermark), and sends
// both: the equivocation the other validators must turn into evidence.

// EquivocateKnob is the environment variable that turns equivocation on.
const EquivocateKnob = "IDMESH_TEST_EQUIVOCATE"

func init() {
	if os.Getenv(EquivocateKnob) == "" {
		return
	}
	equivocate = func(c *Consensus, m p2p.Message) (p2p.Message, bool) {
		v := m.Vote
		if c.Key == nil || v == nil || v.Type != consensus.Prevote || v.Validator != registry.AddressOf(c.Key.Public().(ed25519.PublicKey)) {
			return p2p.Message{}, false
		}
		x := *v
		x.BlockID = registry.Sum(append([]byte("equivocate\x00"), v.BlockID[:]...))
		x.Signature = ed25519.Sign(c.Key, x.SignBytes(c.Chain.State().ChainID))
		out := m
		out.Vote = &x
		return out, true
	}
}
