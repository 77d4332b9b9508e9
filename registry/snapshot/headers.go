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
// (registry.ErrInvalidBlock, registry.ErrInsufficientPower). It is a
// HeaderChain given the whole chain in one batch.
func VerifyHeaders(g *registry.Genesis, chain []SignedHeader, next *registry.ValidatorSet) (*Trusted, error) {
	hc, err := NewHeaderChain(g)
	if err != nil {
		return nil, err
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("verify headers: no headers: %w", ErrUntrustedHeader)
	}
	if err := hc.Add(chain); err != nil {
		return nil, err
	}
	return hc.Trusted(next)
}
