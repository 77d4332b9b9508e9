package registry

import (
	"crypto/ed25519"
	"fmt"

	"github.com/idmesh/idmesh/did/zip215"
	"github.com/idmesh/idmesh/node/consensus"
)

// The validator types are the consensus engine's: the chain stores the
// sets the engine decides with.
type (
	// Address identifies a validator: the first 20 bytes of SHA-256 of
	// its Ed25519 public key.
	Address = consensus.Address
	// Validator is a member of the validator set.
	Validator = consensus.Validator
	// ValidatorSet is the ordered set of validators that sign blocks.
	ValidatorSet = consensus.ValidatorSet
)

// ErrInvalidValidatorSet reports a validator set that breaks a rule.
var ErrInvalidValidatorSet = consensus.ErrInvalidValidatorSet

// MaxTotalPower bounds the sum of voting power so quorum arithmetic
// (3*power) never overflows int64.
const MaxTotalPower = consensus.MaxTotalPower

// AddressOf returns the address of an Ed25519 public key.
func AddressOf(pub ed25519.PublicKey) Address { return consensus.AddressOf(pub) }

// NewValidatorSet sorts vals by address and validates them, refusing a
// weak key (zip215.WeakKey: small order or not canonically encoded),
// with which anyone could sign as that validator (security review R2).
func NewValidatorSet(vals []Validator) (*ValidatorSet, error) {
	for i, v := range vals {
		if zip215.WeakKey(v.PubKey) {
			return nil, fmt.Errorf("%w: validator %d: public key %x is of small order or not canonically encoded", consensus.ErrInvalidValidatorSet, i, []byte(v.PubKey))
		}
	}
	return consensus.NewValidatorSet(vals)
}
