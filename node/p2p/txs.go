package p2p

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/idmesh/idmesh/registry"
)

// Transactions travel in batches: one gossip message carries every
// transaction published here in the last BatchInterval (at most
// maxBatchTxs). Under load this is what keeps gossip's per-message work,
// which all topics share, from delaying consensus messages behind
// thousands of single transactions.
const (
	batchInterval = 10 * time.Millisecond
	maxBatchTxs   = 512
	maxBatchBytes = 4 << 20
	maxSeenTxs    = 100_000
)

// txBatcher collects transactions to publish and remembers the hashes of
// transactions seen (published here or received), so none is sent twice.
type txBatcher struct {
	mu      sync.Mutex
	pending [][]byte
	size    int
	seen    map[registry.Hash]struct{}
	order   []registry.Hash
	full    chan struct{} // signalled when a batch is full
}

func newTxBatcher() *txBatcher {
	return &txBatcher{seen: make(map[registry.Hash]struct{}), full: make(chan struct{}, 1)}
}

// markSeen records h and reports whether it was new.
func (b *txBatcher) markSeen(h registry.Hash) bool {
	if _, ok := b.seen[h]; ok {
		return false
	}
	b.seen[h] = struct{}{}
	b.order = append(b.order, h)
	if len(b.order) > maxSeenTxs {
		delete(b.seen, b.order[0])
		b.order = b.order[1:]
	}
	return true
}

// take returns the oldest pending transactions that fit in one batch
// (maxBatchTxs, maxBatchBytes), encoded, and removes them; nil if none
// are pending. Transactions keep arriving while a full batch waits, so
// what is pending may exceed one batch: the rest waits for the next take.
func (b *txBatcher) take() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.pending) == 0 {
		return nil
	}
	// A transaction (at most registry.MaxTxBytes) always fits alone.
	n, size := 1, len(b.pending[0])
	for n < len(b.pending) && n < maxBatchTxs && size+len(b.pending[n]) <= maxBatchBytes {
		size += len(b.pending[n])
		n++
	}
	out := binary.BigEndian.AppendUint32(make([]byte, 0, 4+size+4*n), uint32(n))
	for _, raw := range b.pending[:n] {
		out = binary.BigEndian.AppendUint32(out, uint32(len(raw)))
		out = append(out, raw...)
	}
	// Drop the taken ones without copying the rest: a backlog is taken
	// batch after batch, and append reuses the array once it is empty.
	clear(b.pending[:n])
	b.pending = b.pending[n:]
	if len(b.pending) == 0 {
		b.pending = b.pending[:0:0]
	}
	b.size -= size
	return out
}

// decodeBatch decodes a batch of transactions.
func decodeBatch(data []byte) ([]registry.Tx, error) {
	if len(data) < 4 || len(data) > maxBatchBytes+4*maxBatchTxs+4 {
		return nil, fmt.Errorf("%w: transaction batch of %d bytes", ErrMalformed, len(data))
	}
	n := binary.BigEndian.Uint32(data)
	data = data[4:]
	if n == 0 || n > maxBatchTxs {
		return nil, fmt.Errorf("%w: batch of %d transactions", ErrMalformed, n)
	}
	txs := make([]registry.Tx, 0, n)
	for range n {
		if len(data) < 4 {
			return nil, fmt.Errorf("%w: truncated batch", ErrMalformed)
		}
		l := binary.BigEndian.Uint32(data)
		data = data[4:]
		if uint64(l) > uint64(len(data)) {
			return nil, fmt.Errorf("%w: truncated batch", ErrMalformed)
		}
		t, err := registry.DecodeTx(data[:l])
		if err != nil {
			return nil, err
		}
		txs = append(txs, t)
		data = data[l:]
	}
	if len(data) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the batch", ErrMalformed, len(data))
	}
	return txs, nil
}

// PublishTx queues t for gossip in the next batch. A transaction this
// host already published or received is not sent again (nil is
// returned). The caller checks t against the chain first (node.Submit
// does); PublishTx checks its structure.
func (h *Host) PublishTx(_ context.Context, t registry.Tx) error {
	if err := t.ValidateBasic(); err != nil {
		return fmt.Errorf("p2p: publish tx: %w", err)
	}
	raw := t.Encode()
	if len(raw) > h.cfg.MaxTxBytes {
		return fmt.Errorf("p2p: publish tx: %w: %w: %d bytes, at most %d", ErrTooLarge, registry.ErrTxTooLargeForBlock, len(raw), h.cfg.MaxTxBytes)
	}
	if h.ctx.Err() != nil {
		return fmt.Errorf("p2p: publish tx: %w", ErrClosed)
	}
	b := h.batch
	b.mu.Lock()
	if !b.markSeen(t.Hash()) {
		b.mu.Unlock()
		return nil
	}
	b.pending = append(b.pending, raw)
	b.size += len(raw)
	full := len(b.pending) >= maxBatchTxs || b.size >= maxBatchBytes
	b.mu.Unlock()
	if full {
		select {
		case b.full <- struct{}{}:
		default:
		}
	}
	return nil
}

// batchLoop publishes the pending batch every batchInterval, or at once
// when it is full.
func (h *Host) batchLoop() {
	t := time.NewTicker(batchInterval)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		case <-h.batch.full:
		}
		for data := h.batch.take(); data != nil; data = h.batch.take() {
			if err := h.txTopic.Publish(h.ctx, data); err != nil {
				if h.ctx.Err() != nil {
					return
				}
				h.log.Warn("publish transactions", "err", err)
				continue
			}
			h.stats.txsPublished.Add(1)
		}
	}
}

// Txs returns the channel of transactions received from peers that
// passed validation (never our own). It is closed by Close. A consumer
// too slow to keep up loses transactions once gossipsub's subscription
// queue (Config.QueueSize) is full.
func (h *Host) Txs() <-chan registry.Tx { return h.txs }

// validateTx is the transaction topic's validator: the data must decode
// as a batch of transactions (registry.DecodeTx bounds each one's size
// and checks its type), each within Config.MaxTxBytes (one that could
// never fit in a block is rejected); if Config.CheckTx is set, a batch
// with a transaction it refuses is ignored.
func (h *Host) validateTx(_ context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	topic := msg.GetTopic()
	txs, err := decodeBatch(msg.Data)
	if err != nil {
		return h.verdict(topic, from, Rejected, err)
	}
	for _, t := range txs {
		// It could never be in a block: useless to anyone, and sent
		// only by a peer that does not check what it forwards.
		if n := t.Size(); n > h.cfg.MaxTxBytes {
			return h.verdict(topic, from, Rejected, fmt.Errorf("%w: %w: %d bytes, at most %d", ErrTooLarge, registry.ErrTxTooLargeForBlock, n, h.cfg.MaxTxBytes))
		}
	}
	msg.ValidatorData = txs
	if from == h.self {
		return pubsub.ValidationAccept
	}
	if h.cfg.CheckTx != nil {
		for _, t := range txs {
			if err := h.cfg.CheckTx(t); err != nil {
				return h.verdict(topic, from, Ignored, err)
			}
		}
	}
	return h.verdict(topic, from, Accepted, nil)
}

// takeValidated returns what the topic validator decoded from msg (its
// ValidatorData) and drops it from msg: gossipsub keeps a delivered
// message a few heartbeats for peers that ask for it (its message
// cache), and needs its bytes only, not a decoded copy of every
// transaction or block in it.
func takeValidated[T any](msg *pubsub.Message) (T, bool) {
	v, ok := msg.ValidatorData.(T)
	msg.ValidatorData = nil
	return v, ok
}

// readTxs hands validated transactions from peers to Txs, each once.
func (h *Host) readTxs() {
	for {
		msg, err := h.txSub.Next(h.ctx)
		if err != nil {
			return
		}
		// Taken from our own messages too, which gossipsub caches alike.
		txs, ok := takeValidated[[]registry.Tx](msg)
		if !ok || msg.ReceivedFrom == h.self || msg.Local {
			continue
		}
		for _, t := range txs {
			h.batch.mu.Lock()
			fresh := h.batch.markSeen(t.Hash())
			h.batch.mu.Unlock()
			if !fresh {
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
}
