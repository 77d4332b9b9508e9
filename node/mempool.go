package node

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/idmesh/idmesh/registry"
)

// Mempool errors.
var (
	ErrMempoolFull = errors.New("mempool is full")
	ErrDuplicate   = errors.New("transaction already pending")
	// ErrDuplicateEvidence reports evidence of an offence (one
	// validator's votes of one type at one height and round) for which
	// other evidence is already pending: one offence, one piece of
	// evidence. It wraps registry.ErrEvidenceRecorded.
	ErrDuplicateEvidence = fmt.Errorf("evidence of this offence already pending: %w", registry.ErrEvidenceRecorded)
)

// Mempool holds checked transactions waiting for a block, in arrival
// order, without duplicates and within a count and a byte bound. It also
// remembers, for a while, why recent transactions were rejected.
type Mempool struct {
	maxTxs   int
	maxBytes int

	mu       sync.Mutex
	order    []registry.Hash
	txs      map[registry.Hash]registry.Tx
	reads    map[registry.Hash]registry.ReadSet // what a pending tx's last check read, if known
	offences map[string]registry.Hash           // pending evidence by offence (registry.EvidenceOffence)
	bytes    int
	rejected map[registry.Hash]rejection
	rejOrder []rejectionRef // oldest first; stale refs are skipped
	rejSeq   uint64
	notify   chan struct{} // closed and replaced when a tx arrives
	onReject func()        // called, outside the lock, after rejections are recorded
	// leaving holds, for the pending transactions someone waits on
	// (Leaving), the channel Remove closes when the transaction leaves:
	// at most one entry per pending transaction.
	leaving map[registry.Hash]*leaveWait
}

// leaveWait is a channel closed when a pending transaction leaves the
// mempool, and how many wait on it.
type leaveWait struct {
	ch      chan struct{}
	waiters int
}

// closedChan is returned by Leaving for a transaction not pending.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

const maxRejected = 10_000

// maxRejectionBytes bounds the reason kept of a rejection, so that the
// rejections remembered cost at most maxRejected times this, whatever the
// operations said (their ids and references are in the messages).
const maxRejectionBytes = 512

// compactRejection keeps of err only its result code and the first
// maxRejectionBytes of its message.
func compactRejection(err error) error {
	msg := err.Error()
	if len(msg) > maxRejectionBytes {
		msg = strings.ToValidUTF8(msg[:maxRejectionBytes], "") + "…"
	}
	return registry.Reject(registry.CodeOf(err), errors.New(msg))
}

type rejection struct {
	err error
	seq uint64
}

type rejectionRef struct {
	h   registry.Hash
	seq uint64
}

// NewMempool returns a mempool bounded to maxTxs transactions and
// maxBytes encoded bytes.
func NewMempool(maxTxs, maxBytes int) *Mempool {
	return &Mempool{maxTxs: maxTxs, maxBytes: maxBytes, txs: make(map[registry.Hash]registry.Tx), reads: make(map[registry.Hash]registry.ReadSet), offences: make(map[string]registry.Hash), rejected: make(map[registry.Hash]rejection), notify: make(chan struct{}), leaving: make(map[registry.Hash]*leaveWait)}
}

// Add queues a checked transaction.
func (m *Mempool) Add(h registry.Hash, t registry.Tx) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.txs[h]; ok {
		return fmt.Errorf("%w: %s", ErrDuplicate, h)
	}
	off, isEvidence := registry.EvidenceOffence(t)
	if isEvidence {
		if other, ok := m.offences[string(off)]; ok {
			return registry.Reject(registry.CodeConflict, fmt.Errorf("%w: %s", ErrDuplicateEvidence, other))
		}
	}
	n := len(t.Payload)
	if len(m.txs) >= m.maxTxs || m.bytes+n > m.maxBytes {
		return fmt.Errorf("%w: %d transactions, %d bytes", ErrMempoolFull, len(m.txs), m.bytes)
	}
	if isEvidence {
		m.offences[string(off)] = h
	}
	m.txs[h] = t
	m.order = append(m.order, h)
	m.bytes += n
	delete(m.rejected, h)
	close(m.notify)
	m.notify = make(chan struct{})
	return nil
}

// Has reports whether h is pending.
func (m *Mempool) Has(h registry.Hash) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.txs[h]
	return ok
}

// Len returns the number of pending transactions.
func (m *Mempool) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.txs)
}

// Bytes returns the payload bytes of the pending transactions, what the
// mempool's byte bound counts.
func (m *Mempool) Bytes() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bytes
}

// Wait returns a channel closed when a transaction is next added, or
// already closed if some are pending.
func (m *Mempool) Wait() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.txs) > 0 {
		c := make(chan struct{})
		close(c)
		return c
	}
	return m.notify
}

// maxReapSkips bounds the transactions Reap passes over because they do
// not fit, so that a nearly full block does not cost a scan of the whole
// mempool.
const maxReapSkips = 256

// Reap returns pending transactions in arrival order, without removing
// them: at most maxTxs, whose sizes in a block (registry.TxBlockBytes)
// add up to at most maxBytes. A transaction that does not fit in what is
// left is skipped, not a stop: later, smaller ones may still fit, and it
// stays pending for a later block (after maxReapSkips skips Reap stops).
// Sizes are computed from the payload length, nothing is encoded.
func (m *Mempool) Reap(maxTxs, maxBytes int) []registry.Tx {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]registry.Tx, 0, min(maxTxs, len(m.order)))
	skips := 0
	for _, h := range m.order {
		// The smallest transaction (a 1-byte payload) takes 5 bytes in
		// a block.
		if len(out) >= maxTxs || maxBytes < 5 || skips >= maxReapSkips {
			break
		}
		t := m.txs[h]
		if n := registry.TxBlockBytes(t); n <= maxBytes {
			out = append(out, t)
			maxBytes -= n
		} else {
			skips++
		}
	}
	return out
}

// pending returns every pending transaction in arrival order, with its
// hash, so that a pass over them (Node.Recheck) hashes none again.
func (m *Mempool) pending() ([]registry.Hash, []registry.Tx) {
	m.mu.Lock()
	defer m.mu.Unlock()
	txs := make([]registry.Tx, 0, len(m.order))
	for _, h := range m.order {
		txs = append(txs, m.txs[h])
	}
	return slices.Clone(m.order), txs
}

// Leaving reports whether transaction h is pending and, if it is,
// returns a channel closed when it leaves the mempool (Remove: committed
// or rejected) and a function to call once no longer waiting, which
// forgets the channel when no one else waits on it. A waiter is woken by
// its own transaction's departure only, not by every block. For a
// transaction not pending the channel is closed and release does
// nothing.
func (m *Mempool) Leaving(h registry.Hash) (left <-chan struct{}, release func(), pending bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.txs[h]; !ok {
		return closedChan, func() {}, false
	}
	w := m.leaving[h]
	if w == nil {
		w = &leaveWait{ch: make(chan struct{})}
		m.leaving[h] = w
	}
	w.waiters++
	return w.ch, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		// Remove deleted the entry when it closed the channel; a later
		// entry for the same hash (pending again) is someone else's.
		if m.leaving[h] == w {
			if w.waiters--; w.waiters == 0 {
				delete(m.leaving, h)
			}
		}
	}, true
}

// Remove drops committed transactions, and records rejected ones with
// their error (which carries the result code, registry.CodeOf).
func (m *Mempool) Remove(committed []registry.Hash, rejected map[registry.Hash]error) {
	if len(rejected) > 0 && m.onReject != nil {
		defer m.onReject()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	drop := func(h registry.Hash) {
		if t, ok := m.txs[h]; ok {
			m.bytes -= len(t.Payload)
			delete(m.txs, h)
			delete(m.reads, h)
			if off, ok := registry.EvidenceOffence(t); ok && m.offences[string(off)] == h {
				delete(m.offences, string(off))
			}
		}
		if w, ok := m.leaving[h]; ok {
			close(w.ch)
			delete(m.leaving, h)
		}
	}
	for _, h := range committed {
		drop(h)
	}
	for h, err := range rejected {
		drop(h)
		m.rejSeq++
		m.rejected[h] = rejection{err: compactRejection(err), seq: m.rejSeq}
		m.rejOrder = append(m.rejOrder, rejectionRef{h: h, seq: m.rejSeq})
	}
	// Evict the oldest rejections; a ref is stale if its hash was
	// accepted again or rejected again later.
	for len(m.rejected) > maxRejected || len(m.rejOrder) > 2*maxRejected {
		ref := m.rejOrder[0]
		m.rejOrder = m.rejOrder[1:]
		if r, ok := m.rejected[ref.h]; ok && r.seq == ref.seq {
			delete(m.rejected, ref.h)
		}
	}
	order := m.order[:0]
	for _, h := range m.order {
		if _, ok := m.txs[h]; ok {
			order = append(order, h)
		}
	}
	m.order = order
}

// setReads records what the last check of pending transaction h read
// (ok), or forgets it (not ok); nothing if h is not pending.
func (m *Mempool) setReads(h registry.Hash, rs registry.ReadSet, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, pending := m.txs[h]; !pending {
		return
	}
	if ok {
		m.reads[h] = rs
	} else {
		delete(m.reads, h)
	}
}

// readsOf returns what the last check of pending transaction h read, if
// known.
func (m *Mempool) readsOf(h registry.Hash) (registry.ReadSet, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rs, ok := m.reads[h]
	return rs, ok
}

// Rejected returns why a recent transaction was left out of a block: the
// error of its check, with its result code.
func (m *Mempool) Rejected(h registry.Hash) (error, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rejected[h]
	return r.err, ok
}
