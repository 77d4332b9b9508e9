package consensus

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

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

// ValidatorSet is the ordered set of validators that decide a height. Its
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

// ByAddress returns the validator with address a. A valid set is sorted
// by address, so a binary search finds it with log n address hashes
// rather than n (a commit of 1,000 signatures is checked on every block);
// an unsorted set, which Validate refuses, is searched in full.
func (vs *ValidatorSet) ByAddress(a Address) (Validator, bool) {
	vals := vs.Validators
	i := sort.Search(len(vals), func(i int) bool {
		b := vals[i].Address()
		return bytes.Compare(b[:], a[:]) >= 0
	})
	if i < len(vals) && vals[i].Address() == a {
		return vals[i], true
	}
	if sort.SliceIsSorted(vals, func(i, j int) bool {
		x, y := vals[i].Address(), vals[j].Address()
		return bytes.Compare(x[:], y[:]) < 0
	}) {
		return Validator{}, false
	}
	for _, v := range vals {
		if v.Address() == a {
			return v, true
		}
	}
	return Validator{}, false
}

// Hash commits to the set: SHA-256 of its canonical encoding (the count
// as 4 bytes big-endian, then each validator's key with a uvarint length
// prefix and its power as 8 bytes big-endian).
func (vs *ValidatorSet) Hash() Hash {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(vs.Validators)))
	for _, v := range vs.Validators {
		b = binary.AppendUvarint(b, uint64(len(v.PubKey)))
		b = append(b, v.PubKey...)
		b = binary.BigEndian.AppendUint64(b, uint64(v.Power))
	}
	return Sum(b)
}
