package smt_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/idmesh/idmesh/registry/smt"
)

// hashOf returns SHA-256 of s: a test key or value.
func hashOf(s string) smt.Hash { return sha256.Sum256([]byte(s)) }

// hashN returns a distinct pseudo-random hash for each (tag, n).
func hashN(tag string, n uint64) smt.Hash {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return sha256.Sum256(append([]byte(tag), b[:]...))
}

// bitOf returns bit i of k, 0 being the most significant bit of k[0].
func bitOf(k smt.Hash, i int) int { return int(k[i/8]>>(7-i%8)) & 1 }

// flipBit returns k with bit i inverted.
func flipBit(k smt.Hash, i int) smt.Hash {
	k[i/8] ^= 0x80 >> (i % 8)
	return k
}

// withBit returns k with bit i set to v.
func withBit(k smt.Hash, i, v int) smt.Hash {
	if bitOf(k, i) != v {
		return flipBit(k, i)
	}
	return k
}

// naiveRoot computes the root of m from scratch, straight from the
// definition of the compact tree.
func naiveRoot(m map[smt.Hash]smt.Hash) smt.Hash {
	keys := make([]smt.Hash, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return naiveSubtree(m, keys, 0)
}

func naiveSubtree(m map[smt.Hash]smt.Hash, keys []smt.Hash, depth int) smt.Hash {
	switch len(keys) {
	case 0:
		return smt.Empty
	case 1:
		return smt.LeafHash(keys[0], m[keys[0]])
	}
	var l, r []smt.Hash
	for _, k := range keys {
		if bitOf(k, depth) == 0 {
			l = append(l, k)
		} else {
			r = append(r, k)
		}
	}
	return smt.InnerHash(naiveSubtree(m, l, depth+1), naiveSubtree(m, r, depth+1))
}

// tb is the part of testing.TB that rapid.T also provides.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

// MustUpdate applies changes, checks the returned nodes and stores them.
func MustUpdate(t tb, store *smt.MemStore, root smt.Hash, changes []smt.Change) (smt.Hash, []smt.Node) {
	t.Helper()
	newRoot, nodes, err := smt.Update(store, root, changes)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	for i, n := range nodes {
		if len(n.Encoding) != 65 || smt.Hash(sha256.Sum256(n.Encoding)) != n.Hash {
			t.Fatalf("node %d: hash %s does not match encoding %x", i, n.Hash, n.Encoding)
		}
		if i > 0 && bytes.Compare(nodes[i-1].Hash[:], n.Hash[:]) >= 0 {
			t.Fatalf("nodes not strictly sorted at %d", i)
		}
	}
	store.Put(nodes)
	return newRoot, nodes
}

// MustBuild returns a store and root holding m, inserted in one batch.
func MustBuild(t tb, m map[smt.Hash]smt.Hash) (*smt.MemStore, smt.Hash) {
	t.Helper()
	store := smt.NewMemStore()
	root, _ := MustUpdate(t, store, smt.Empty, setAll(m))
	return store, root
}

// setAll returns a change setting every pair of m, in key order.
func setAll(m map[smt.Hash]smt.Hash) []smt.Change {
	changes := make([]smt.Change, 0, len(m))
	for k, v := range m {
		changes = append(changes, smt.Change{Key: k, Value: v})
	}
	slices.SortFunc(changes, func(a, b smt.Change) int { return bytes.Compare(a.Key[:], b.Key[:]) })
	return changes
}

// checkTree walks the whole tree under root, checking that every node is
// stored, well formed and canonical, and returns its pairs.
func checkTree(t tb, store *smt.MemStore, root smt.Hash) map[smt.Hash]smt.Hash {
	t.Helper()
	got := make(map[smt.Hash]smt.Hash)
	if err := walk(store, root, 0, smt.Empty, got); err != nil {
		t.Fatalf("tree %s: %v", root, err)
	}
	return got
}

// walk visits the subtree h at depth whose path is the first depth bits of
// prefix. It returns the subtree's kind: 0 empty, 1 leaf, 2 inner.
func walk(store *smt.MemStore, h smt.Hash, depth int, prefix smt.Hash, out map[smt.Hash]smt.Hash) error {
	_, err := walkKind(store, h, depth, prefix, out)
	return err
}

func walkKind(store *smt.MemStore, h smt.Hash, depth int, prefix smt.Hash, out map[smt.Hash]smt.Hash) (int, error) {
	if h == smt.Empty {
		return 0, nil
	}
	enc, err := store.Node(h)
	if err != nil {
		return 0, err
	}
	if smt.Hash(sha256.Sum256(enc)) != h {
		return 0, fmt.Errorf("node %s: hash mismatch", h)
	}
	a, b := smt.Hash(enc[1:33]), smt.Hash(enc[33:])
	switch enc[0] {
	case 0:
		for i := range depth {
			if bitOf(a, i) != bitOf(prefix, i) {
				return 0, fmt.Errorf("leaf %s at depth %d off its path", a, depth)
			}
		}
		if b == smt.Empty {
			return 0, fmt.Errorf("leaf %s has zero value", a)
		}
		out[a] = b
		return 1, nil
	case 1:
		if depth >= 256 {
			return 0, fmt.Errorf("inner node at depth %d", depth)
		}
		lk, err := walkKind(store, a, depth+1, withBit(prefix, depth, 0), out)
		if err != nil {
			return 0, err
		}
		lk2, err := walkKind(store, b, depth+1, withBit(prefix, depth, 1), out)
		if err != nil {
			return 0, err
		}
		if (lk == 0 && lk2 != 2) || (lk2 == 0 && lk != 2) {
			return 0, fmt.Errorf("inner node %s at depth %d not canonical: children kinds %d, %d", h, depth, lk, lk2)
		}
		return 2, nil
	default:
		return 0, fmt.Errorf("node %s: tag %d", h, enc[0])
	}
}

// countingReader counts node reads.
type countingReader struct {
	r     smt.NodeReader
	reads int
}

func (c *countingReader) Node(h smt.Hash) ([]byte, error) {
	c.reads++
	return c.r.Node(h)
}
