package smt

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
)

// item is one pair during an update. keep marks a pair whose leaf is already
// stored (an existing leaf, or a change to its current value), so the leaf
// is not emitted again.
type item struct {
	key, value Hash
	del, keep  bool
}

// Update applies changes to the tree with the given root in one pass and
// returns the new root and the nodes it created, sorted by hash and without
// duplicates. The caller stores the nodes (for instance in the block's write
// batch); r is only read. changes is not modified and may be in any order.
//
// Update reads and creates O(k log n) nodes for k changes to a tree of n
// pairs. A change that sets a key to its current value, or deletes an absent
// key, creates no nodes. It fails with ErrDuplicateKey if two changes have
// the same key, ErrZeroValue if a non-delete change has a zero value, and
// with the reader's error (such as ErrMissingNode) if a node cannot be read;
// on error nothing is returned.
func Update(r NodeReader, root Hash, changes []Change) (Hash, []Node, error) {
	newRoot, nodes, _, err := UpdateStale(r, root, changes)
	return newRoot, nodes, err
}

// UpdateStale is Update that also returns the stale nodes: the hashes of
// the nodes of the tree under root that the tree under the new root no
// longer holds, sorted and without duplicates. Together with the created
// nodes they are the exact difference between the two versions: the
// created nodes are in the new tree and not in the old one, the stale
// nodes in the old tree and not in the new one. A caller that keeps a
// journal of stale nodes per version can prune old versions (see the
// package documentation, Pruning).
func UpdateStale(r NodeReader, root Hash, changes []Change) (Hash, []Node, []Hash, error) {
	items := make([]item, len(changes))
	for i, c := range changes {
		if !c.Delete && c.Value == Empty {
			return Empty, nil, nil, fmt.Errorf("update key %s: %w", c.Key, ErrZeroValue)
		}
		items[i] = item{key: c.Key, value: c.Value, del: c.Delete}
	}
	slices.SortFunc(items, func(a, b item) int { return bytes.Compare(a.key[:], b.key[:]) })
	for i := 1; i < len(items); i++ {
		if items[i].key == items[i-1].key {
			return Empty, nil, nil, fmt.Errorf("update key %s: %w", items[i].key, ErrDuplicateKey)
		}
	}
	u := updater{r: r}
	u.made, _ = r.(DepthNodeReader)
	newRoot, _, err := u.update(root, kindUnknown, 0, items)
	if err != nil {
		return Empty, nil, nil, fmt.Errorf("update: %w", err)
	}
	nodes := sortNodes(&u.nodes)
	return newRoot, nodes, staleNodes(u.stale.all(), nodes), nil
}

// staleNodes returns stale sorted, without duplicates and without any
// hash that created holds (sorted by hash). The last cannot happen in a
// canonical tree, where a node's hash fixes its place, but a node that is
// dropped from the journal only costs space, while one wrongly in it
// would be pruned from a live tree.
func staleNodes(stale []Hash, created []Node) []Hash {
	slices.SortFunc(stale, func(a, b Hash) int { return bytes.Compare(a[:], b[:]) })
	stale = slices.Compact(stale)
	out := stale[:0]
	for _, h := range stale {
		if _, found := slices.BinarySearchFunc(created, h, func(n Node, h Hash) int { return bytes.Compare(n.Hash[:], h[:]) }); !found {
			out = append(out, h)
		}
	}
	return out
}

// sortNodes returns nodes sorted by hash without duplicates. It sorts small
// (prefix, node) pairs rather than moving the nodes themselves.
func sortNodes(nodes *chunked[Node]) []Node {
	type ref struct {
		prefix uint64
		n      *Node
	}
	refs := make([]ref, 0, nodes.n)
	for _, c := range nodes.chunks {
		for i := range c {
			refs = append(refs, ref{binary.BigEndian.Uint64(c[i].Hash[:8]), &c[i]})
		}
	}
	slices.SortFunc(refs, func(a, b ref) int {
		if c := cmp.Compare(a.prefix, b.prefix); c != 0 {
			return c
		}
		return bytes.Compare(a.n.Hash[:], b.n.Hash[:])
	})
	out := make([]Node, 0, len(refs))
	for _, r := range refs {
		if n := len(out); n > 0 && out[n-1].Hash == r.n.Hash {
			continue
		}
		out = append(out, *r.n)
	}
	return out
}

// chunked is an append-only list kept in chunks of growing size, so that
// growing it never moves what it holds (an update of a large block makes
// tens of thousands of nodes: a slice grown by appending copies them over
// and over into new memory).
type chunked[T any] struct {
	chunks [][]T
	n      int
}

const (
	firstChunk = 32
	maxChunk   = 4096
)

// add appends v and returns where it is kept.
func (c *chunked[T]) add(v T) *T {
	k := len(c.chunks)
	if k == 0 || len(c.chunks[k-1]) == cap(c.chunks[k-1]) {
		size := firstChunk
		if k > 0 {
			size = min(2*cap(c.chunks[k-1]), maxChunk)
		}
		c.chunks = append(c.chunks, make([]T, 0, size))
		k++
	}
	last := &c.chunks[k-1]
	*last = append(*last, v)
	c.n++
	return &(*last)[len(*last)-1]
}

// all returns the elements in order, in one slice of their number.
func (c *chunked[T]) all() []T {
	out := make([]T, 0, c.n)
	for _, ch := range c.chunks {
		out = append(out, ch...)
	}
	return out
}

// updater holds the state of one Update call.
type updater struct {
	r     NodeReader
	made  DepthNodeReader // r, if it is told of the nodes made
	nodes chunked[Node]
	stale chunked[Hash] // nodes of the old tree the new one no longer holds
	slab  []byte        // backing store for created encodings
}

// update applies items (sorted, all sharing the first depth bits of their
// keys) to the subtree h at depth, whose kind may be known, and returns the
// new subtree's hash and kind (kindUnknown if unchanged and never read).
func (u *updater) update(h Hash, k kind, depth int, items []item) (Hash, kind, error) {
	if len(items) == 0 {
		return h, k, nil
	}
	if h == Empty {
		// Drop deletes in place: this range of items belongs to us alone.
		n := 0
		for _, it := range items {
			if !it.del {
				items[n] = it
				n++
			}
		}
		return u.build(depth, items[:n])
	}
	nd, err := readNode(u.r, h, depth)
	if err != nil {
		return Empty, kindUnknown, err
	}
	if nd.kind == kindLeaf {
		return u.mergeLeaf(h, depth, nd.a, nd.b, items)
	}
	split := splitIndex(items, depth)
	l, lk, err := u.update(nd.a, kindUnknown, depth+1, items[:split])
	if err != nil {
		return Empty, kindUnknown, err
	}
	r, rk, err := u.update(nd.b, kindUnknown, depth+1, items[split:])
	if err != nil {
		return Empty, kindUnknown, err
	}
	if l == nd.a && r == nd.b {
		return h, kindInner, nil
	}
	// An inner node's hash fixes its place (its keys and its depth), and
	// that place now holds something else: it left the tree.
	u.stale.add(h)
	return u.join(depth, l, lk, r, rk)
}

// join returns the canonical subtree at depth with children l and r,
// lifting a lone leaf and collapsing an empty pair.
func (u *updater) join(depth int, l Hash, lk kind, r Hash, rk kind) (Hash, kind, error) {
	switch {
	case l == Empty && r == Empty:
		return Empty, kindEmpty, nil
	case l == Empty || r == Empty:
		other, otherKind := r, rk
		if r == Empty {
			other, otherKind = l, lk
		}
		if otherKind == kindUnknown { // an untouched sibling: look
			nd, err := readNode(u.r, other, depth+1)
			if err != nil {
				return Empty, kindUnknown, err
			}
			otherKind = nd.kind
		}
		if otherKind == kindLeaf {
			return other, kindLeaf, nil
		}
	}
	return u.emit(tagInner, &l, &r, depth), kindInner, nil
}

// mergeLeaf applies items to the subtree at depth that is the single leaf
// h = key→value. The leaf leaves the tree if an item deletes key or
// changes its value; otherwise it stays, perhaps at another depth (a
// leaf's hash does not depend on its depth).
func (u *updater) mergeLeaf(h Hash, depth int, key, value Hash, items []item) (Hash, kind, error) {
	if !samePrefix(&key, &items[0].key, depth) {
		return Empty, kindUnknown, fmt.Errorf("leaf %s at depth %d: off its path: %w", LeafHash(key, value), depth, ErrMalformed)
	}
	merged := make([]item, 0, len(items)+1)
	placed := false
	for _, it := range items {
		if !placed && bytes.Compare(key[:], it.key[:]) <= 0 {
			placed = true
			if it.key == key {
				if !it.del {
					it.keep = it.value == value
					merged = append(merged, it)
				}
				if it.del || !it.keep {
					u.stale.add(h)
				}
				continue
			}
			merged = append(merged, item{key: key, value: value, keep: true})
		}
		if !it.del {
			merged = append(merged, it)
		}
	}
	if !placed {
		merged = append(merged, item{key: key, value: value, keep: true})
	}
	return u.build(depth, merged)
}

// build returns the canonical subtree at depth holding items (sorted,
// distinct keys sharing the first depth bits, no deletes).
func (u *updater) build(depth int, items []item) (Hash, kind, error) {
	switch len(items) {
	case 0:
		return Empty, kindEmpty, nil
	case 1:
		it := &items[0]
		if it.keep {
			return LeafHash(it.key, it.value), kindLeaf, nil
		}
		return u.emit(tagLeaf, &it.key, &it.value, depth), kindLeaf, nil
	}
	if depth >= maxDepth {
		panic("smt: distinct keys share all 256 bits") // unreachable: keys are deduplicated
	}
	split := splitIndex(items, depth)
	l, _, err := u.build(depth+1, items[:split])
	if err != nil {
		return Empty, kindUnknown, err
	}
	r, _, err := u.build(depth+1, items[split:])
	if err != nil {
		return Empty, kindUnknown, err
	}
	return u.emit(tagInner, &l, &r, depth), kindInner, nil
}

// emit creates a node at depth, records it, tells a DepthNodeReader and
// returns its hash.
func (u *updater) emit(tag byte, a, b *Hash, depth int) Hash {
	const chunk = 64 * nodeSize
	if len(u.slab) < nodeSize {
		u.slab = make([]byte, chunk)
	}
	enc := (*[nodeSize]byte)(u.slab[:nodeSize])
	u.slab = u.slab[nodeSize:]
	encodeNode(enc, tag, a, b)
	h := Hash(sha256.Sum256(enc[:]))
	n := u.nodes.add(Node{Hash: h, Encoding: enc[:nodeSize:nodeSize]})
	if u.made != nil {
		u.made.Made(*n, depth)
	}
	return h
}

// splitIndex returns the index of the first item whose key has bit depth
// set; items are sorted and share the bits before depth, so those with the
// bit clear come first.
func splitIndex(items []item, depth int) int {
	lo, hi := 0, len(items)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if bit(&items[m].key, depth) == 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
