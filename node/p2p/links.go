package p2p

import (
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// gossipProtocol is the gossipsub protocol ID, our own, so that raising
// the message size bound cannot make us join the public libp2p
// network's meshes.
const gossipProtocol = protocol.ID("/idmesh/meshsub/1.2.0")

// linkStrikes is how many checks in a row must find a connected gossip
// peer missing from a topic before its connection is cut: one miss may
// be a peer whose subscriptions are still on their way.
const linkStrikes = 2

// linkWatch finds gossip links that gossipsub lost while the connection
// stayed up. It is pure: the host gives it what it sees and acts on
// what it returns.
//
// gossipsub (go-libp2p-pubsub v0.19) keeps one outbound stream per peer.
// When that stream dies while another connection to the peer is still
// up (two hosts that dial each other at once, or a dial over TCP and
// QUIC whose loser the dialer closes after the listener accepted it), it
// opens a new stream but first forgets the peer's topic subscriptions,
// and the peer does not send them again: its own stream to us is fine.
// From then on we never publish to the peer, although it is connected
// and subscribed. When opening the stream fails, gossipsub forgets the
// peer altogether and never tells it our subscriptions, so the peer
// never publishes to us either. Both show up as a connected peer that
// speaks our gossip protocol but is missing from one of our topics; the
// cure is to close the connection and dial again, so that both sides
// start over with fresh streams and subscriptions.
type linkWatch struct {
	misses map[peer.ID]int
}

// check takes the connected peers that speak our gossip protocol and,
// for each topic, the peers gossipsub knows to be subscribed. It returns
// the peers missing from some topic for linkStrikes checks in a row, and
// forgets them, as it forgets peers no longer connected or no longer
// missing.
func (w *linkWatch) check(connected []peer.ID, topics ...map[peer.ID]bool) (cut []peer.ID) {
	seen := make(map[peer.ID]int, len(w.misses))
	for _, p := range connected {
		missing := false
		for _, t := range topics {
			if !t[p] {
				missing = true
				break
			}
		}
		if !missing {
			continue
		}
		n := w.misses[p] + 1
		if n >= linkStrikes {
			cut = append(cut, p)
			continue
		}
		seen[p] = n
	}
	w.misses = seen
	return cut
}

// checkLinks runs the link watch once: a peer connected and speaking
// our gossip protocol, but missing from a topic at two checks in a row,
// has its connections closed, and the cut is counted
// (Stats.GossipRelinks). A bootstrap peer is dialed again at once;
// another peer dials again if we are its bootstrap peer. (A node of
// another chain speaks the same gossip protocol on other topics: it is
// cut too, and not dialed back.)
func (h *Host) checkLinks(w *linkWatch) {
	var connected []peer.ID
	for _, p := range h.host.Network().Peers() {
		if ok, err := h.host.Peerstore().SupportsProtocols(p, gossipProtocol); err == nil && len(ok) > 0 {
			connected = append(connected, p)
		}
	}
	topics := make([]map[peer.ID]bool, 0, 2)
	for _, t := range []string{h.consensusTopic.String(), h.txTopic.String()} {
		m := make(map[peer.ID]bool)
		for _, p := range h.ps.ListPeers(t) {
			m[p] = true
		}
		topics = append(topics, m)
	}
	for _, p := range w.check(connected, topics...) {
		if h.host.Network().Connectedness(p) != network.Connected {
			continue
		}
		h.stats.relinks.Add(1)
		h.log.Info("gossip link lost while connected: reconnecting", "peer", p)
		if err := h.host.Network().ClosePeer(p); err != nil {
			h.log.Debug("close peer", "peer", p, "err", err)
		}
		for _, pi := range h.bootstrap {
			if pi.ID == p {
				h.spawn(func() { h.dial(h.ctx, pi) })
			}
		}
	}
}
