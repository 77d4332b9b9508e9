package smt

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// Hash is a 32-byte SHA-256 digest: a key, a value hash or a node hash.
type Hash [32]byte

// Empty is the hash of an empty subtree and the root of the empty tree.
var Empty Hash

// String returns h as 64 lowercase hex digits.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Errors returned by this package. Returned errors wrap them with context;
// test with errors.Is.
var (
	// ErrMissingNode reports that a node referenced by the tree is not in
	// the store. NodeReader implementations wrap it.
	ErrMissingNode = errors.New("smt: missing node")
	// ErrZeroValue reports a change that sets a key to the zero value hash,
	// which is reserved for empty subtrees.
	ErrZeroValue = errors.New("smt: zero value hash")
	// ErrDuplicateKey reports a batch that changes the same key twice.
	ErrDuplicateKey = errors.New("smt: duplicate key in batch")
	// ErrInvalidProof reports a proof that does not establish the claimed
	// statement against the given root.
	ErrInvalidProof = errors.New("smt: invalid proof")
	// ErrMalformed reports bytes that are not a valid encoding: a proof
	// that fails to decode, or a stored node of the wrong shape.
	ErrMalformed = errors.New("smt: malformed encoding")
)

// NodeReader reads tree nodes by hash. It is the only access this package
// has to storage.
type NodeReader interface {
	// Node returns the 65-byte encoding of the node whose hash is h. If no
	// such node is stored it returns an error wrapping ErrMissingNode. The
	// returned slice may be shared with the store: callers must not modify
	// it, and this package never does.
	Node(h Hash) ([]byte, error)
}

// DepthNodeReader is a NodeReader that is also told where in the tree a
// node is read or made (0 for the root), so that a cache in front of the
// store can keep the upper levels, which every update reads. The package
// calls NodeAt instead of Node when the reader has it; its contract is
// Node's. Update calls Made for each node it makes (perhaps more than
// once for one node, and also for an update that then fails); n's
// encoding must not be modified.
type DepthNodeReader interface {
	NodeReader
	NodeAt(h Hash, depth int) ([]byte, error)
	Made(n Node, depth int)
}

// Node is a tree node to be stored: Hash is SHA-256 of Encoding.
type Node struct {
	// Hash is the node's hash, the key under which it is stored.
	Hash Hash
	// Encoding is the node's 65-byte encoding, the stored value.
	Encoding []byte
}

// Change is one entry of an Update batch.
type Change struct {
	// Key is the key to change.
	Key Hash
	// Value is the new value hash; it must not be zero unless Delete is set.
	Value Hash
	// Delete removes Key; Value is ignored. Deleting an absent key is a
	// no-op.
	Delete bool
}

const (
	// nodeSize is the length of every node encoding.
	nodeSize = 65
	// tagLeaf and tagInner are the first byte of leaf and inner encodings.
	tagLeaf  = 0x00
	tagInner = 0x01
	// maxDepth is the number of key bits, the maximal depth of a leaf.
	maxDepth = 256
)

// LeafHash returns the hash of the leaf node for key→value:
// SHA-256(0x00 || key || value).
func LeafHash(key, value Hash) Hash {
	var b [nodeSize]byte
	encodeNode(&b, tagLeaf, &key, &value)
	return sha256.Sum256(b[:])
}

// InnerHash returns the hash of the inner node with children l and r:
// SHA-256(0x01 || l || r).
func InnerHash(l, r Hash) Hash {
	var b [nodeSize]byte
	encodeNode(&b, tagInner, &l, &r)
	return sha256.Sum256(b[:])
}

// LeafNode returns the leaf node for key→value, its encoding and hash,
// as Update stores it (for code that builds trees outside Update, such
// as state sync's restore).
func LeafNode(key, value Hash) Node { return newNode(tagLeaf, &key, &value) }

// InnerNode returns the inner node with children l and r, its encoding
// and hash, as Update stores it.
func InnerNode(l, r Hash) Node { return newNode(tagInner, &l, &r) }

func newNode(tag byte, a, c *Hash) Node {
	enc := new([nodeSize]byte)
	encodeNode(enc, tag, a, c)
	return Node{Hash: sha256.Sum256(enc[:]), Encoding: enc[:]}
}

// Bit returns bit i of key k, 0 being the most significant bit of k[0]:
// the direction at depth i of k's path (0 left, 1 right).
func Bit(k *Hash, i int) byte { return bit(k, i) }

// SamePrefix reports whether a and b agree on their first n bits: their
// paths share the node at depth n.
func SamePrefix(a, b *Hash, n int) bool { return samePrefix(a, b, n) }

func encodeNode(b *[nodeSize]byte, tag byte, a, c *Hash) {
	b[0] = tag
	copy(b[1:33], a[:])
	copy(b[33:], c[:])
}

// kind classifies a subtree.
type kind uint8

const (
	kindUnknown kind = iota // not yet read
	kindEmpty
	kindLeaf
	kindInner
)

// node is a decoded node: a leaf (a = key, b = value) or an inner node
// (a = left, b = right).
type node struct {
	kind kind
	a, b Hash
}

// readNode reads and decodes the non-empty node h found at depth.
func readNode(r NodeReader, h Hash, depth int) (node, error) {
	var enc []byte
	var err error
	if dr, ok := r.(DepthNodeReader); ok {
		enc, err = dr.NodeAt(h, depth)
	} else {
		enc, err = r.Node(h)
	}
	if err != nil {
		return node{}, fmt.Errorf("read node %s at depth %d: %w", h, depth, err)
	}
	if len(enc) != nodeSize {
		return node{}, fmt.Errorf("decode node %s: length %d: %w", h, len(enc), ErrMalformed)
	}
	n := node{a: Hash(enc[1:33]), b: Hash(enc[33:])}
	switch enc[0] {
	case tagLeaf:
		n.kind = kindLeaf
	case tagInner:
		if depth >= maxDepth {
			return node{}, fmt.Errorf("decode node %s: inner node at depth %d: %w", h, depth, ErrMalformed)
		}
		n.kind = kindInner
	default:
		return node{}, fmt.Errorf("decode node %s: tag %#x: %w", h, enc[0], ErrMalformed)
	}
	return n, nil
}

// bit returns bit i of k: 0 is the most significant bit of k[0].
func bit(k *Hash, i int) byte {
	return k[i>>3] >> (7 - uint(i&7)) & 1
}

// samePrefix reports whether a and b agree on their first n bits.
func samePrefix(a, b *Hash, n int) bool {
	full := n >> 3
	if [32]byte(*a) == [32]byte(*b) {
		return true
	}
	for i := range full {
		if a[i] != b[i] {
			return false
		}
	}
	if rem := n & 7; rem != 0 {
		mask := byte(0xff) << (8 - uint(rem))
		return (a[full]^b[full])&mask == 0
	}
	return true
}

// Get returns the value hash stored for key in the tree with the given root;
// ok is false if key is absent.
func Get(r NodeReader, root, key Hash) (value Hash, ok bool, err error) {
	h := root
	for depth := 0; ; depth++ {
		if h == Empty {
			return Empty, false, nil
		}
		n, err := readNode(r, h, depth)
		if err != nil {
			return Empty, false, fmt.Errorf("get %s: %w", key, err)
		}
		if n.kind == kindLeaf {
			if n.a != key {
				return Empty, false, nil
			}
			return n.b, true, nil
		}
		if bit(&key, depth) == 0 {
			h = n.a
		} else {
			h = n.b
		}
	}
}
