package p2p_test

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/idmesh/idmesh/node/p2p"
)

// TestLinkLostWhileConnected: when a host's gossipsub stream to a peer
// dies while the connection stays up, gossipsub opens another but
// forgets the peer's subscriptions, and would never publish to it again
// (linkWatch). The host's link watch finds the connected peer on none of
// its topics, closes the connection and dials the peer again, whether
// the peer is its bootstrap peer or dialed it; then the host's messages
// reach the peer. Two hosts, so no third can relay; host 1 bootstraps
// from host 0 but would redial it only in an hour, so the dial that
// mends the link is the watch's.
func TestLinkLostWhileConnected(t *testing.T) {
	for _, tc := range []struct {
		name        string
		lost, other int // the host whose stream dies, and its peer
	}{
		{"bootstrap peer", 1, 0},
		{"peer that dialed", 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chain := newTestChain(t, validatorKeys...)
			nodes := MustHosts(t, chain, 2, func(i int, c *p2p.Config) {
				c.LinkCheckInterval = 100 * time.Millisecond
				c.RedialInterval = time.Hour
			})
			a, b := nodes[tc.lost], nodes[tc.other]
			if n, err := a.ResetGossipStreams(b.ID()); err != nil || n != 1 {
				t.Fatalf("reset %d streams: %v", n, err)
			}
			deadline := time.Now().Add(failsafe)
			for a.Stats().GossipRelinks == 0 || !a.Linked(b.ID()) || !b.Linked(a.ID()) {
				if time.Now().After(deadline) {
					t.Fatalf("the link was not mended: %d relinks; the host's topic peers %v", a.Stats().GossipRelinks, a.TopicPeers())
				}
				time.Sleep(time.Millisecond)
			}
			vote := signedVote(a.key, 5, 0)
			a.Send(vote)
			if got := mustReceive(t, b.Receive()); got.Vote == nil || !bytes.Equal(got.Vote.Signature, vote.Vote.Signature) {
				t.Fatalf("the peer received %+v", got)
			}
		})
	}
}

// TestLinkWatchLeavesOthersAlone: peers on none of a host's topics that
// are not of its chain are never cut: a plain libp2p host, and an idmesh
// host of another chain (which speaks the same gossip protocol on other
// topics) that bootstraps from it. After enough checks for a cut, both
// are still connected and nothing was cut.
func TestLinkWatchLeavesOthersAlone(t *testing.T) {
	const interval = 20 * time.Millisecond
	chain := newTestChain(t, validatorKeys...)
	a := MustHosts(t, chain, 1, func(i int, c *p2p.Config) { c.LinkCheckInterval = interval })[0]

	plain, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay(), libp2p.DisableMetrics())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plain.Close() })
	pi, err := peer.AddrInfoFromString(a.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.Connect(t.Context(), *pi); err != nil {
		t.Fatal(err)
	}
	other, err := p2p.New(t.Context(), p2p.Config{ChainID: "another-chain", Chain: chain, Bootstrap: a.Addrs(),
		ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, LinkCheckInterval: interval})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	waitUntil(t, "both connected", func() bool {
		ps := a.Peers()
		return slices.Contains(ps, plain.ID().String()) && slices.Contains(ps, other.ID())
	})
	// Judged once connected for an interval, cut at the second miss: five
	// checks leave room for both.
	checks := a.LinkChecks()
	waitUntil(t, "five link checks", func() bool { return a.LinkChecks() >= checks+5 && other.LinkChecks() >= 5 })
	ps := a.Peers()
	if s := a.Stats(); s.GossipRelinks != 0 || other.Stats().GossipRelinks != 0 || len(ps) != 2 {
		t.Fatalf("%d and %d relinks; peers %v", s.GossipRelinks, other.Stats().GossipRelinks, ps)
	}
}
