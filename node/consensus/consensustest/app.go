package consensustest

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/idmesh/idmesh/node/consensus"
)

// ErrRejected is what App.ValidateBlock returns for a block that does not
// extend the node's chain or that is marked invalid.
var ErrRejected = errors.New("block rejected")

// invalidMark starts the payload of the transaction that MarkInvalid adds:
// every App rejects a block carrying it.
var invalidMark = []byte("consensustest/invalid\x00")

// Genesis is the time of the simulated chain's first tick.
var Genesis = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// AppConfig configures an App.
type AppConfig struct {
	ChainID string
	// Validators returns the validator set of a height (fixed, or changed
	// at a given height).
	Validators func(height uint64) *consensus.ValidatorSet
	// Self is the address written as the proposer of the blocks built.
	Self consensus.Address
	// Now is the simulated clock; nil means Genesis.
	Now func() time.Time
	// Rand draws the transaction payloads; nil means a fixed seed.
	Rand *rand.Rand
	// Verify checks signatures (consensus.Config.Verify); nil means
	// ed25519.Verify.
	Verify func(pub ed25519.PublicKey, msg, sig []byte) bool
}

// App is a node's fake application: a chain of decided blocks with their
// commits. It builds real Blocks and checks that proposals link
// to its own chain.
type App struct {
	cfg     AppConfig
	blocks  []*Block
	commits []*consensus.Commit
}

// NewApp returns an App with an empty chain.
func NewApp(cfg AppConfig) *App {
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return Genesis }
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.New(rand.NewPCG(1, 2))
	}
	if cfg.Verify == nil {
		cfg.Verify = ed25519.Verify
	}
	return &App{cfg: cfg}
}

// Height returns the height of the last decided block (0 if none).
func (a *App) Height() uint64 { return uint64(len(a.blocks)) }

// Last returns the last decided block and its commit (nil if none).
func (a *App) Last() (*Block, *consensus.Commit) {
	if len(a.blocks) == 0 {
		return nil, nil
	}
	return a.blocks[len(a.blocks)-1], a.commits[len(a.commits)-1]
}

// Validators returns the validator set of height.
func (a *App) Validators(height uint64) (*consensus.ValidatorSet, error) {
	return a.cfg.Validators(height), nil
}

// ProposeBlock builds a block for height on top of the node's chain with
// a few random DID-operation transactions.
func (a *App) ProposeBlock(height uint64, round int32, lastCommit *consensus.Commit) (*Block, error) {
	if height != a.Height()+1 {
		return nil, fmt.Errorf("propose block %d: chain is at %d", height, a.Height())
	}
	now := a.cfg.Now()
	var lastID consensus.Hash
	if prev, _ := a.Last(); prev != nil {
		lastID = prev.ID()
		if !now.After(prev.Header.Time) {
			now = prev.Header.Time.Add(time.Millisecond)
		}
	} else {
		lastCommit = nil
	}
	rng := a.cfg.Rand
	txs := make([][]byte, 1+rng.IntN(3))
	for i := range txs {
		p := make([]byte, 8+rng.IntN(24))
		for j := range p {
			p[j] = byte(rng.Uint32())
		}
		txs[i] = p
	}
	b := &Block{
		Header: Header{
			ChainID:            a.cfg.ChainID,
			Height:             height,
			Time:               now,
			LastBlockID:        lastID,
			LastCommitHash:     lastCommit.Hash(),
			ValidatorsHash:     a.cfg.Validators(height).Hash(),
			NextValidatorsHash: a.cfg.Validators(height + 1).Hash(),
			StateRoot:          consensus.Sum(fmt.Appendf(nil, "state %d %d", height, round)),
			Proposer:           a.cfg.Self,
		},
		Txs:        txs,
		LastCommit: lastCommit,
	}
	b.Header.TxRoot = TxRoot(b.Txs)
	return b, nil
}

// ValidateBlock checks that b extends this node's chain: height, time,
// previous block ID, a last commit that VerifyCommit accepts for it,
// transaction root and validator hashes; and that b is not marked invalid.
func (a *App) ValidateBlock(b *Block) error {
	if err := b.ValidateBasic(); err != nil {
		return fmt.Errorf("%w: %w", ErrRejected, err)
	}
	h := &b.Header
	switch {
	case h.ChainID != a.cfg.ChainID:
		return fmt.Errorf("%w: chain %q", ErrRejected, h.ChainID)
	case h.Height != a.Height()+1:
		return fmt.Errorf("%w: height %d on a chain at %d", ErrRejected, h.Height, a.Height())
	case h.ValidatorsHash != a.cfg.Validators(h.Height).Hash() || h.NextValidatorsHash != a.cfg.Validators(h.Height+1).Hash():
		return fmt.Errorf("%w: validators hash", ErrRejected)
	}
	if _, ok := a.cfg.Validators(h.Height).ByAddress(h.Proposer); !ok {
		return fmt.Errorf("%w: proposer %s is not a validator", ErrRejected, h.Proposer)
	}
	if prev, _ := a.Last(); prev != nil {
		if h.LastBlockID != prev.ID() {
			return fmt.Errorf("%w: last block %s, want %s", ErrRejected, h.LastBlockID, prev.ID())
		}
		if !h.Time.After(prev.Header.Time) {
			return fmt.Errorf("%w: time %v not after %v", ErrRejected, h.Time, prev.Header.Time)
		}
		if err := consensus.VerifyCommitWith(a.cfg.Verify, h.ChainID, a.cfg.Validators(h.Height-1), h.Height-1, prev.ID(), b.LastCommit); err != nil {
			return fmt.Errorf("%w: last commit: %w", ErrRejected, err)
		}
	}
	if IsMarkedInvalid(b) {
		return fmt.Errorf("%w: marked invalid", ErrRejected)
	}
	return nil
}

// Decided returns the decided block of height and its commit.
func (a *App) Decided(height uint64) (*Block, *consensus.Commit, bool) {
	if height == 0 || height > a.Height() {
		return nil, nil, false
	}
	return a.blocks[height-1], a.commits[height-1], true
}

// Commit appends a decided block: it must be the next height, its commit
// must pass VerifyCommit, and it must link to the chain.
func (a *App) Commit(d Decided) error {
	b := d.Block
	if b.Header.Height != a.Height()+1 {
		return fmt.Errorf("commit block %d: chain is at %d", b.Header.Height, a.Height())
	}
	if err := consensus.VerifyCommitWith(a.cfg.Verify, a.cfg.ChainID, a.cfg.Validators(b.Header.Height), b.Header.Height, b.ID(), d.Commit); err != nil {
		return fmt.Errorf("commit block %d: %w", b.Header.Height, err)
	}
	if err := a.ValidateBlock(b); err != nil {
		return fmt.Errorf("commit block %d: %w", b.Header.Height, err)
	}
	a.blocks = append(a.blocks, b)
	a.commits = append(a.commits, d.Commit)
	return nil
}

// MarkInvalid returns a copy of b with a transaction that every App
// rejects, and a matching transaction root: a block that is well formed
// but invalid.
func MarkInvalid(b *Block) *Block {
	c := *b
	c.Txs = append(slices.Clone(b.Txs), append(slices.Clone(invalidMark), byte(len(b.Txs))))
	c.Header.TxRoot = TxRoot(c.Txs)
	return &c
}

// IsMarkedInvalid reports whether b carries MarkInvalid's transaction.
func IsMarkedInvalid(b *Block) bool {
	for _, t := range b.Txs {
		if bytes.HasPrefix(t, invalidMark) {
			return true
		}
	}
	return false
}

// Variant returns a copy of b with one more random transaction: another
// valid block for the same height and round, as an equivocating
// proposer signs.
func Variant(b *Block, rng *rand.Rand) *Block {
	c := *b
	p := make([]byte, 16)
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	c.Txs = append(slices.Clone(b.Txs), p)
	c.Header.TxRoot = TxRoot(c.Txs)
	return &c
}
