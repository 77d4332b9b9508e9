package p2p

import (
	"sync/atomic"
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

// TestReplyGlobalBudget: peers share one budget of queued bytes (so that
// peers that never take their answers cannot hold a queue each), and a
// peer's queue cleared after a failed stream gives its bytes back and
// leaves it idle once its senders stop.
func TestReplyGlobalBudget(t *testing.T) {
	var total atomic.Int64
	a := &replyPeer{total: &total, maxTotal: 1000}
	b := &replyPeer{total: &total, maxTotal: 1000}
	if q, _ := a.push(make([]byte, 600), 1<<20, 100); !q {
		t.Fatal("first answer refused")
	}
	if q, _ := b.push(make([]byte, 600), 1<<20, 100); q {
		t.Fatal("an answer over the shared budget was queued")
	}
	if total.Load() != 600 {
		t.Fatalf("budget holds %d bytes, want 600", total.Load())
	}
	if n, bytes := a.clear(); n != 1 || bytes != 600 || total.Load() != 0 {
		t.Fatalf("clear: %d messages, %d bytes; budget %d", n, bytes, total.Load())
	}
	if q, _ := b.push(make([]byte, 600), 1<<20, 100); !q {
		t.Fatal("the budget freed by clear was not reused")
	}
	if _, ok := a.pop(); ok {
		t.Fatal("a cleared queue popped a message")
	}
	if !a.idle() {
		t.Fatal("a cleared peer whose sender stopped is not idle")
	}
}
