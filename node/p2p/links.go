package p2p

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// linkStrikes is how many checks in a row must find a connected peer
// missing from our topics before its connection is cut: one miss may be
// a peer whose subscriptions are still on their way.
const linkStrikes = 2

// linkWatch finds gossip links that gossipsub lost while the connection
// stayed up. It is pure: the host gives it what it sees and acts on
// what it returns.
//
// gossipsub (go-libp2p-pubsub v0.19) keeps one outbound stream per peer.
// When that stream dies while the peer stays connected (two hosts that
// dial each other at once, or a dial over TCP and QUIC whose loser the
// dialer closes after the listener accepted it, and gossipsub's stream
// was on it), gossipsub opens a new stream but first forgets the peer's
// topic subscriptions, and the peer does not send them again: its own
// stream to us is fine. From then on we never publish to the peer,
// although it is connected and subscribed. When opening the stream
// fails, gossipsub forgets the peer altogether and never tells it our
// subscriptions, so the peer never publishes to us either. Either way
// gossipsub forgets all of the peer's subscriptions at once, which shows
// as a connected peer of our chain that is on none of our topics; the
// cure is to close the connection and dial again, so that both sides
// start over with fresh streams and subscriptions.
type linkWatch struct {
	misses map[peer.ID]int
}

// check takes the peers to judge (connected, of our chain, connected
// long enough for their subscriptions to have come) and, for each topic,
// the peers gossipsub knows to be subscribed. It returns the peers on
// none of the topics at linkStrikes checks in a row, and forgets them,
// as it forgets peers no longer judged or no longer missing.
func (w *linkWatch) check(judged []peer.ID, topics ...map[peer.ID]bool) (cut []peer.ID) {
	seen := make(map[peer.ID]int, len(w.misses))
	for _, p := range judged {
		if slices.ContainsFunc(topics, func(t map[peer.ID]bool) bool { return t[p] }) {
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

// checkLinks runs the link watch once. It judges the peers that are
// connected, have a connection at least LinkCheckInterval old and serve
// our chain's direct protocol (so a node of another chain, which speaks
// the same gossip protocol on other topics, is left alone). A peer on
// none of our topics at two checks in a row has its connections closed,
// and the cut is counted (Stats.GossipRelinks). It is dialed again one
// to two LinkCheckIntervals later (a bootstrap peer at its bootstrap
// addresses, another at those the peerstore keeps): dialed at once, the
// new connection could reach the peer before it has seen the old one
// close, and the peer's gossipsub would lose our subscriptions the same
// way. If the peer dialed first, the dial does nothing.
func (h *Host) checkLinks(w *linkWatch) {
	h.linkChecks.Add(1)
	now := time.Now()
	var judged []peer.ID
	for _, p := range h.host.Network().Peers() {
		if ok, err := h.host.Peerstore().SupportsProtocols(p, h.protoDirect); err != nil || len(ok) == 0 {
			continue
		}
		settled := false
		for _, c := range h.host.Network().ConnsToPeer(p) {
			settled = settled || now.Sub(c.Stat().Opened) >= h.cfg.LinkCheckInterval
		}
		if settled {
			judged = append(judged, p)
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
	if h.ctx.Err() != nil {
		return // closing: gossipsub answers with no peers
	}
	for _, p := range w.check(judged, topics...) {
		if h.host.Network().Connectedness(p) != network.Connected {
			continue
		}
		h.stats.relinks.Add(1)
		h.log.Info("gossip link lost while connected: reconnecting", "peer", p)
		if err := h.host.Network().ClosePeer(p); err != nil {
			h.log.Debug("close peer", "peer", p, "err", err)
		}
		pi := peer.AddrInfo{ID: p}
		for _, b := range h.bootstrap {
			if b.ID == p {
				pi = b
			}
		}
		wait := h.cfg.LinkCheckInterval + rand.N(h.cfg.LinkCheckInterval)
		h.spawn(func() {
			t := time.NewTimer(wait)
			defer t.Stop()
			select {
			case <-t.C:
				h.dial(h.ctx, pi)
			case <-h.ctx.Done():
			}
		})
	}
}
