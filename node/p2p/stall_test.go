package p2p_test

import (
	"context"
	"testing"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/p2p"
)

// TestStatusPastStallingPeers: 40 peers that accept the direct stream of
// a Status and never acknowledge it (more than the old shared pool of 32
// sends) do not keep the node's Status from an honest peer: each stalling
// peer holds only its own send.
func TestStatusPastStallingPeers(t *testing.T) {
	nodes := MustHosts(t, newTestChain(t, validatorKeys...), 2, nil)
	server, honest := nodes[0], nodes[1]
	ai, err := peer.AddrInfoFromString(server.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	proto := protocol.ID("/idmesh/" + testChainID + "/direct/1")
	var stallers []host.Host
	for range 40 {
		h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
		if err != nil {
			t.Fatal(err)
		}
		stallers = append(stallers, h)
		h.SetStreamHandler(proto, func(s network.Stream) {
			<-release // read nothing, acknowledge nothing
			s.Reset()
		})
		ctx, cancel := context.WithTimeout(t.Context(), failsafe)
		err = h.Connect(ctx, *ai)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		close(release)
		for _, h := range stallers {
			h.Close()
		}
	})
	for range 3 {
		sent := server.Stats().StatusSent
		server.Send(p2p.Message{Status: &consensus.Status{Height: 5}})
		for {
			m := mustReceive(t, honest.Receive())
			if m.Status != nil {
				break
			}
		}
		waitUntil(t, "the honest peer's acknowledgement", func() bool { return server.Stats().StatusSent > sent })
	}
}

// TestRoutesLeaveWithPeer: the route learned from a peer's Status (its
// node address → its peer) is dropped when the peer disconnects, so the
// route table does not grow with every peer ever seen.
func TestRoutesLeaveWithPeer(t *testing.T) {
	nodes := MustHosts(t, newTestChain(t, validatorKeys...), 2, nil)
	server, client := nodes[0], nodes[1]
	before := server.Stats().Routes
	client.Send(p2p.Message{Status: &consensus.Status{Height: 1}})
	waitUntil(t, "a route to the client", func() bool { return server.Stats().Routes > before })
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the client's routes dropped", func() bool { return server.Stats().Routes == 0 })
}

// TestAnswersCannotCrowdOutVotes: answers to peers have a queue of their
// own, so a burst of them (far more than the queue holds) does not make
// the node drop its own vote.
func TestAnswersCannotCrowdOutVotes(t *testing.T) {
	nodes := MustHosts(t, newTestChain(t, validatorKeys...), 2, func(_ int, c *p2p.Config) { c.QueueSize = 4 })
	server, peerNode := nodes[0], nodes[1]
	for range 200 {
		server.Send(p2p.Message{To: addrOf(validatorKeys[1]), Vote: signedVote(validatorKeys[0], 3, 0).Vote})
	}
	vote := signedVote(validatorKeys[0], 7, 2)
	server.Send(vote)
	for {
		m := mustReceive(t, peerNode.Receive())
		if m.Vote != nil && m.Vote.Height == 7 {
			break
		}
	}
}
