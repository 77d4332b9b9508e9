package p2p

import (
	"context"

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
