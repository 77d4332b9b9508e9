package node

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/idmesh/idmesh/node/privval"
	"github.com/idmesh/idmesh/registry"
)

// Engine decides blocks and commits them to the chain. The interim
// single-validator Producer implements it; the BFT engine replaces it
// without touching the chain or its state machine.
type Engine interface {
	// Run decides and commits blocks until ctx ends.
	Run(ctx context.Context) error
}

// Producer is the single-validator engine: it batches pending
// transactions into a block, signs it, and commits it, at most once per
// interval and only when transactions are pending.
type Producer struct {
	Chain    *registry.Chain
	Mempool  *Mempool
	Signer   *privval.Signer
	Interval time.Duration    // minimum time between blocks; default 100ms
	MaxTxs   int              // per block; default 5,000
	Now      func() time.Time // clock; default time.Now
	Log      *slog.Logger
	// Committed is called after each block is saved.
	Committed func(b *registry.Block, results []registry.Result)
	// After is the timer used between blocks; default time.After.
	After func(time.Duration) <-chan time.Time
}

var _ Engine = (*Producer)(nil)

func (p *Producer) defaults() {
	if p.Interval <= 0 {
		p.Interval = 100 * time.Millisecond
	}
	if p.MaxTxs <= 0 {
		p.MaxTxs = 5000
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if p.After == nil {
		p.After = time.After
	}
}

// Run produces blocks until ctx ends. It first finishes a block it had
// signed but not saved before a crash.
func (p *Producer) Run(ctx context.Context) error {
	p.defaults()
	st := p.Chain.State()
	if _, ok := st.Validators.ByAddress(p.Signer.Address()); !ok || len(st.Validators.Validators) != 1 {
		return fmt.Errorf("producer: this node's key %s is not the chain's only validator", p.Signer.Address())
	}
	if err := p.recover(); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-p.Mempool.Wait():
		}
		if err := p.produce(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.After(p.Interval):
		}
	}
}

// recover commits the block the signer signed last if the chain lacks it.
func (p *Producer) recover() error {
	last := p.Signer.Last()
	st := p.Chain.State()
	if last.Height != st.Height+1 || last.Block == nil {
		return nil
	}
	b, err := registry.DecodeBlock(last.Block)
	if err != nil {
		return fmt.Errorf("producer: recover signed block: %w", err)
	}
	p.Log.Info("re-committing the block signed before a restart", "height", last.Height, "block", last.BlockID)
	return p.commit(b, last.Round)
}

func (p *Producer) produce() error {
	st := p.Chain.State()
	var lastCommit *registry.Commit
	if st.Height > 0 {
		c, err := p.Chain.Store().Commit(st.Height)
		if err != nil {
			return fmt.Errorf("producer: %w", err)
		}
		lastCommit = c
	}
	b, rejected, err := p.Chain.Propose(p.Mempool.Reap(p.MaxTxs), p.Now(), p.Signer.Address(), lastCommit)
	if err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	if len(rejected) > 0 {
		why := make(map[registry.Hash]string, len(rejected))
		for _, r := range rejected {
			why[r.Tx.Hash()] = r.Err.Error()
		}
		p.Mempool.Remove(nil, why)
	}
	if len(b.Txs) == 0 {
		return nil
	}
	return p.commit(b, 0)
}

func (p *Producer) commit(b *registry.Block, round uint32) error {
	st := p.Chain.State()
	id := b.ID()
	sig, err := p.Signer.SignPrecommit(st.ChainID, b.Header.Height, round, id, b.Encode())
	if err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	c := &registry.Commit{Height: b.Header.Height, Round: round, BlockID: id, Signatures: []registry.CommitSig{{Validator: p.Signer.Address(), Signature: sig}}}
	results, err := p.Chain.Commit(b, c)
	if err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	hashes := b.TxHashes()
	p.Mempool.Remove(hashes, nil)
	p.Log.Info("committed block", "height", b.Header.Height, "txs", len(b.Txs), "block", id)
	if p.Committed != nil {
		p.Committed(b, results)
	}
	return nil
}
