package p2p

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// replyStreams bounds the direct streams open at once to one peer for
// its answers: a few, so that an answer of many votes does not wait a
// round trip per vote.
const replyStreams = 4

// maxReplyPeers bounds the peers with reply state (replies).
const maxReplyPeers = 1024

// maxReplyBytes bounds the bytes queued for answers over all peers, so
// that peers that never acknowledge cannot hold maxReplyPeers queues of
// ReplyBurst bytes each: 256 MiB, room for the burst of a dozen peers
// catching up with full blocks at once.
const maxReplyBytes = 256 << 20

// replyPeer is the reply state of one peer: a token bucket in bytes and
// the queue of encoded messages waiting for its direct streams. The bucket
// is owned by sendLoop; the queue is shared with the peer's sender
// goroutine under mu.
type replyPeer struct {
	tokens float64   // bytes that may be sent now
	last   time.Time // when tokens was last refilled
	used   uint64    // replies.seq when an answer was last offered to it

	mu      sync.Mutex
	queue   [][]byte
	bytes   int // bytes in queue
	senders int // goroutines draining queue, at most replyStreams

	// total, if set, counts the bytes queued over all peers, at most
	// maxTotal.
	total    *atomic.Int64
	maxTotal int64
}

// admit refills the bucket up to burst at rate bytes per second since
// the last call and takes n bytes from it; it reports false (taking
// nothing) if fewer than n bytes are left.
func (r *replyPeer) admit(now time.Time, n int, rate, burst float64) bool {
	if el := now.Sub(r.last).Seconds(); el > 0 {
		r.tokens = min(burst, r.tokens+el*rate)
	}
	if now.After(r.last) {
		r.last = now
	}
	if float64(n) > r.tokens {
		return false
	}
	r.tokens -= float64(n)
	return true
}

// push queues raw unless the queue would exceed maxBytes or maxMsgs; it
// reports whether it queued it and whether another sender must be
// started.
func (r *replyPeer) push(raw []byte, maxBytes, maxMsgs int) (queued, start bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bytes+len(raw) > maxBytes || len(r.queue) >= maxMsgs {
		return false, false
	}
	if r.total != nil && r.total.Add(int64(len(raw))) > r.maxTotal {
		r.total.Add(-int64(len(raw)))
		return false, false
	}
	r.queue = append(r.queue, raw)
	r.bytes += len(raw)
	if r.senders < replyStreams {
		r.senders++
		return true, true
	}
	return true, false
}

// pop returns the next queued message, or false (and counts the calling
// sender stopped) if there is none.
func (r *replyPeer) pop() ([]byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.queue) == 0 {
		r.senders--
		return nil, false
	}
	raw := r.queue[0]
	r.queue[0] = nil
	r.queue = r.queue[1:]
	r.bytes -= len(raw)
	if r.total != nil {
		r.total.Add(-int64(len(raw)))
	}
	return raw, true
}

// clear drops everything queued (a peer whose stream failed: the rest
// would wait for the same fate) and returns how many messages and bytes.
func (r *replyPeer) clear() (msgs, bytes int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	msgs, bytes = len(r.queue), r.bytes
	if r.total != nil {
		r.total.Add(-int64(r.bytes))
	}
	r.queue, r.bytes = nil, 0
	return msgs, bytes
}

// idle reports whether no sender runs and nothing is queued.
func (r *replyPeer) idle() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.senders == 0 && len(r.queue) == 0
}

// replies is sendLoop's per-peer reply state, at most maxPeers peers.
//
// Eviction policy. When the table is full and a peer without state needs
// some, it takes the place of the least recently used peer (the one whose
// last answer was offered longest ago) among those with nothing queued and
// no stream open: evicting one of those drops no answer, only its bucket,
// and the newcomer inherits that bucket's tokens, so that cycling through
// peer IDs in a full table gains no bytes: each place in it refills at
// the rate, whichever peer holds it. A peer with answers queued or in flight is
// never evicted by a newcomer, however many new peer IDs ask: a flood of
// new peers drops none of their queued answers (zero bytes). If every
// peer in the table is busy, the newcomer's answer is dropped. A busy peer
// leaves the table busy only through its own streams: one that fails
// empties its queue (the peer then is idle, and evictable); one that times
// out cuts the peer, dropping its queue and its state at once (cut). So a
// peer holds its place only while it takes its answers, each within
// Config.RequestTimeout, and holds at most ReplyBurst bytes queued, all
// peers at most maxReplyBytes.
type replies struct {
	peers        map[peer.ID]*replyPeer
	maxPeers     int
	rate, burst  float64
	maxQueueMsgs int
	seq          uint64       // counts offered answers, for least-recent-use order
	total        atomic.Int64 // bytes queued over all peers (maxReplyBytes)
}

// get returns p's state, counting the use; it creates the state with a
// full bucket, or, if the table is full, in the place of the least
// recently used idle peer, with that peer's tokens (evicted is then
// true). It returns nil if every peer in a full table is busy (the
// answer is dropped).
func (rs *replies) get(p peer.ID, now time.Time) (r *replyPeer, evicted bool) {
	rs.seq++
	if r, ok := rs.peers[p]; ok {
		r.used = rs.seq
		return r, false
	}
	tokens := rs.burst
	if len(rs.peers) >= rs.maxPeers {
		var lru peer.ID
		var old *replyPeer
		for q, r := range rs.peers {
			if (old == nil || r.used < old.used) && r.idle() {
				lru, old = q, r
			}
		}
		if old == nil {
			return nil, false
		}
		delete(rs.peers, lru)
		old.admit(now, 0, rs.rate, rs.burst) // refill to now
		tokens, evicted = old.tokens, true
	}
	r = &replyPeer{tokens: tokens, last: now, used: rs.seq, total: &rs.total, maxTotal: maxReplyBytes}
	rs.peers[p] = r
	return r, evicted
}

// cut removes p's state if it is still r (a peer whose stream timed out),
// dropping what is queued for it; it reports whether it removed it, and
// how many messages and bytes it dropped.
func (rs *replies) cut(p peer.ID, r *replyPeer) (removed bool, msgs, bytes int) {
	msgs, bytes = r.clear()
	if rs.peers[p] != r {
		return false, msgs, bytes
	}
	delete(rs.peers, p)
	return true, msgs, bytes
}
