package snapshot

import (
	"fmt"

	"github.com/idmesh/idmesh/registry"
)

// SignedHeader is a header with a commit of its block and, when the
// validator set deciding its height differs from the previous height's,
// that set.
type SignedHeader struct {
	// Header is the block header.
	Header registry.Header
	// Commit commits the header's block ID: the block's seen commit, or
	// the LastCommit of the next block.
	Commit *registry.Commit
	// Validators is the set deciding this height; nil means the set of
	// the previous height (the genesis set at height 1). It must be the
	// set the previous header names as next.
	Validators *registry.ValidatorSet
}

// Trusted is what a verified header chain establishes: the header of the
// target height, its commit, and the validator sets deciding that height
// and the next.
type Trusted struct {
	// Header is the target header; its StateRoot is the trusted root.
	Header registry.Header
	// Commit is the verified commit of Header.
	Commit *registry.Commit
	// Validators decided Header's height.
	Validators *registry.ValidatorSet
	// NextValidators decide the next height (Header names their hash).
	NextValidators *registry.ValidatorSet
}

// VerifyHeaders checks a chain of headers from height 1 up, trusting
// nothing but the genesis g: each header extends the one before (chain
// ID, height, previous block ID, later time), is decided by the set the
// previous header named as next (the genesis set at height 1), and is
// committed by more than two thirds of that set's voting power
// (registry.VerifyCommit, the check blocks get). next must be the set the
// last header names as next. It returns the last header as trusted; its
// state root is the root a snapshot of that height is verified against.
// Errors wrap ErrUntrustedHeader and, for a commit, the reason
// (registry.ErrInvalidBlock, registry.ErrInsufficientPower).
func VerifyHeaders(g *registry.Genesis, chain []SignedHeader, next *registry.ValidatorSet) (*Trusted, error) {
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("verify headers: %w: %w", ErrUntrustedHeader, err)
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("verify headers: no headers: %w", ErrUntrustedHeader)
	}
	vs, err := g.ValidatorSet()
	if err != nil {
		return nil, fmt.Errorf("verify headers: %w: %w", ErrUntrustedHeader, err)
	}
	want := vs.Hash() // the hash of the set deciding the next height
	var prevID registry.Hash
	prevTime := g.GenesisTime
	for i := range chain {
		s := &chain[i]
		h := &s.Header
		height := uint64(i) + 1
		switch {
		case h.ChainID != g.ChainID:
			return nil, fmt.Errorf("verify header %d: chain %q, want %q: %w", height, h.ChainID, g.ChainID, ErrUntrustedHeader)
		case h.Height != height:
			return nil, fmt.Errorf("verify header %d: height %d: %w", height, h.Height, ErrUntrustedHeader)
		case h.LastBlockID != prevID:
			return nil, fmt.Errorf("verify header %d: previous block %s, want %s: %w", height, h.LastBlockID, prevID, ErrUntrustedHeader)
		case !h.Time.After(prevTime):
			return nil, fmt.Errorf("verify header %d: time %s not after %s: %w", height, h.Time, prevTime, ErrUntrustedHeader)
		}
		if s.Validators != nil {
			if err := s.Validators.Validate(); err != nil {
				return nil, fmt.Errorf("verify header %d: %w: %w", height, ErrUntrustedHeader, err)
			}
			vs = s.Validators
		}
		if got := vs.Hash(); got != want || h.ValidatorsHash != want {
			return nil, fmt.Errorf("verify header %d: validator set %s, header says %s, the previous header named %s: %w", height, got, h.ValidatorsHash, want, ErrUntrustedHeader)
		}
		id := h.ID()
		if err := registry.VerifyCommit(g.ChainID, vs, height, id, s.Commit); err != nil {
			return nil, fmt.Errorf("verify header %d: %w: %w", height, ErrUntrustedHeader, err)
		}
		want, prevID, prevTime = h.NextValidatorsHash, id, h.Time
	}
	if next == nil {
		return nil, fmt.Errorf("verify headers: no next validator set: %w", ErrUntrustedHeader)
	}
	if err := next.Validate(); err != nil {
		return nil, fmt.Errorf("verify headers: next validators: %w: %w", ErrUntrustedHeader, err)
	}
	if next.Hash() != want {
		return nil, fmt.Errorf("verify headers: next validator set %s, the last header names %s: %w", next.Hash(), want, ErrUntrustedHeader)
	}
	last := chain[len(chain)-1]
	return &Trusted{Header: last.Header, Commit: last.Commit, Validators: vs, NextValidators: next}, nil
}
