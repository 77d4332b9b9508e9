package p2p

import (
	"context"
	"slices"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// PublishAsIs publishes m on the consensus topic as Send would, but
// without setting a Status's From: what a peer that lies about it sends.
func (h *Host) PublishAsIs(m Message) error {
	raw, err := EncodeMessage(m)
	if err != nil {
		return err
	}
	h.publish(raw)
	return nil
}

// SendDirectAsIs sends m to peerID over a direct stream, From as it is,
// and waits for the acknowledgement.
func (h *Host) SendDirectAsIs(ctx context.Context, peerID string, m Message) error {
	raw, err := EncodeMessage(m)
	if err != nil {
		return err
	}
	p, err := peer.Decode(peerID)
	if err != nil {
		return err
	}
	return h.sendDirect(ctx, p, raw)
}

// PublishAsRelay publishes m on the consensus topic in an envelope that
// names origin (a peer ID) as its publisher: what a relay sends, or a
// peer that lies about the origin.
func (h *Host) PublishAsRelay(m Message, origin string) error {
	raw, err := EncodeMessage(m)
	if err != nil {
		return err
	}
	o, err := peer.Decode(origin)
	if err != nil {
		return err
	}
	return h.consensusTopic.Publish(h.ctx, encodeEnvelope(h.seq.Add(1), []byte(o), raw))
}

// SetMaxReplyPeers lowers the bound on the peers with reply state (1,024)
// in c, so that a test can fill the table with a few hosts.
func SetMaxReplyPeers(c *Config, n int) { c.maxReplyPeers = n }

// ResetGossipStreams resets this host's outbound gossipsub streams to
// the peer id and leaves its connections up, as a duplicate connection
// closing under gossipsub's stream does; it returns how many it reset.
func (h *Host) ResetGossipStreams(id string) (int, error) {
	p, err := peer.Decode(id)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range h.host.Network().ConnsToPeer(p) {
		for _, s := range c.GetStreams() {
			if s.Protocol() == gossipProtocol && s.Stat().Direction == network.DirOutbound {
				s.Reset()
				n++
			}
		}
	}
	return n, nil
}

// Linked reports whether this host has exactly one connection to the
// peer id and knows it subscribed to both topics: a link on which
// gossipsub publishes, and no second connection whose closing could
// take gossipsub's stream with it.
func (h *Host) Linked(id string) bool {
	p, err := peer.Decode(id)
	if err != nil || len(h.host.Network().ConnsToPeer(p)) != 1 {
		return false
	}
	for _, t := range []string{h.consensusTopic.String(), h.txTopic.String()} {
		if !slices.Contains(h.ps.ListPeers(t), p) {
			return false
		}
	}
	return true
}

// TopicPeers returns the peers this host knows to be subscribed to the
// consensus topic.
func (h *Host) TopicPeers() []string {
	var out []string
	for _, p := range h.ps.ListPeers(h.consensusTopic.String()) {
		out = append(out, p.String())
	}
	return out
}

// LinkChecks returns how many times the host has checked its gossip
// links.
func (h *Host) LinkChecks() uint64 { return h.linkChecks.Load() }
