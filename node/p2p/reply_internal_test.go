package p2p

import (
	"testing"
	"time"
)

// TestReplyBucket: the per-peer bucket lets a burst through at once,
// refills at the rate up to the burst, never lets a message through that
// the tokens do not cover, and does not go backwards with the clock.
func TestReplyBucket(t *testing.T) {
	const rate, burst = 1000.0, 1500.0
	t0 := time.Unix(1_750_000_000, 0)
	r := &replyPeer{tokens: burst, last: t0}
	steps := []struct {
		at   time.Duration
		n    int
		want bool
	}{
		{0, 1000, true},
		{0, 501, false}, // 500 left
		{0, 500, true},
		{0, 1, false},
		{100 * time.Millisecond, 100, true}, // refilled 100
		{100 * time.Millisecond, 1, false},
		{50 * time.Millisecond, 1, false}, // an earlier time adds nothing
		{10 * time.Second, 1500, true},    // refilled to the burst, not beyond
		{10 * time.Second, 1, false},
		{11 * time.Second, 1001, false}, // a second gives the rate
		{11 * time.Second, 1000, true},
	}
	for i, s := range steps {
		if got := r.admit(t0.Add(s.at), s.n, rate, burst); got != s.want {
			t.Fatalf("step %d: admit(%v, %d) = %v, want %v (tokens %v)", i, s.at, s.n, got, s.want, r.tokens)
		}
	}
}

// TestReplyQueueBounds: the queue of a peer refuses what would exceed
// its bytes or messages, and starts at most replyStreams senders.
func TestReplyQueueBounds(t *testing.T) {
	r := &replyPeer{}
	starts := 0
	for i := range 10 {
		queued, start := r.push(make([]byte, 100), 1000, 8)
		if queued != (i < 8) {
			t.Fatalf("push %d: queued %v", i, queued)
		}
		if start {
			starts++
		}
	}
	if starts != replyStreams {
		t.Fatalf("%d senders started, want %d", starts, replyStreams)
	}
	if queued, _ := (&replyPeer{}).push(make([]byte, 1001), 1000, 8); queued {
		t.Fatal("a message over the byte bound was queued")
	}
	for range 8 {
		if _, ok := r.pop(); !ok {
			t.Fatal("queue emptied early")
		}
	}
	for range replyStreams {
		if _, ok := r.pop(); ok {
			t.Fatal("pop from an empty queue")
		}
	}
	if !r.idle() {
		t.Fatal("not idle after every sender stopped")
	}
}
