package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/idmesh/idmesh/registry/smt"
)

// ErrPruned reports a read of a state-tree version (the state root of a
// past height) that pruning has dropped.
var ErrPruned = errors.New("state version pruned")

// DefaultStateRetention is how long a node keeps past versions of the
// state tree by default: the versions of the blocks of the last 24 hours
// of block time.
const DefaultStateRetention = 24 * time.Hour

// MinRetainedVersions is how many of the latest versions (heights, the
// tip's included) a Pruner keeps whatever the block times and the
// retention say: a block time far ahead (one proposer's wrong clock) or a
// retention shorter than a few block intervals never drops them, so a
// proof of the tip or of the few heights before it never loses its tree
// while it is read.
const MinRetainedVersions = 100

// DefaultPruneBatch is how many journal entries (stale nodes) one prune
// batch handles: one LevelDB batch, a few milliseconds during which
// commits wait.
const DefaultPruneBatch = 10_000

// PruneStats counts what pruning deleted.
type PruneStats struct {
	// Versions is the number of state-tree versions (heights) dropped.
	Versions uint64
	// Nodes is the number of tree nodes deleted.
	Nodes uint64
	// Bytes is the size of the keys and values deleted: nodes, their
	// journal entries and the version index.
	Bytes uint64
}

// Add returns s plus o.
func (s PruneStats) Add(o PruneStats) PruneStats {
	return PruneStats{Versions: s.Versions + o.Versions, Nodes: s.Nodes + o.Nodes, Bytes: s.Bytes + o.Bytes}
}

// VersionStore is a Store that keeps a journal of the nodes each version
// of the state tree dropped, so that old versions can be pruned.
// registry/leveldb implements it.
type VersionStore interface {
	// PruneFloor returns the lowest retained version: the trees of the
	// heights below it may have lost nodes. 0 means nothing is pruned.
	PruneFloor() uint64
	// FirstVersionSince returns the lowest retained height whose block
	// time is t or later; ok is false if there is none.
	FirstVersionSince(t time.Time) (height uint64, ok bool, err error)
	// JournalStale makes the store journal the stale nodes of the blocks
	// it saves from now on, which only pruning needs (it costs about 45
	// bytes per replaced node until it is pruned). Blocks saved without
	// it are never pruned, which is safe: a node is only ever deleted
	// through the journal.
	JournalStale()
	// PruneStep raises the floor to floor (it never lowers it) and then
	// deletes, in one batch, what at most max journal entries below the
	// floor name and no retained version needs. more reports that
	// entries below the floor remain.
	PruneStep(floor uint64, max int) (stats PruneStats, more bool, err error)
}

// Pruner drops the versions of the state tree older than a retention
// window, in the background, in bounded batches. The window is measured
// in block time, from the earlier of the tip's block time and the node's
// own clock (a proposer's clock ahead of the node's cannot move it): the
// versions of every block whose header time is at most Retention before
// that are kept, and the latest MinVersions versions always. A version is
// a height: its root is the state root in that block's header.
type Pruner struct {
	// Chain gives the tip.
	Chain *Chain
	// Store is the chain's store.
	Store VersionStore
	// Retention is the window; it must be positive.
	Retention time.Duration
	// MinVersions is the number of latest versions always kept, the
	// tip's included (at least 1); NewPruner sets MinRetainedVersions.
	MinVersions uint64
	// Now is the node's clock; default time.Now.
	Now func() time.Time
	// Batch is the number of journal entries per batch; default
	// DefaultPruneBatch.
	Batch int
	// Log receives a line per batch (debug) and failures; default none.
	Log *slog.Logger
	// Observe, if set, is called after each batch with what it deleted
	// and the floor (for metrics).
	Observe func(s PruneStats, floor uint64)

	wake chan struct{}
}

// NewPruner returns a pruner for c's store, which must be a
// VersionStore, and makes the store journal stale nodes from now on.
func NewPruner(c *Chain, retention time.Duration) (*Pruner, error) {
	vs, ok := c.Store().(VersionStore)
	if !ok {
		return nil, errors.New("prune: the store keeps no journal of stale nodes")
	}
	if retention <= 0 {
		return nil, fmt.Errorf("prune: retention %s is not positive", retention)
	}
	vs.JournalStale()
	return &Pruner{Chain: c, Store: vs, Retention: retention, MinVersions: MinRetainedVersions, wake: make(chan struct{}, 1)}, nil
}

// Notify wakes Run (after a commit); it never blocks.
func (p *Pruner) Notify() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Floor returns the floor the window gives at the current tip: the
// first height whose block time is at most Retention before the earlier
// of the tip's block time and Now, and never above the first of the
// latest MinVersions heights.
func (p *Pruner) Floor() (uint64, error) {
	st := p.Chain.State()
	ref := st.LastBlockTime
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	if t := now(); t.Before(ref) {
		ref = t // a block time ahead of this node's clock does not count
	}
	h, ok, err := p.Store.FirstVersionSince(ref.Add(-p.Retention))
	if err != nil {
		return 0, fmt.Errorf("prune: %w", err)
	}
	if !ok || h > st.Height {
		h = st.Height
	}
	keep := max(p.MinVersions, 1)
	if st.Height+1 < keep {
		return 0, nil
	}
	return min(h, st.Height+1-keep), nil
}

// Prune runs up to maxBatches batches (all that are needed if maxBatches
// is 0 or less) towards the floor of the current tip, and reports what
// they deleted and whether work remains. It stops early, without error,
// when ctx ends.
func (p *Pruner) Prune(ctx context.Context, maxBatches int) (PruneStats, bool, error) {
	floor, err := p.Floor()
	if err != nil {
		return PruneStats{}, false, err
	}
	batch := p.Batch
	if batch <= 0 {
		batch = DefaultPruneBatch
	}
	var total PruneStats
	for n := 0; maxBatches <= 0 || n < maxBatches; n++ {
		if ctx.Err() != nil {
			return total, true, nil
		}
		s, more, err := p.Store.PruneStep(floor, batch)
		if err != nil {
			return total, true, fmt.Errorf("prune below %d: %w", floor, err)
		}
		total = total.Add(s)
		if p.Log != nil && (s != PruneStats{}) {
			p.Log.DebugContext(ctx, "prune batch", "floor", floor, "versions", s.Versions, "nodes", s.Nodes, "bytes", s.Bytes, "more", more)
		}
		if p.Observe != nil {
			p.Observe(s, floor)
		}
		if !more {
			return total, false, nil
		}
	}
	return total, true, nil
}

// Run prunes at once (resuming whatever a crash interrupted), then after
// every Notify, until ctx ends. Between batches it yields, so commits
// never wait for more than one batch.
func (p *Pruner) Run(ctx context.Context) error {
	for {
		for {
			_, more, err := p.Prune(ctx, 1)
			if err != nil {
				if p.Log != nil {
					p.Log.ErrorContext(ctx, "prune", "err", err)
				}
				break // try again at the next commit
			}
			if !more || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.wake:
		}
	}
}

// ProveKeyAt returns a proof of key against the state root of the header
// at height (0: the genesis state). value is the key's value when the
// node still holds it (the current value, if it is the one the proof
// names), else nil; valueHash is the value hash the proof names, nil if
// the key was absent. It fails with ErrPruned if that version was
// pruned, and ErrNotFound if there is no such height yet.
func (c *Chain) ProveKeyAt(key []byte, height uint64) (value []byte, valueHash *smt.Hash, proof smt.Proof, root Hash, err error) {
	if tip := c.State().Height; height > tip {
		return nil, nil, smt.Proof{}, Hash{}, fmt.Errorf("prove at height %d: the tip is %d: %w", height, tip, ErrNotFound)
	}
	vs, _ := c.store.(VersionStore)
	pruned := func() bool { return vs != nil && height < vs.PruneFloor() }
	if pruned() {
		return nil, nil, smt.Proof{}, Hash{}, fmt.Errorf("prove at height %d: %w (retained from %d)", height, ErrPruned, vs.PruneFloor())
	}
	if height == 0 {
		g, err := c.store.Genesis()
		if err != nil {
			return nil, nil, smt.Proof{}, Hash{}, err
		}
		st, err := g.State()
		if err != nil {
			return nil, nil, smt.Proof{}, Hash{}, err
		}
		root = st.StateRoot
	} else {
		b, err := c.store.Block(height)
		if err != nil {
			return nil, nil, smt.Proof{}, Hash{}, err
		}
		root = b.Header.StateRoot
	}
	tk := smt.Hash(Sum(key))
	proof, err = smt.Prove(c.store, smt.Hash(root), tk)
	var vh smt.Hash
	var ok bool
	if err == nil {
		vh, ok, err = smt.Get(c.store, smt.Hash(root), tk)
	}
	if err != nil {
		// The floor may have passed height while the tree was read.
		if errors.Is(err, smt.ErrMissingNode) && pruned() {
			return nil, nil, smt.Proof{}, Hash{}, fmt.Errorf("prove at height %d: %w (retained from %d)", height, ErrPruned, vs.PruneFloor())
		}
		return nil, nil, smt.Proof{}, Hash{}, err
	}
	if !ok {
		return nil, nil, proof, root, nil
	}
	v, err := c.store.Get(key)
	switch {
	case errors.Is(err, ErrNotFound):
		v = nil
	case err != nil:
		return nil, nil, smt.Proof{}, Hash{}, err
	case smt.Hash(Sum(v)) != vh:
		v = nil // changed since: the node no longer holds that value
	}
	return v, &vh, proof, root, nil
}
