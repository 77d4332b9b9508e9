package snapshot

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"sort"

	"github.com/idmesh/idmesh/registry/smt"
)

// leaf is an entry as the tree sees it.
type leaf struct {
	key, value smt.Hash
}

// subtreeHash returns the hash of the compact subtree at depth holding
// exactly leaves (sorted by key, distinct, all on one path of depth
// bits), as registry/smt builds it: empty, one leaf, or an inner node
// over the two halves. With a non-nil collect, it also returns every node
// it built (leaves and inner nodes) through collect.
func subtreeHash(leaves []leaf, depth int, collect func(smt.Node)) smt.Hash {
	switch len(leaves) {
	case 0:
		return smt.Empty
	case 1:
		if collect == nil {
			return smt.LeafHash(leaves[0].key, leaves[0].value)
		}
		n := smt.LeafNode(leaves[0].key, leaves[0].value)
		collect(n)
		return n.Hash
	}
	// Distinct keys differ before bit 256, so depth < 256 here.
	split := sort.Search(len(leaves), func(i int) bool { return smt.Bit(&leaves[i].key, depth) == 1 })
	l := subtreeHash(leaves[:split], depth+1, collect)
	r := subtreeHash(leaves[split:], depth+1, collect)
	if collect == nil {
		return smt.InnerHash(l, r)
	}
	n := smt.InnerNode(l, r)
	collect(n)
	return n.Hash
}

// fold returns the root that hash, the node at depth len(siblings) on the
// path of key, gives with the siblings; with a non-nil collect, it also
// returns the inner nodes on the path through collect.
func fold(h smt.Hash, key *smt.Hash, siblings []smt.Hash, collect func(smt.Node)) smt.Hash {
	for i := len(siblings) - 1; i >= 0; i-- {
		l, r := h, siblings[i]
		if smt.Bit(key, i) == 1 {
			l, r = r, l
		}
		if collect == nil {
			h = smt.InnerHash(l, r)
			continue
		}
		n := smt.InnerNode(l, r)
		collect(n)
		h = n.Hash
	}
	return h
}

// leavesOf returns a part's entries as tree leaves, and checks that they
// are in strictly increasing key order and all below the part's path.
func leavesOf(p *Part) ([]leaf, error) {
	if p.Depth > maxDepth || len(p.Siblings) != p.Depth || len(p.Entries) == 0 {
		return nil, fmt.Errorf("part of depth %d with %d siblings and %d entries: %w", p.Depth, len(p.Siblings), len(p.Entries), ErrMalformed)
	}
	ls := make([]leaf, len(p.Entries))
	for i, e := range p.Entries {
		ls[i] = leaf{key: sha256.Sum256(e.Key), value: sha256.Sum256(e.Value)}
		if i == 0 {
			continue
		}
		if cmpHash(&ls[i-1].key, &ls[i].key) >= 0 {
			return nil, fmt.Errorf("entry %d (%q) not after entry %d in tree-key order: %w", i, e.Key, i-1, ErrChunkOrder)
		}
		if !smt.SamePrefix(&ls[0].key, &ls[i].key, p.Depth) {
			return nil, fmt.Errorf("entry %d (%q) is outside the part's subtree at depth %d: %w", i, e.Key, p.Depth, ErrChunkProof)
		}
	}
	return ls, nil
}

func cmpHash(a, b *smt.Hash) int {
	for i := range a {
		switch {
		case a[i] < b[i]:
			return -1
		case a[i] > b[i]:
			return 1
		}
	}
	return 0
}

// Node encodings, as registry/smt stores them: a tag, then two hashes.
const (
	nodeSize = 65
	tagLeaf  = 0x00
	tagInner = 0x01
)

// nodeArena builds the tree nodes of a chunk's parts into two
// allocations, one for the nodes and one for their encodings.
type nodeArena struct {
	nodes []smt.Node
	enc   []byte
}

// grow makes room for the nodes of c's parts: a compact subtree of k
// leaves has 2k-1 nodes, and a part at depth d has d nodes on its path.
func (a *nodeArena) grow(c *Chunk) {
	n := 0
	for i := range c.Parts {
		n += 2*len(c.Parts[i].Entries) - 1 + c.Parts[i].Depth
	}
	a.nodes = make([]smt.Node, 0, n)
	a.enc = make([]byte, 0, n*nodeSize)
}

// add builds the node tag || x || y and returns its hash.
func (a *nodeArena) add(tag byte, x, y *smt.Hash) smt.Hash {
	start := len(a.enc)
	a.enc = append(a.enc, tag)
	a.enc = append(a.enc, x[:]...)
	a.enc = append(a.enc, y[:]...)
	e := a.enc[start:len(a.enc):len(a.enc)]
	h := smt.Hash(sha256.Sum256(e))
	a.nodes = append(a.nodes, smt.Node{Hash: h, Encoding: e})
	return h
}

// subtree is subtreeHash that builds every node into the arena.
func (a *nodeArena) subtree(leaves []leaf, depth int) smt.Hash {
	switch len(leaves) {
	case 0:
		return smt.Empty
	case 1:
		return a.add(tagLeaf, &leaves[0].key, &leaves[0].value)
	}
	split := sort.Search(len(leaves), func(i int) bool { return smt.Bit(&leaves[i].key, depth) == 1 })
	l := a.subtree(leaves[:split], depth+1)
	r := a.subtree(leaves[split:], depth+1)
	return a.add(tagInner, &l, &r)
}

// part builds the nodes of a part (leavesOf checked): its subtree's, then
// those on its path, and returns the root they fold into. It sets
// p.nodes and p.pathNodes, pathNodes[i] being the node at depth i.
func (a *nodeArena) part(p *VerifiedPart) smt.Hash {
	start := len(a.nodes)
	h := a.subtree(p.leaves, p.Depth)
	mid := len(a.nodes)
	for i := p.Depth - 1; i >= 0; i-- {
		l, r := h, p.Siblings[i]
		if smt.Bit(&p.path, i) == 1 {
			l, r = r, l
		}
		h = a.add(tagInner, &l, &r)
	}
	p.nodes = a.nodes[start:mid:mid]
	p.pathNodes = a.nodes[mid:len(a.nodes):len(a.nodes)]
	slices.Reverse(p.pathNodes)
	return h
}
