package p2p_test

// Security review R3 (state sync): the snapshot server's serving slots.

import (
	"context"
	"testing"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/idmesh/idmesh/node/p2p"
)

// attacker starts a bare libp2p host (a fresh peer ID) connected to
// server.
func attacker(t *testing.T, server testNode) (interface {
	NewStream(context.Context, peer.ID, ...protocol.ID) (network.Stream, error)
}, peer.ID) {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableMetrics())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	a, err := ma.NewMultiaddr(server.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	ai, err := peer.AddrInfoFromP2pAddr(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Connect(t.Context(), *ai); err != nil {
		t.Fatal(err)
	}
	return h, ai.ID
}

// TestSnapshotSlowPeerHoldsNoSlot (security review R3): the serving
// slots were shared by all peers, taken before the request was read and
// held until the server's RequestTimeout, so one peer that opened four
// snapshot streams and sent one byte on each had every other peer
// answered "busy". A request is now read (within snapRequestRead) before
// a slot is taken, and one peer holds at most snapServesPerPeer: an
// honest peer is served on each of 100 tries while the slow streams are
// open. On the old code the tries were refused once the handlers ran.
func TestSnapshotSlowPeerHoldsNoSlot(t *testing.T) {
	nodes := MustHosts(t, newTestChain(t, validatorKeys...), 2, func(i int, c *p2p.Config) {
		if i == 0 {
			c.Snapshots = newMemSnapshots(t)
			// The 101 requests are about slots, not the per-peer rate: on
			// a fast machine they all fell inside the default burst's 100
			// and the last was refused as too many.
			c.SnapshotBurst = 1000
		}
	})
	server, client := nodes[0], nodes[1]
	if _, err := client.FetchSnapshotChunk(t.Context(), server.ID(), 7, 0); err != nil {
		t.Fatalf("before: %v", err)
	}
	evil, sid := attacker(t, server)
	for range 4 {
		s, err := evil.NewStream(t.Context(), sid, protocol.ID("/idmesh/"+testChainID+"/snapshot/1"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Write([]byte{1}); err != nil { // the version, then nothing
			t.Fatal(err)
		}
		defer s.Reset()
	}
	for i := range 100 {
		if _, err := client.FetchSnapshotChunk(t.Context(), server.ID(), 7, 0); err != nil {
			t.Fatalf("try %d: an honest peer is refused while one peer holds four idle streams: %v (denied %d)", i, err, server.Stats().SnapshotDenied)
		}
	}
}
