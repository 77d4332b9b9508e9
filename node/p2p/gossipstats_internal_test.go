package p2p

import (
	"testing"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"
)

// TestGossipTracer: the tracer counts the first copies of peers'
// messages and the duplicates, with their data bytes,
// per topic of ours, and nothing of other topics.
func TestGossipTracer(t *testing.T) {
	tr := &gossipTracer{consensus: "/c", txs: "/t"}
	msg := func(topic string, n int) *pubsub.Message {
		return &pubsub.Message{Message: &pubsubpb.Message{Topic: &topic, Data: make([]byte, n)}, ReceivedFrom: peer.ID("other")}
	}
	for _, ev := range []struct {
		dup bool
		m   *pubsub.Message
	}{
		{false, msg("/c", 20)}, // received
		{true, msg("/c", 20)},  // its duplicate
		{true, msg("/c", 20)},  // and another
		{false, msg("/t", 300)},
		{true, msg("/t", 300)},
		{false, msg("/x", 7)}, // not our topic
		{true, msg("/x", 7)},
	} {
		if ev.dup {
			tr.DuplicateMessage(ev.m)
		} else {
			tr.ValidateMessage(ev.m)
		}
	}
	for _, tc := range []struct {
		name string
		got  GossipStats
		want GossipStats
	}{
		{"consensus", tr.counts[0].load(), GossipStats{Received: 1, ReceivedBytes: 20, Duplicates: 2, DuplicateBytes: 40}},
		{"txs", tr.counts[1].load(), GossipStats{Received: 1, ReceivedBytes: 300, Duplicates: 1, DuplicateBytes: 300}},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, tc.got, tc.want)
		}
	}
}
