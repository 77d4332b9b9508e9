package registry

import (
	"crypto/sha256"

	"github.com/idmesh/idmesh/node/consensus"
)

// Hash is a SHA-256 digest: block IDs, transaction hashes and roots. It
// is the consensus engine's type, so that blocks, commits and votes
// name the same thing.
type Hash = consensus.Hash

// ParseHash decodes 64 hex digits.
func ParseHash(s string) (Hash, error) { return consensus.ParseHash(s) }

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
