package snapshot

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"
	"sync"

	"github.com/idmesh/idmesh/registry/smt"
)

// hashSum is the sum of hashes read as 256-bit big-endian numbers,
// modulo 2^256: a digest of a set of distinct nodes that does not
// depend on the order they are met in.
type hashSum [4]uint64

// add adds h to s.
func (s *hashSum) add(h *smt.Hash) {
	var c uint64
	for i := range 4 {
		w := binary.BigEndian.Uint64(h[24-8*i:])
		s[i], c = bits.Add64(s[i], w, c)
	}
}

// addSum adds t to s.
func (s *hashSum) addSum(t *hashSum) {
	var c uint64
	for i := range 4 {
		s[i], c = bits.Add64(s[i], t[i], c)
	}
}

// hash returns s as 32 big-endian bytes.
func (s *hashSum) hash() smt.Hash {
	var h smt.Hash
	for i := range 4 {
		binary.BigEndian.PutUint64(h[24-8*i:], s[i])
	}
	return h
}

// TreeStats describes the tree nodes a store holds (ScanTree).
type TreeStats struct {
	// Nodes is the number of tree nodes; Leaves how many of them are
	// leaves.
	Nodes, Leaves int
	// Sum is the sum of the nodes' hashes, read as 256-bit big-endian
	// numbers, modulo 2^256.
	Sum smt.Hash
}

// ScanTree reads every tree node of nl once, in workers passes over
// parts of the hash space run at once, checks that each is a node (65
// bytes, a leaf or inner tag, an inner node with a child) whose encoding
// hashes to the key it is stored under, and returns their count and the
// sum of their hashes. Errors wrap ErrStateMismatch.
func ScanTree(nl NodeLister, workers int) (TreeStats, error) {
	workers = min(max(workers, 1), 256)
	stats := make([]TreeStats, workers)
	sums := make([]hashSum, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		first, last := byte(w*256/workers), byte((w+1)*256/workers-1)
		wg.Go(func() {
			st, sum := &stats[w], &sums[w]
			var bad error
			err := nl.ScanNodes(first, last, func(h smt.Hash, enc []byte) bool {
				if err := checkNodeBytes(&h, enc); err != nil {
					bad = err
					return false
				}
				st.Nodes++
				if enc[0] == tagLeaf {
					st.Leaves++
				}
				sum.add(&h)
				return true
			})
			if err == nil {
				err = bad
			}
			if err != nil {
				errs[w] = fmt.Errorf("scan tree: %w", err)
			}
		})
	}
	wg.Wait()
	var total TreeStats
	var sum hashSum
	for w := range workers {
		if errs[w] != nil {
			return TreeStats{}, errs[w]
		}
		total.Nodes += stats[w].Nodes
		total.Leaves += stats[w].Leaves
		sum.addSum(&sums[w])
	}
	total.Sum = sum.hash()
	return total, nil
}

// checkNodeBytes checks that enc is a node stored under its hash h.
func checkNodeBytes(h *smt.Hash, enc []byte) error {
	if len(enc) != nodeSize || sha256.Sum256(enc) != *h {
		return fmt.Errorf("node %s does not hash to its key: %w", h, ErrStateMismatch)
	}
	switch enc[0] {
	case tagLeaf:
		return nil
	case tagInner:
		if smt.Hash(enc[1:33]) == smt.Empty && smt.Hash(enc[33:]) == smt.Empty {
			return fmt.Errorf("inner node %s without children: %w", h, ErrStateMismatch)
		}
		return nil
	}
	return fmt.Errorf("node %s of tag %d: %w", h, enc[0], ErrStateMismatch)
}
