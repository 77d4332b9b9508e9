package p2p

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
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

// TestReplyEvictsLeastRecentlyUsed: a full table of reply state (1,024
// peers) takes a new peer in the place of the least recently used idle
// peer, which hands over its bucket's tokens (cycling through peer IDs
// gains no bytes); a peer with answers queued is never evicted, however
// many new peers come; with every peer busy, the new one is refused.
func TestReplyEvictsLeastRecentlyUsed(t *testing.T) {
	const rate, burst = 1000.0, 1500.0
	t0 := time.Unix(1_750_000_000, 0)
	rs := &replies{peers: make(map[peer.ID]*replyPeer), maxPeers: maxReplyPeers, rate: rate, burst: burst, maxQueueMsgs: 8}
	id := func(i int) peer.ID { return peer.ID(fmt.Sprintf("peer-%d", i)) }
	for i := range maxReplyPeers {
		if r, evicted := rs.get(id(i), t0); r == nil || evicted {
			t.Fatalf("peer %d: %v, evicted %v", i, r, evicted)
		}
	}
	rs.get(id(0), t0) // peer 0 used again: peer 1 is now the least recent
	busy := rs.peers[id(1)]
	if q, _ := busy.push(make([]byte, 100), 1500, 8); !q {
		t.Fatal("push refused")
	}
	if !rs.peers[id(2)].admit(t0, 1500, rate, burst) { // peer 2 spent its bucket
		t.Fatal("admit refused")
	}

	// Peer 1 is busy, so peer 2 goes; the newcomer gets its empty bucket.
	r, evicted := rs.get(id(5000), t0)
	if r == nil || !evicted || rs.peers[id(2)] != nil || rs.peers[id(1)] != busy || rs.peers[id(0)] == nil {
		t.Fatalf("first newcomer: %v, evicted %v; peer 1 kept %v, peer 2 kept %v", r, evicted, rs.peers[id(1)] == busy, rs.peers[id(2)] != nil)
	}
	if r.tokens != 0 || r.admit(t0, 1, rate, burst) {
		t.Fatalf("the newcomer has %v tokens, want the evicted peer's 0", r.tokens)
	}
	if len(rs.peers) != maxReplyPeers {
		t.Fatalf("%d peers, want %d", len(rs.peers), maxReplyPeers)
	}
	// A flood of new peers evicts the idle ones, least recent first, and
	// never the busy one.
	for i := range 3 * maxReplyPeers {
		if r, evicted := rs.get(id(10_000+i), t0.Add(time.Second)); r == nil || !evicted {
			t.Fatalf("newcomer %d: %v, evicted %v", i, r, evicted)
		}
		if i == 0 && rs.peers[id(3)] != nil {
			t.Fatal("peer 3, the least recent idle peer, was not the one evicted")
		}
		if rs.peers[id(1)] != busy {
			t.Fatalf("newcomer %d evicted the peer with a queued answer", i)
		}
	}
	if busy.bytes != 100 {
		t.Fatalf("the busy peer's queue holds %d bytes, want 100", busy.bytes)
	}

	// Every peer busy: a newcomer is refused, nobody is evicted.
	for _, r := range rs.peers {
		r.senders = 1
	}
	if r, evicted := rs.get(id(99_999), t0); r != nil || evicted || len(rs.peers) != maxReplyPeers {
		t.Fatalf("with every peer busy: %v, evicted %v, %d peers", r, evicted, len(rs.peers))
	}
}

// TestReplyCut: cutting a peer (its stream timed out) drops its queue and
// its state, giving the bytes back to the shared budget; a cut of state
// that was already replaced leaves the new state alone.
func TestReplyCut(t *testing.T) {
	t0 := time.Unix(1_750_000_000, 0)
	rs := &replies{peers: make(map[peer.ID]*replyPeer), maxPeers: maxReplyPeers, rate: 1000, burst: 1500, maxQueueMsgs: 8}
	r, _ := rs.get("slow", t0)
	for range 3 {
		if q, _ := r.push(make([]byte, 100), 1500, 8); !q {
			t.Fatal("push refused")
		}
	}
	removed, msgs, bytes := rs.cut("slow", r)
	if !removed || msgs != 3 || bytes != 300 || rs.peers["slow"] != nil || rs.total.Load() != 0 {
		t.Fatalf("cut: removed %v, %d messages, %d bytes; state kept %v; budget %d", removed, msgs, bytes, rs.peers["slow"] != nil, rs.total.Load())
	}
	again, _ := rs.get("slow", t0)
	if removed, _, _ := rs.cut("slow", r); removed || rs.peers["slow"] != again {
		t.Fatal("a late cut of old state removed the peer's new state")
	}
}
