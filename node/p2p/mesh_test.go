package p2p_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/idmesh/idmesh/node/consensus/consensustest"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

func TestMeshDegreeFor(t *testing.T) {
	for _, tc := range []struct{ validators, want int }{
		{0, 2}, {1, 2}, {3, 2}, {4, 2}, {5, 3}, {6, 3}, {7, 4}, {8, 4}, {9, 5}, {10, 5}, {11, 6}, {16, 6}, {100, 6},
	} {
		if got := p2p.MeshDegreeFor(tc.validators); got != tc.want {
			t.Errorf("MeshDegreeFor(%d) = %d, want %d", tc.validators, got, tc.want)
		}
	}
}

// TestMeshDegrees: a host starts with every mesh degree it takes (the
// parameters each gives pass gossipsub's own checks), and refuses one
// out of range.
func TestMeshDegrees(t *testing.T) {
	chain := newTestChain(t, validatorKeys...)
	for d := p2p.MinMeshDegree; d <= p2p.DefaultMeshDegree; d++ {
		h, err := p2p.New(t.Context(), p2p.Config{ChainID: testChainID, Chain: chain, MeshDegree: d})
		if err != nil {
			t.Fatalf("mesh degree %d: %v", d, err)
		}
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []int{1, p2p.DefaultMeshDegree + 1} {
		if h, err := p2p.New(t.Context(), p2p.Config{ChainID: testChainID, Chain: chain, MeshDegree: d}); err == nil {
			h.Close()
			t.Errorf("mesh degree %d: no error", d)
		}
	}
}

// TestMeshDegreeTwoRelays: with the smallest mesh, a message still
// crosses a network whose publisher is not connected to everyone: four
// hosts in a line, each dialing only the one before it, and a
// transaction published at one end arrives at the other, two hops
// away (through the relays of the middle hosts, whose two peers make
// their whole mesh, or gossipsub's lazy gossip until the mesh forms).
func TestMeshDegreeTwoRelays(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), failsafe)
	defer cancel()
	chain := newTestChain(t, validatorKeys...)
	hosts := make([]*p2p.Host, 4)
	for i := range hosts {
		cfg := p2p.Config{ChainID: testChainID, Chain: chain, MeshDegree: p2p.MinMeshDegree}
		if i > 0 {
			cfg.Bootstrap = hosts[i-1].Addrs()
		}
		h, err := p2p.New(ctx, cfg)
		if err != nil {
			t.Fatalf("host %d: %v", i, err)
		}
		t.Cleanup(func() { h.Close() })
		hosts[i] = h
	}
	for i, h := range hosts {
		want := 2
		if i == 0 || i == len(hosts)-1 {
			want = 1
		}
		if err := h.WaitPeers(ctx, want); err != nil {
			t.Fatalf("host %d: %v", i, err)
		}
	}
	if n := len(hosts[0].Peers()); n != 1 {
		t.Fatalf("the publisher has %d peers, want only its neighbour", n)
	}
	sent := map[registry.Hash]bool{}
	for k := 0; ; k++ {
		// The mesh forms at gossipsub's heartbeats (every second): until
		// then a transaction may reach only the publisher's neighbour.
		tx := registrytest.ToyTx(fmt.Sprintf("set k%d 1", k))
		sent[tx.Hash()] = true
		if err := hosts[0].PublishTx(ctx, tx); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-hosts[3].Txs():
			if !sent[got.Hash()] {
				t.Fatalf("the far end received %x", got.Hash())
			}
			if g := hosts[3].Stats().GossipTxs; g.Received == 0 {
				t.Fatalf("far end: %+v", g)
			}
			return
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("no transaction crossed the line")
		}
	}
}

// TestMeshModel: the scale simulation (docs/scale.md) gives its nodes
// the mesh a host of the same chain runs.
func TestMeshModel(t *testing.T) {
	for n := 1; n <= 120; n++ {
		D, Dlo, Dhi, err := p2p.MeshParams(p2p.MeshDegreeFor(n))
		if err != nil {
			t.Fatal(err)
		}
		g := consensustest.GossipFor(n)
		if g.D != D || g.Dlo != Dlo || g.Dhi != Dhi {
			t.Fatalf("%d validators: the simulation's mesh is D %d (%d to %d), a host's %d (%d to %d)", n, g.D, g.Dlo, g.Dhi, D, Dlo, Dhi)
		}
	}
}
