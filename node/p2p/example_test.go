package p2p_test

import (
	"crypto/ed25519"
	"fmt"

	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
)

// A consensus message's wire encoding is compact and deterministic, and
// decoding checks its shape.
func ExampleEncodeMessage() {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	v := &consensus.Vote{Type: consensus.Precommit, Height: 12, Round: 0, BlockID: registry.Sum([]byte("block 12")), Validator: registry.AddressOf(key.Public().(ed25519.PublicKey))}
	v.Signature = ed25519.Sign(key, v.SignBytes("idmesh-example"))
	raw, err := p2p.EncodeMessage(p2p.Message{From: v.Validator, Vote: v})
	if err != nil {
		panic(err)
	}
	m, err := p2p.DecodeMessage(raw)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(raw), "bytes:", m.Vote.Type, "at height", m.Height())
	// Output: 175 bytes: precommit at height 12
}
