package p2p_test

import (
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
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
		h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableMetrics())
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

// TestReplyTableFullEvicts: with the reply table full (lowered to one
// peer) and the (injected) clock standing still, so that no bucket has
// refilled, a new peer's answer still goes out: it takes the place of the
// least recently used peer, whose answers were all delivered; counted in
// Stats.ReplyEvicted, nothing dropped.
func TestReplyTableFullEvicts(t *testing.T) {
	var clock fakeClock
	nodes := MustHosts(t, newTestChain(t, validatorKeys...), 3, func(i int, c *p2p.Config) {
		if i == 0 {
			c.Now = clock.Now
			p2p.SetMaxReplyPeers(c, 1)
		}
	})
	server, first, second := nodes[0], nodes[1], nodes[2]
	answerStatuses(server, decidedFirst())
	// A Status goes to both peers: first's second after both acknowledged
	// its first.
	for i, client := range []testNode{first, second, first} {
		askStatus(t, client, []uint64{0, 0, 2}[i], 1)
		if got := receiveDecided(t, client.Receive()); got.To != client.NodeAddress() {
			t.Fatalf("answer %d went to %v, want %v", i, got.To, client.NodeAddress())
		}
		// The peer is idle once its sender stopped.
		waitUntil(t, "the answer acknowledged and its sender stopped", func() bool {
			s := server.Stats()
			return s.DirectSent == uint64(i+1) && s.ReplyStreams == 0
		})
	}
	if s := server.Stats(); s.ReplyEvicted != 2 || s.ReplyPeers != 1 || s.ReplyDropped != 0 {
		t.Fatalf("server stats %+v: want 2 evictions, 1 peer with state, nothing dropped", s)
	}
}

// TestReplyStreamTimeoutCuts: a peer that accepts its answers' streams and
// never acknowledges is cut when they time out: the answers in flight and
// those queued behind them are dropped and counted, its reply state and
// its route are gone, and no sender is left running for it.
func TestReplyStreamTimeoutCuts(t *testing.T) {
	const answers = 10 // four in flight, six queued
	nodes := MustHosts(t, newTestChain(t, validatorKeys...), 1, func(_ int, c *p2p.Config) {
		c.RequestTimeout = 2 * time.Second
	})
	server := nodes[0]
	statuses := answerStatuses(server, decidedFirst())

	release := make(chan struct{})
	staller, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableMetrics())
	if err != nil {
		t.Fatal(err)
	}
	proto := protocol.ID("/idmesh/" + testChainID + "/direct/1")
	var accepted atomic.Int64
	staller.SetStreamHandler(proto, func(s network.Stream) {
		accepted.Add(1)
		<-release // acknowledge nothing
		s.Reset()
	})
	t.Cleanup(func() {
		close(release)
		staller.Close()
	})
	ai, err := peer.AddrInfoFromString(server.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := staller.Connect(t.Context(), *ai); err != nil {
		t.Fatal(err)
	}
	raw, err := staller.Peerstore().PubKey(staller.ID()).Raw()
	if err != nil {
		t.Fatal(err)
	}
	// The staller asks, as a node does: Statuses From its node address.
	st, err := p2p.EncodeMessage(p2p.Message{From: registry.AddressOf(raw), Status: &consensus.Status{Height: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for range answers {
		s, err := staller.NewStream(t.Context(), ai.ID, proto)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Write(st); err != nil {
			t.Fatal(err)
		}
		s.CloseWrite()
		var ack [1]byte
		if _, err := io.ReadFull(s, ack[:]); err != nil || ack[0] != 0 {
			t.Fatalf("status acknowledged with %v, %v", ack, err)
		}
		s.Close()
	}
	waitUntil(t, "the staller's statuses answered", func() bool { return statuses.Load() == answers })
	waitUntil(t, "the staller cut", func() bool {
		s := server.Stats()
		return s.ReplyCut == 1 && s.ReplyDropped == answers && s.ReplyPeers == 0 && s.ReplyStreams == 0
	})
	s := server.Stats()
	if s.DirectSent != 0 || s.ReplyDroppedBytes == 0 || s.Routes != 0 || s.Published != 0 {
		t.Fatalf("server stats %+v: want nothing sent, %d answers dropped, no route left", s, answers)
	}
	if n := accepted.Load(); n > 4 {
		t.Fatalf("the staller was offered %d streams at once, want at most 4", n)
	}
}
