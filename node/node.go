package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/smt"
)

// Node ties a chain, its mempool and the notification of commits.
type Node struct {
	Chain   *registry.Chain
	Mempool *Mempool
	now     func() time.Time
	log     *slog.Logger
	metrics *metrics

	gossip func(registry.Tx)
	sets   *ValidatorSets // nil: none recorded
	// prep batches the signature checks of concurrent submissions.
	prep preparer

	rechecking atomic.Bool
	// recheckAgain asks the running recheck for one more pass: a block
	// committed during a pass may invalidate what it already passed.
	recheckAgain atomic.Bool
	// recheckSkipped counts the transactions a recheck left alone
	// because no block since their check wrote what it read.
	recheckSkipped atomic.Uint64
	recheckDone    func() // for tests

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every commit
	// lastBlockTime is the header time of the last block Committed saw,
	// for idmesh_block_interval_seconds; zero before the first.
	lastBlockTime time.Time
}

// Options configures a Node.
type Options struct {
	MaxPendingTxs   int // default 50,000
	MaxPendingBytes int // default 256 MiB
	Now             func() time.Time
	Log             *slog.Logger
	Registerer      prometheus.Registerer // nil: no metrics registered
	// Gossip, if set, is given every transaction this node accepts from
	// a client, to spread it to the network.
	Gossip func(registry.Tx)
	// ValidatorSets, if set, records the validator sets of the chain
	// state after every block committed (Committed), by consensus or
	// by block sync, for the headers served to syncing peers.
	ValidatorSets *ValidatorSets
}

// New returns a node on chain.
func New(chain *registry.Chain, o Options) (*Node, error) {
	if o.MaxPendingTxs <= 0 {
		o.MaxPendingTxs = 50_000
	}
	if o.MaxPendingBytes <= 0 {
		o.MaxPendingBytes = 256 << 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	n := &Node{Chain: chain, Mempool: NewMempool(o.MaxPendingTxs, o.MaxPendingBytes), now: o.Now, log: o.Log, changed: make(chan struct{}), gossip: o.Gossip, sets: o.ValidatorSets}
	m, err := newMetrics(o.Registerer, n)
	if err != nil {
		return nil, err
	}
	n.metrics = m
	n.Mempool.onReject = n.notify
	n.prep.prepare = n.PrepareChecks
	return n, nil
}

// ErrRejected wraps the reason a transaction failed its check.
var ErrRejected = errors.New("transaction rejected")

// Submit checks t against the committed state and queues it. A
// transaction already pending is accepted again (idempotent). The
// signatures of concurrent calls are verified together (preparer). The
// returned error wraps ErrRejected and a registry.TxError with the code.
func (n *Node) Submit(t registry.Tx) (registry.Hash, error) {
	// The node's own copy, hashed once here for the mempool, gossip and
	// the block: a caller that reuses its buffer afterwards cannot change
	// the bytes behind the hash (review R8, M1).
	t.Payload = bytes.Clone(t.Payload)
	t = t.WithHash()
	if !n.Mempool.Has(t.Hash()) {
		n.prep.do(t)
	}
	h, fresh, err := n.submit(t)
	if err == nil && fresh && n.gossip != nil {
		n.gossip(t)
	}
	return h, err
}

// PrepareChecks prepares the checks of the transactions not pending
// already (registry.Chain.PrepareChecks): a batch's signatures are
// verified together before each is submitted.
func (n *Node) PrepareChecks(txs []registry.Tx) {
	fresh := txs[:0:0]
	for _, t := range txs {
		if !n.Mempool.Has(t.Hash()) {
			fresh = append(fresh, t)
		}
	}
	n.Chain.PrepareChecks(fresh)
}

// SubmitGossiped queues a transaction that came from the network: the
// same checks, and no gossip of its own (the network already spreads it).
func (n *Node) SubmitGossiped(t registry.Tx) (registry.Hash, error) {
	h, _, err := n.submit(t.WithHash())
	return h, err
}

// DecodeOperation decodes a did:idmesh operation a client submitted
// through the chain's decoded-operation cache (registry.Chain.DecodeOperation),
// so that the API's decoding is the one the operation's check uses.
func (n *Node) DecodeOperation(b []byte) (*idmesh.Operation, error) {
	return n.Chain.DecodeOperation(b)
}

// submit checks and queues t, and reports whether it was new here.
func (n *Node) submit(t registry.Tx) (registry.Hash, bool, error) {
	h := t.Hash()
	if n.Mempool.Has(h) {
		return h, false, nil
	}
	if rec, err := n.Chain.CommittedTx(h); err == nil {
		return h, false, fmt.Errorf("%w: %w", ErrRejected, registry.Reject(registry.CodeConflict, fmt.Errorf("transaction %s was already committed at height %d (replay)", h, rec.Height)))
	}
	rs, known, err := n.Chain.CheckTxReads(t, n.now())
	if err != nil {
		n.metrics.rejected.Inc()
		return h, false, fmt.Errorf("%w: %w", ErrRejected, err)
	}
	if err := n.Mempool.Add(h, t); err != nil {
		if errors.Is(err, ErrDuplicate) {
			return h, false, nil
		}
		if errors.Is(err, ErrDuplicateEvidence) {
			n.metrics.rejected.Inc()
			return h, false, fmt.Errorf("%w: %w", ErrRejected, err)
		}
		return h, false, err
	}
	n.Mempool.setReads(h, rs, known)
	n.metrics.submitted.Inc()
	return h, true, nil
}

// TxState is where a transaction stands.
type TxState string

// Transaction states.
const (
	TxPending   TxState = "pending"
	TxCommitted TxState = "committed"
	TxRejected  TxState = "rejected"
)

// TxStatus says where a transaction stands.
type TxStatus struct {
	Hash   registry.Hash `json:"hash"`
	Status TxState       `json:"status"`
	Height uint64        `json:"height,omitempty"`
	Code   uint32        `json:"code,omitempty"`
	Reason string        `json:"reason,omitempty"`
}

// Status returns the status of transaction h, or an error wrapping
// registry.ErrNotFound if the node does not know it.
func (n *Node) Status(h registry.Hash) (TxStatus, error) {
	s, err := n.committedStatus(h)
	if err == nil || !errors.Is(err, registry.ErrNotFound) {
		return s, err
	}
	if n.Mempool.Has(h) {
		return TxStatus{Hash: h, Status: TxPending}, nil
	}
	if err, ok := n.Mempool.Rejected(h); ok {
		// Left out of a block, or dropped by a recheck: the code says
		// why (a conflict, say), as for a transaction refused on entry.
		return TxStatus{Hash: h, Status: TxRejected, Code: registry.CodeOf(err), Reason: err.Error()}, nil
	}
	// A transaction leaves the mempool after its block is saved: one that
	// was neither saved at the first look nor pending at the second was
	// committed in between.
	return n.committedStatus(h)
}

// committedStatus is the status of a transaction in a saved block.
func (n *Node) committedStatus(h registry.Hash) (TxStatus, error) {
	rec, err := n.Chain.Store().Tx(h)
	if errors.Is(err, registry.ErrNotFound) {
		return TxStatus{}, fmt.Errorf("transaction %s: %w", h, registry.ErrNotFound)
	}
	if err != nil {
		return TxStatus{}, err
	}
	s := TxStatus{Hash: h, Status: TxCommitted, Height: rec.Height}
	if !rec.Result.OK() {
		s.Status, s.Code, s.Reason = TxRejected, rec.Result.Code, rec.Result.Log
	}
	return s, nil
}

// Changed returns a channel closed at the next commit, or when a block
// proposal leaves transactions out as rejected.
func (n *Node) Changed() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.changed
}

// Committed is called after each block is saved, by the engine and by
// block sync (Sync). It records the state's validator sets first
// (Options.ValidatorSets).
func (n *Node) Committed(b *registry.Block, results []registry.Result) {
	if n.sets != nil {
		if err := n.sets.AddState(n.Chain.State()); err != nil {
			n.log.Warn("validator sets not saved (tried again at the next block)", "height", b.Header.Height, "err", err)
		}
	}
	n.metrics.blocks.Inc()
	for _, r := range results {
		if r.OK() {
			n.metrics.txs.Inc()
		}
	}
	n.metrics.height.Set(float64(b.Header.Height))
	n.metrics.blockBytes.Observe(float64(b.Size()))
	if prev := n.previousBlockTime(b.Header.Height); !prev.IsZero() {
		n.metrics.blockInterval.Observe(max(b.Header.Time.Sub(prev), 0).Seconds())
	}
	n.mu.Lock()
	n.lastBlockTime = b.Header.Time
	n.mu.Unlock()
	n.metrics.jailed.Add(float64(len(Jailed(n.Chain.Store(), b, results))))
	n.notify()
	n.Recheck()
}

// Recheck checks the pending transactions again against the state the
// last block left, and drops those that no longer pass (an update whose
// previous version another update replaced, say), recording why: every
// node, not only the next proposer, then reports them rejected. It runs
// in the background and never twice at once: a Recheck while one runs
// makes it run one more pass, since the block that called it may have
// invalidated what the running pass already passed.
//
// A transaction whose outcome no block since its last check can have
// changed is not checked again: its handler is registry.StateOnly, and
// no block committed since wrote a key that check read
// (registry.Chain.WrittenSince). Nor is one a committed block holds
// (it leaves the mempool once the block's bookkeeping is done). Every
// other one is.
func (n *Node) Recheck() {
	n.recheckAgain.Store(true)
	if !n.rechecking.CompareAndSwap(false, true) {
		return // the running recheck runs once more (security review R2)
	}
	go func() {
		for {
			for n.recheckAgain.Swap(false) {
				n.recheckOnce()
				if n.recheckDone != nil {
					n.recheckDone()
				}
			}
			n.rechecking.Store(false)
			// A Recheck between the last Swap and the Store saw the
			// flag still set and left its request: take it.
			if !n.recheckAgain.Load() || !n.rechecking.CompareAndSwap(false, true) {
				return
			}
		}
	}()
}

// recheckOnce is one pass of Recheck over the pending transactions.
func (n *Node) recheckOnce() {
	why := map[registry.Hash]error{}
	now := n.now()
	tip := n.Chain.State().Height
	var late []registry.Hash
	hashes, txs := n.Mempool.pending()
	for i, t := range txs {
		h := hashes[i]
		if rs, ok := n.Mempool.readsOf(h); ok {
			if written, known := n.Chain.WrittenSince(rs); known && !written {
				n.recheckSkipped.Add(1)
				continue
			}
		}
		// The block that called the recheck leaves the mempool after
		// Committed (the consensus driver's order): its transactions,
		// which wrote what they read, are not judged again. One
		// committed by an earlier block entered the mempool after that
		// block's Remove (its check raced the commit): it leaves now,
		// as committed (review R8, L1).
		if rec, err := n.Chain.CommittedTx(h); err == nil {
			if rec.Height < tip {
				late = append(late, h)
			}
			continue
		}
		rs, known, err := n.Chain.CheckTxReads(t, now)
		if err != nil {
			why[h] = err
			continue
		}
		n.Mempool.setReads(h, rs, known)
	}
	if len(why) > 0 || len(late) > 0 {
		n.Mempool.Remove(late, why)
	}
}

// notify wakes everyone waiting on Changed.
func (n *Node) notify() {
	n.mu.Lock()
	close(n.changed)
	n.changed = make(chan struct{})
	n.mu.Unlock()
}

// WaitStatus waits until transaction h is committed or rejected, or ctx
// ends, and returns its last status. It wakes when h leaves the mempool
// (Mempool.Leaving), not at every commit: with many clients waiting, a
// block wakes only those whose transactions it holds. While h is
// pending nothing else is read; its status is read once it has left.
func (n *Node) WaitStatus(ctx context.Context, h registry.Hash) (TxStatus, error) {
	for {
		left, release, pending := n.Mempool.Leaving(h)
		if pending {
			// A transaction leaves the mempool after its block is
			// saved, or when rejected: then left is closed.
			select {
			case <-ctx.Done():
				release()
				return TxStatus{Hash: h, Status: TxPending}, nil
			case <-left:
				release()
				continue
			}
		}
		s, err := n.Status(h)
		if err != nil || s.Status != TxPending {
			return s, err
		}
		// Pending, though not when Leaving looked: added in between
		// (submitted again after a rejection); wait on it now.
	}
}

// previousBlockTime returns the header time of the block before the one
// at height: the last one Committed saw, or, for the first block since
// the node started, the stored one (zero at height 1 or if unreadable).
func (n *Node) previousBlockTime(height uint64) time.Time {
	n.mu.Lock()
	t := n.lastBlockTime
	n.mu.Unlock()
	if !t.IsZero() || height <= 1 {
		return t
	}
	b, err := n.Chain.Store().Block(height - 1)
	if err != nil {
		return time.Time{}
	}
	return b.Header.Time
}

type metrics struct {
	submitted, rejected, blocks, txs prometheus.Counter
	height                           prometheus.Gauge
	jailed                           prometheus.Counter
	blockBytes, blockInterval        prometheus.Histogram
}

func newMetrics(r prometheus.Registerer, n *Node) (*metrics, error) {
	m := &metrics{
		submitted: prometheus.NewCounter(prometheus.CounterOpts{Name: "idmesh_txs_submitted_total", Help: "Transactions accepted into the mempool."}),
		rejected:  prometheus.NewCounter(prometheus.CounterOpts{Name: "idmesh_txs_rejected_total", Help: "Transactions rejected at submission."}),
		blocks:    prometheus.NewCounter(prometheus.CounterOpts{Name: "idmesh_blocks_committed_total", Help: "Blocks committed."}),
		txs:       prometheus.NewCounter(prometheus.CounterOpts{Name: "idmesh_txs_committed_total", Help: "Transactions committed successfully."}),
		height:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "idmesh_chain_height", Help: "Height of the last committed block."}),
		jailed:    prometheus.NewCounter(prometheus.CounterOpts{Name: "idmesh_validators_jailed_total", Help: "Validators jailed by committed evidence (removed, or kept when removal would leave no validator) since the node started."}),
		blockBytes: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "idmesh_block_bytes", Help: "Encoded size of each committed block (its last commit included).",
			Buckets: prometheus.ExponentialBuckets(256, 4, 10)}),
		blockInterval: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "idmesh_block_interval_seconds", Help: "Difference of the header times of consecutive committed blocks.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14)}),
	}
	if r == nil {
		return m, nil
	}
	pending := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "idmesh_mempool_txs", Help: "Transactions waiting for a block."}, func() float64 { return float64(n.Mempool.Len()) })
	pendingBytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "idmesh_mempool_bytes", Help: "Payload bytes of the transactions waiting for a block (what the mempool's byte bound counts)."},
		func() float64 { return float64(n.Mempool.Bytes()) })
	decoded := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "idmesh_operations_decoded_total", Help: "did:idmesh operations decoded (what the decoded-operation cache could not answer): once per submitted operation when it was sent in canonical form."},
		func() float64 { return float64(n.Chain.OperationDecodes()) })
	prepared := func(name, help string, f func(PrepareStats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f(n.PrepareStats())) })
	}
	prepBatches := prepared("idmesh_submit_prepare_batches_total", "Batches in which submissions had their signatures verified together before their checks.",
		func(s PrepareStats) uint64 { return s.Batches })
	prepTxs := prepared("idmesh_submit_prepared_txs_total", "Submissions prepared in those batches.",
		func(s PrepareStats) uint64 { return s.Txs })
	prepAlone := prepared("idmesh_submit_prepared_alone_total", "Batches of a single submission (no other arrived while the one before ran).",
		func(s PrepareStats) uint64 { return s.Alone })
	for _, c := range []prometheus.Collector{m.submitted, m.rejected, m.blocks, m.txs, m.height, m.jailed, pending, pendingBytes, decoded, m.blockBytes, m.blockInterval, prepBatches, prepTxs, prepAlone} {
		if err := r.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	m.height.Set(float64(n.Chain.State().Height))
	return m, nil
}

// State returns the chain's tip.
func (n *Node) State() registry.ChainState { return n.Chain.State() }

// Block returns the committed block at height.
func (n *Node) Block(height uint64) (*registry.Block, error) { return n.Chain.Store().Block(height) }

// Commit returns the commit of the block at height.
func (n *Node) Commit(height uint64) (*registry.Commit, error) { return n.Chain.Store().Commit(height) }

// ProveKey reads a state key with a proof against the tip's state root
// (see registry.Chain.ProveKey).
func (n *Node) ProveKey(key []byte) ([]byte, smt.Proof, uint64, registry.Hash, error) {
	return n.Chain.ProveKey(key)
}

// ProveKeyAt reads a state key with a proof against the state root of the
// header at height (see registry.Chain.ProveKeyAt); registry.ErrPruned if
// that version was pruned.
func (n *Node) ProveKeyAt(key []byte, height uint64) ([]byte, *smt.Hash, smt.Proof, registry.Hash, error) {
	return n.Chain.ProveKeyAt(key, height)
}
