package p2p

import (
	"context"
	"fmt"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/idmesh/idmesh/registry"
)

// PublishTx gossips t to the network. The gossip message's ID is t's
// hash, so a transaction already seen (published here or received) is not
// sent again, and PublishTx returns nil for it. The caller checks t
// first (node.Submit does).
func (h *Host) PublishTx(ctx context.Context, t registry.Tx) error {
	raw := t.Encode()
	if len(raw) > registry.MaxTxBytes {
		return fmt.Errorf("p2p: publish tx: %w: %d bytes", ErrTooLarge, len(raw))
	}
	if h.ctx.Err() != nil {
		return fmt.Errorf("p2p: publish tx: %w", ErrClosed)
	}
	if err := h.txTopic.Publish(ctx, raw); err != nil {
		if h.ctx.Err() != nil {
			return fmt.Errorf("p2p: publish tx: %w", ErrClosed)
		}
		return fmt.Errorf("p2p: publish tx: %w", err)
	}
	h.stats.txsPublished.Add(1)
	return nil
}

// Txs returns the channel of transactions received from peers that
// passed validation (never our own). It is closed by Close. A consumer
// too slow to keep up loses transactions once gossipsub's subscription
// queue (Config.QueueSize) is full.
func (h *Host) Txs() <-chan registry.Tx { return h.txs }

// validateTx is the transaction topic's validator: the data must decode
// as a transaction (registry.DecodeTx bounds its size and checks its
// type); if Config.CheckTx is set, a transaction it refuses is ignored.
// Gossipsub remembers the verdict on a message ID (the transaction hash)
// for its seen-messages TTL, so a transaction is judged once per host
// however many peers send it.
func (h *Host) validateTx(_ context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	topic := msg.GetTopic()
	t, err := registry.DecodeTx(msg.Data)
	if err != nil {
		return h.verdict(topic, from, Rejected, err)
	}
	msg.ValidatorData = t
	if from == h.self {
		return pubsub.ValidationAccept
	}
	if h.cfg.CheckTx != nil {
		if err := h.cfg.CheckTx(t); err != nil {
			return h.verdict(topic, from, Ignored, err)
		}
	}
	return h.verdict(topic, from, Accepted, nil)
}

// readTxs hands validated transactions from peers to Txs.
func (h *Host) readTxs() {
	for {
		msg, err := h.txSub.Next(h.ctx)
		if err != nil {
			return
		}
		if msg.ReceivedFrom == h.self || msg.Local {
			continue
		}
		t, ok := msg.ValidatorData.(registry.Tx)
		if !ok {
			continue
		}
		select {
		case h.txs <- t:
			h.stats.txsReceived.Add(1)
		case <-h.ctx.Done():
			return
		}
	}
}
