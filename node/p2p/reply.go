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

// maxReplyPeers bounds the per-peer reply state kept while idle: past it,
// peers with an empty queue and a full bucket are forgotten (they start
// again with a full bucket, which is what they have anyway).
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

// replies is sendLoop's per-peer reply state.
type replies struct {
	peers        map[peer.ID]*replyPeer
	rate, burst  float64
	maxQueueMsgs int
	total        atomic.Int64 // bytes queued over all peers (maxReplyBytes)
}

// get returns p's state, creating it with a full bucket; nil if
// maxReplyPeers peers are busy (the reply is dropped).
func (rs *replies) get(p peer.ID, now time.Time) *replyPeer {
	if r, ok := rs.peers[p]; ok {
		return r
	}
	if len(rs.peers) >= maxReplyPeers {
		for q, r := range rs.peers {
			if r.idle() && r.admit(now, 0, rs.rate, rs.burst) && r.tokens >= rs.burst {
				delete(rs.peers, q)
			}
		}
	}
	if len(rs.peers) >= maxReplyPeers {
		return nil
	}
	r := &replyPeer{tokens: rs.burst, last: now, total: &rs.total, maxTotal: maxReplyBytes}
	rs.peers[p] = r
	return r
}
