package consensus

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// ErrMalformed reports bytes that do not decode as the expected value.
var ErrMalformed = errors.New("malformed encoding")

// Hash is a SHA-256 digest. The engine names blocks by one (their ID);
// the application uses the same type for its own digests.
type Hash [32]byte

// String returns the lowercase hex form.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zeros: a vote for nil, no block.
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalText encodes h as lowercase hex.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText decodes 64 hex digits.
func (h *Hash) UnmarshalText(b []byte) error {
	v, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// ParseHash decodes 64 hex digits.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*len(h) {
		return h, fmt.Errorf("parse hash: %w: want %d hex digits", ErrMalformed, 2*len(h))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("parse hash: %w: %w", ErrMalformed, err)
	}
	return h, nil
}

// Sum returns SHA-256 of b.
func Sum(b []byte) Hash { return sha256.Sum256(b) }

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
