package registry

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/idmesh/idmesh/registry/smt"
)

// Chain applies blocks to a Store through a Machine. It is what a block
// producer drives: Propose builds the next block from candidate
// transactions, Verify checks a block built elsewhere by re-executing it,
// and Commit saves a block together with a commit proving it final.
//
// Propose, Verify and Commit are called by one goroutine (the consensus
// driver); State and CheckTx may be called from any goroutine.
type Chain struct {
	store    Store
	m        *Machine
	maxBytes int // the genesis block byte limit

	mu    sync.RWMutex
	state ChainState
	execs map[Hash]*Execution // executions of blocks not yet committed
	// writes holds the keys written by recent blocks (WrittenSince).
	writes writeLog
	// reads caches the reads of the tip's state (tipReads); replaced
	// after every commit.
	reads *tipReads
}

// OpenChain records g in store if it is new and loads the chain's tip.
func OpenChain(store Store, g *Genesis, m *Machine) (*Chain, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if err := store.SaveGenesis(g); err != nil {
		return nil, err
	}
	st, ok, err := store.State()
	if err != nil {
		return nil, fmt.Errorf("open chain: %w", err)
	}
	if !ok {
		return nil, errors.New("open chain: store has no chain state")
	}
	if st.ChainID != g.ChainID {
		return nil, fmt.Errorf("open chain: store is chain %q, genesis is %q", st.ChainID, g.ChainID)
	}
	return &Chain{store: store, m: m, maxBytes: g.BlockBytes(), state: st, execs: make(map[Hash]*Execution), reads: newTipReads()}, nil
}

// State returns the chain state after the last committed block.
func (c *Chain) State() ChainState {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.state
}

// MaxBlockBytes returns the chain's block byte limit (genesis
// max_block_bytes): the bound on every block's ProposalBytes.
func (c *Chain) MaxBlockBytes() int { return c.maxBytes }

// MaxTxBytes returns the largest encoded transaction that can fit in a
// block of this chain (MaxTxBytesFor of its limit); CheckTx refuses
// larger ones.
func (c *Chain) MaxTxBytes() int { return MaxTxBytesFor(c.maxBytes) }

// TxRoom returns the bytes left for transactions (each counted as
// TxBlockBytes) in a block carrying lastCommit.
func (c *Chain) TxRoom(lastCommit *Commit) int {
	return c.maxBytes - EmptyProposalBytes(c.State().ChainID, lastCommit)
}

// Store returns the underlying store, for reads.
func (c *Chain) Store() Store { return c.store }

// nextContext returns the transaction context of the next block.
func (c *Chain) nextContext(st ChainState, t time.Time) TxContext {
	return TxContext{ChainID: st.ChainID, Height: st.Height + 1, Time: t.UTC(), Validators: st.Validators, NextValidators: st.NextValidators}
}

// CheckTx runs t against the committed state as if it were the next
// block's only transaction at time now, and discards the result. A
// transaction that can never fit in a block fails with
// ErrTxTooLargeForBlock (code CodeInvalid).
func (c *Chain) CheckTx(t Tx, now time.Time) error {
	if n, limit := t.Size(), c.MaxTxBytes(); n > limit {
		return Reject(CodeInvalid, fmt.Errorf("%w: %d bytes encoded, at most %d fit in a block of max_block_bytes %d", ErrTxTooLargeForBlock, n, limit, c.maxBytes))
	}
	st, r := c.tip()
	return c.m.checkDiscard(c.nextContext(st, c.blockTime(st, now)), NewOverlay(r), t)
}

// blockTime keeps block times strictly increasing whatever the clock says.
func (c *Chain) blockTime(st ChainState, now time.Time) time.Time {
	now = now.UTC().Round(0)
	if min := st.LastBlockTime.Add(time.Millisecond); now.Before(min) {
		return min
	}
	return now.Truncate(time.Millisecond)
}

// Rejected is a candidate transaction that Propose left out, and why.
type Rejected struct {
	Tx  Tx
	Err error
}

// Propose builds the next block from candidates at time now: each is
// checked in order on top of the ones before it, and those that fail are
// left out and returned. Candidates that would take the block over its
// byte limit (MaxBlockBytes, counted by ProposalBytes) are left out too,
// but not returned, as a later block may hold them, unless they can
// never fit (ErrTxTooLargeForBlock). The block's header carries the
// roots after applying the kept transactions. lastCommit must be the
// commit of the current tip (nil at height 1).
func (c *Chain) Propose(candidates []Tx, now time.Time, proposer Address, lastCommit *Commit) (*Block, []Rejected, error) {
	st, r := c.tip()
	ctx := c.nextContext(st, c.blockTime(st, now))
	ov := NewOverlay(r)
	var kept []Tx
	var rejected []Rejected
	room, maxTx := c.maxBytes-EmptyProposalBytes(st.ChainID, lastCommit), c.MaxTxBytes()
	for _, t := range candidates {
		if len(kept) == MaxBlockTxs {
			break
		}
		if n := t.Size(); n > maxTx {
			rejected = append(rejected, Rejected{Tx: t, Err: Reject(CodeInvalid, fmt.Errorf("%w: %d bytes encoded, at most %d", ErrTxTooLargeForBlock, n, maxTx))})
			continue
		}
		size := TxBlockBytes(t)
		if size > room {
			continue
		}
		if err := c.m.Check(ctx, ov, t); err != nil {
			if ov.readErr != nil {
				return nil, nil, fmt.Errorf("propose: %w", ov.readErr)
			}
			rejected = append(rejected, Rejected{Tx: t, Err: err})
			continue
		}
		kept = append(kept, t)
		room -= size
	}
	// The checks above already ran the kept transactions in order on ov,
	// each successfully: their writes are the block's.
	ex := &Execution{Results: make([]Result, len(kept))}
	if err := c.m.finish(c.store, st.StateRoot, ov, ex); err != nil {
		return nil, nil, fmt.Errorf("propose: %w", err)
	}
	b := &Block{
		Header: Header{
			ChainID:            st.ChainID,
			Height:             ctx.Height,
			Time:               ctx.Time,
			LastBlockID:        st.LastBlockID,
			LastCommitHash:     lastCommit.Hash(),
			StateRoot:          ex.StateRoot,
			ValidatorsHash:     st.Validators.Hash(),
			NextValidatorsHash: st.NextValidators.Hash(),
			Proposer:           proposer,
		},
		Txs:        kept,
		LastCommit: lastCommit,
	}
	hs := b.TxHashes()
	b.Header.TxRoot = MerkleRoot(hs)
	if err := checkBlockBytes(b, c.maxBytes); err != nil {
		// Broken invariant: the loop above keeps the block in bounds.
		return nil, nil, fmt.Errorf("propose: %w", err)
	}
	b.encodeOnce() // for the proposal's message and SaveBlock
	c.remember(b.ID(), ex)
	return b, rejected, nil
}

func (c *Chain) remember(id Hash, ex *Execution) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.execs) > 64 {
		clear(c.execs)
	}
	c.execs[id] = ex
}

// Verify checks that b can extend the chain: structure, byte size
// (ProposalBytes within MaxBlockBytes, else ErrBlockTooLarge), chain ID, height,
// link to the tip, time, validator hashes, proposer, the last commit, and
// by re-executing its transactions, the state root.
func (c *Chain) Verify(b *Block) error {
	_, err := c.verify(b)
	return err
}

func (c *Chain) verify(b *Block) (*Execution, error) {
	if err := b.ValidateBasic(); err != nil {
		return nil, err
	}
	if err := checkBlockBytes(b, c.maxBytes); err != nil {
		return nil, err
	}
	st, r := c.tip()
	h := &b.Header
	switch {
	case h.ChainID != st.ChainID:
		return nil, fmt.Errorf("%w: chain %q, want %q", ErrInvalidBlock, h.ChainID, st.ChainID)
	case h.Height != st.Height+1:
		return nil, fmt.Errorf("%w: height %d, want %d", ErrInvalidBlock, h.Height, st.Height+1)
	case h.LastBlockID != st.LastBlockID:
		return nil, fmt.Errorf("%w: previous block %s, want %s", ErrInvalidBlock, h.LastBlockID, st.LastBlockID)
	case !h.Time.After(st.LastBlockTime):
		return nil, fmt.Errorf("%w: time %s not after %s", ErrInvalidBlock, h.Time, st.LastBlockTime)
	case h.ValidatorsHash != st.Validators.Hash() || h.NextValidatorsHash != st.NextValidators.Hash():
		return nil, fmt.Errorf("%w: validator set hash mismatch", ErrInvalidBlock)
	}
	if _, ok := st.Validators.ByAddress(h.Proposer); !ok {
		return nil, fmt.Errorf("%w: proposer %s is not a validator", ErrInvalidBlock, h.Proposer)
	}
	if h.Height > 1 {
		if err := VerifyCommit(st.ChainID, st.LastValidators, h.Height-1, h.LastBlockID, b.LastCommit); err != nil {
			return nil, fmt.Errorf("%w: last commit: %w", ErrInvalidBlock, err)
		}
	}
	id := b.ID()
	c.mu.RLock()
	ex := c.execs[id]
	c.mu.RUnlock()
	if ex == nil {
		var err error
		ex, err = c.m.Execute(r, st.StateRoot, c.nextContext(st, h.Time), b.Txs)
		if err != nil {
			return nil, err
		}
		c.remember(id, ex)
	}
	if ex.StateRoot != h.StateRoot {
		return nil, fmt.Errorf("%w: state root %s, re-execution gives %s", ErrInvalidBlock, h.StateRoot, ex.StateRoot)
	}
	return ex, nil
}

// Commit verifies b and commit and saves them atomically, and returns
// the transactions' results. After Commit returns, State reflects b.
func (c *Chain) Commit(b *Block, commit *Commit) ([]Result, error) {
	ex, err := c.verify(b)
	if err != nil {
		return nil, fmt.Errorf("commit block %d: %w", b.Header.Height, err)
	}
	st := c.State()
	if err := VerifyCommit(st.ChainID, st.Validators, b.Header.Height, b.ID(), commit); err != nil {
		return nil, fmt.Errorf("commit block %d: %w", b.Header.Height, err)
	}
	next := st
	next.Height = b.Header.Height
	next.LastBlockID = b.ID()
	next.LastBlockTime = b.Header.Time
	next.StateRoot = ex.StateRoot
	next.LastValidators = st.Validators
	next.Validators = st.NextValidators
	// A validator-set change in block H decides heights from H+2 on.
	scheduled, err := nextValidators(ex.Writes)
	if err != nil {
		return nil, fmt.Errorf("commit block %d: %w", b.Header.Height, err)
	}
	if scheduled != nil {
		next.NextValidators = scheduled
	}
	// From here the store may hold the next block: checks on other
	// goroutines stop using this tip's reads (see tipReads).
	c.mu.RLock()
	c.reads.closed.Store(true)
	c.mu.RUnlock()
	if err := c.store.SaveBlock(&BlockUpdate{Block: b, Encoded: b.Encoding(), Commit: commit, Results: ex.Results, Writes: ex.Writes, Nodes: ex.Nodes, Stale: ex.Stale, State: next}); err != nil {
		c.mu.Lock()
		c.reads = newTipReads() // the store may or may not hold the block: read it again
		c.mu.Unlock()
		return nil, err
	}
	c.mu.Lock()
	c.state = next
	// After the block is saved: see tipReads.
	c.reads = newTipReads()
	clear(c.execs)
	c.writes.add(next.Height, ex.Writes)
	c.mu.Unlock()
	c.m.committed(b.Txs)
	return ex.Results, nil
}

// ProveKey reads a state key with a proof of its value (nil if absent)
// against the state root of the tip, and returns the height whose header
// carries that root. It retries if a block lands between the proof and
// the read, so the value always matches the proof and the height, and if
// pruning drops the root it walks once a new tip has replaced it.
func (c *Chain) ProveKey(key []byte) ([]byte, smt.Proof, uint64, Hash, error) {
	tk := smt.Hash(Sum(key))
	for range 8 {
		st := c.State()
		p, err := smt.Prove(c.store, smt.Hash(st.StateRoot), tk)
		if errors.Is(err, smt.ErrMissingNode) && c.State().Height != st.Height {
			continue // pruning dropped that root under the walk: prove at the new tip
		}
		if err != nil {
			return nil, smt.Proof{}, 0, Hash{}, err
		}
		v, err := c.store.Get(key)
		var vh *smt.Hash
		switch {
		case errors.Is(err, ErrNotFound):
			v = nil
		case err != nil:
			return nil, smt.Proof{}, 0, Hash{}, err
		default:
			h := smt.Hash(Sum(v))
			vh = &h
		}
		if p.Verify(smt.Hash(st.StateRoot), tk, vh) == nil {
			return v, p, st.Height, st.StateRoot, nil
		}
		// A block committed between the proof and the read: try again.
	}
	return nil, smt.Proof{}, 0, Hash{}, errors.New("prove: the state keeps changing or does not match its root")
}
