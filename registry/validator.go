package registry

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
)

// Address identifies a validator: the first 20 bytes of SHA-256 of its
// Ed25519 public key.
type Address [20]byte

// String returns the uppercase hex form, as consensus logs print it.
func (a Address) String() string { return fmt.Sprintf("%X", a[:]) }

// MarshalText encodes a as hex.
func (a Address) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText decodes 40 hex digits.
func (a *Address) UnmarshalText(b []byte) error {
	if len(b) != 2*len(a) {
		return fmt.Errorf("parse address: %w: want %d hex digits", ErrMalformed, 2*len(a))
	}
	if _, err := hex.Decode(a[:], b); err != nil {
		return fmt.Errorf("parse address: %w: %w", ErrMalformed, err)
	}
	return nil
}

// AddressOf returns the address of an Ed25519 public key.
func AddressOf(pub ed25519.PublicKey) Address {
	s := sha256.Sum256(pub)
	var a Address
	copy(a[:], s[:len(a)])
	return a
}

// Validator is a member of the validator set.
type Validator struct {
	PubKey ed25519.PublicKey `json:"pub_key"`
	Power  int64             `json:"power"`
}

// Address returns the validator's address.
func (v Validator) Address() Address { return AddressOf(v.PubKey) }

// ErrInvalidValidatorSet reports a validator set that breaks a rule.
var ErrInvalidValidatorSet = errors.New("invalid validator set")

// MaxTotalPower bounds the sum of voting power so quorum arithmetic
// (3*power) never overflows int64.
const MaxTotalPower = int64(1) << 60

// ValidatorSet is the ordered set of validators that sign blocks. Its
// order (by address) is canonical, so its hash does not depend on how it
// was listed.
type ValidatorSet struct {
	Validators []Validator `json:"validators"`
}

// NewValidatorSet sorts vals by address and validates them.
func NewValidatorSet(vals []Validator) (*ValidatorSet, error) {
	vs := &ValidatorSet{Validators: append([]Validator(nil), vals...)}
	sort.Slice(vs.Validators, func(i, j int) bool {
		a, b := vs.Validators[i].Address(), vs.Validators[j].Address()
		return bytes.Compare(a[:], b[:]) < 0
	})
	if err := vs.Validate(); err != nil {
		return nil, err
	}
	return vs, nil
}

// Validate checks keys, powers, order and uniqueness.
func (vs *ValidatorSet) Validate() error {
	if len(vs.Validators) == 0 {
		return fmt.Errorf("%w: empty", ErrInvalidValidatorSet)
	}
	var total int64
	var prev Address
	for i, v := range vs.Validators {
		if len(v.PubKey) != ed25519.PublicKeySize {
			return fmt.Errorf("%w: validator %d: public key is %d bytes", ErrInvalidValidatorSet, i, len(v.PubKey))
		}
		if v.Power <= 0 || v.Power > MaxTotalPower {
			return fmt.Errorf("%w: validator %d: power %d out of range", ErrInvalidValidatorSet, i, v.Power)
		}
		total += v.Power
		if total > MaxTotalPower {
			return fmt.Errorf("%w: total power exceeds %d", ErrInvalidValidatorSet, MaxTotalPower)
		}
		a := v.Address()
		if i > 0 && bytes.Compare(prev[:], a[:]) >= 0 {
			return fmt.Errorf("%w: validators not sorted by address or duplicated", ErrInvalidValidatorSet)
		}
		prev = a
	}
	return nil
}

// TotalPower returns the sum of voting power.
func (vs *ValidatorSet) TotalPower() int64 {
	var t int64
	for _, v := range vs.Validators {
		t += v.Power
	}
	return t
}

// ByAddress returns the validator with address a.
func (vs *ValidatorSet) ByAddress(a Address) (Validator, bool) {
	for _, v := range vs.Validators {
		if v.Address() == a {
			return v, true
		}
	}
	return Validator{}, false
}

// Hash commits to the set: SHA-256 of its canonical encoding.
func (vs *ValidatorSet) Hash() Hash {
	var e encoder
	e.u32(uint32(len(vs.Validators)))
	for _, v := range vs.Validators {
		e.bytes(v.PubKey)
		e.i64(v.Power)
	}
	return Sum(e.b)
}
