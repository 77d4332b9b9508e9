package p2p

import (
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// GossipStats counts the gossip messages of one topic that peers sent
// since the host started (Stats has the count of our own). Every copy a
// peer sends us costs its transport, protobuf decoding and message ID
// (SHA-256 of the data); only the first is validated and delivered.
type GossipStats struct {
	// Received counts the first copies of peers' messages (validated,
	// whatever the verdict), ReceivedBytes their data bytes.
	Received, ReceivedBytes uint64
	// Duplicates counts the further copies of messages already seen,
	// dropped before validation, DuplicateBytes their data bytes.
	Duplicates, DuplicateBytes uint64
}

// gossipCounts are the counters behind one topic's GossipStats.
type gossipCounts struct {
	received, receivedBytes    atomic.Uint64
	duplicates, duplicateBytes atomic.Uint64
}

func (c *gossipCounts) load() GossipStats {
	return GossipStats{
		Received: c.received.Load(), ReceivedBytes: c.receivedBytes.Load(),
		Duplicates: c.duplicates.Load(), DuplicateBytes: c.duplicateBytes.Load(),
	}
}

// gossipTracer is a pubsub.RawTracer that counts, per topic of ours,
// the first copies of peers' messages and the duplicates. (Gossipsub
// tells raw tracers nothing of our own publications.)
// Gossipsub calls it from its event loop and validation goroutines.
type gossipTracer struct {
	noopTracer
	consensus string // topic names
	txs       string
	counts    [2]gossipCounts // consensus, txs
}

var _ pubsub.RawTracer = (*gossipTracer)(nil)

// of returns the counters of msg's topic, nil for another topic.
func (t *gossipTracer) of(msg *pubsub.Message) *gossipCounts {
	switch msg.GetTopic() {
	case t.consensus:
		return &t.counts[0]
	case t.txs:
		return &t.counts[1]
	}
	return nil
}

// ValidateMessage is called once for every peer's message not seen
// before, as it enters validation.
func (t *gossipTracer) ValidateMessage(msg *pubsub.Message) {
	if c := t.of(msg); c != nil {
		c.received.Add(1)
		c.receivedBytes.Add(uint64(len(msg.GetData())))
	}
}

// DuplicateMessage is called for every copy of a message already seen.
func (t *gossipTracer) DuplicateMessage(msg *pubsub.Message) {
	if c := t.of(msg); c != nil {
		c.duplicates.Add(1)
		c.duplicateBytes.Add(uint64(len(msg.GetData())))
	}
}

// noopTracer implements the pubsub.RawTracer events that gossipTracer
// does not count.
type noopTracer struct{}

func (noopTracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (noopTracer) OnClosedOutboundStream(peer.ID)                       {}
func (noopTracer) Join(string)                                          {}
func (noopTracer) Leave(string)                                         {}
func (noopTracer) Graft(peer.ID, string)                                {}
func (noopTracer) Prune(peer.ID, string)                                {}
func (noopTracer) ValidateMessage(*pubsub.Message)                      {}
func (noopTracer) DeliverMessage(*pubsub.Message)                       {}
func (noopTracer) RejectMessage(*pubsub.Message, string)                {}
func (noopTracer) DuplicateMessage(*pubsub.Message)                     {}
func (noopTracer) ThrottlePeer(peer.ID)                                 {}
func (noopTracer) RecvRPC(*pubsub.RPC)                                  {}
func (noopTracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (noopTracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (noopTracer) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (noopTracer) UndeliverableMessage(*pubsub.Message)                 {}
