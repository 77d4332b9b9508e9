package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Hash is a SHA-256 digest: block IDs, transaction hashes and roots.
type Hash [32]byte

// String returns the lowercase hex form.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zeros (no block, empty tree).
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

// Domain-separation prefixes of the transaction Merkle tree (RFC 6962).
const (
	merkleLeaf  = 0x00
	merkleInner = 0x01
)

// MerkleRoot returns the RFC 6962 Merkle tree hash of the leaves; the
// empty list has the zero hash. The block header commits to its
// transactions with it, so a light client can prove that a transaction is
// in a block with log(n) hashes.
func MerkleRoot(leaves []Hash) Hash {
	switch len(leaves) {
	case 0:
		return Hash{}
	case 1:
		var b [1 + len(Hash{})]byte
		b[0] = merkleLeaf
		copy(b[1:], leaves[0][:])
		return sha256.Sum256(b[:])
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	l, r := MerkleRoot(leaves[:k]), MerkleRoot(leaves[k:])
	var b [1 + 2*len(Hash{})]byte
	b[0] = merkleInner
	copy(b[1:], l[:])
	copy(b[1+len(l):], r[:])
	return sha256.Sum256(b[:])
}
