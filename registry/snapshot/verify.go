package snapshot

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/idmesh/idmesh/registry/smt"
)

// Verifier checks the chunks of a snapshot, in order, against the state
// root of a trusted header, each as it arrives. It trusts nothing in a
// chunk: every part's entries, hashed into their subtree and folded with
// the part's siblings, must give the root, and every part must start
// where the previous one ended, the subtrees in between proven empty by
// the siblings. So a peer cannot add, drop, alter or reorder an entry, or
// leave out a whole part or chunk, without the chunk where it does so
// being refused. Done reports when the parts cover the whole key space;
// nothing is taken from the peer's word.
//
// The check of a chunk has two halves. Check (or CheckChunk) proves each
// part of the chunk against the root on its own: it needs no other chunk,
// so chunks can be checked as they arrive, in any order and on several
// goroutines. Accept then takes checked chunks in index order and checks
// that each part starts where the previous one ended. Verify and
// VerifyChunk do both at once.
//
// Check and CheckChunk are safe for concurrent use, with each other and
// with one goroutine calling Accept; the other methods are not. A refused
// chunk changes nothing: the same index may be asked of another peer.
type Verifier struct {
	// height and root are fixed: Check reads them from any goroutine.
	height uint64
	root   smt.Hash
	// position changes with each accepted chunk; only Accept's
	// goroutine touches it.
	position
}

// position is where a verifier stands in the snapshot.
type position struct {
	next uint32
	done bool
	// the last verified part: its path (its first tree key), depth and
	// siblings; depth < 0 before the first.
	lastKey   smt.Hash
	lastDepth int
	lastSibs  []smt.Hash
}

// NewVerifier returns a verifier of the snapshot of height, whose trusted
// state root is root. The empty state (root smt.Empty) has no chunks: it
// is Done at once.
func NewVerifier(height uint64, root smt.Hash) *Verifier {
	return &Verifier{height: height, root: root, position: position{done: root == smt.Empty, lastDepth: -1}}
}

// Done reports whether the verified chunks hold the whole state.
func (v *Verifier) Done() bool { return v.done }

// Next returns the index of the chunk expected next.
func (v *Verifier) Next() uint32 { return v.next }

// VerifiedPart is a part whose entries are proven to be exactly the state
// under its subtree.
type VerifiedPart struct {
	Part
	leaves []leaf
	// path is the part's first tree key; last whether nothing but empty
	// subtrees lies right of it.
	path smt.Hash
	last bool
	// With nodes collected (a restore): the subtree's nodes, and the
	// nodes on its path, pathNodes[i] at depth i.
	nodes     []smt.Node
	pathNodes []smt.Node
	// shared is the depth down to which the part's path is the previous
	// part's (-1 for the first part), set by Accept.
	shared int
}

// Checked is a chunk whose parts were each proven against the trusted
// root on their own (Verifier.Check); Verifier.Accept checks that it
// comes next.
type Checked struct {
	v     *Verifier
	index uint32
	parts []VerifiedPart
	// collected reports that the parts carry their tree nodes.
	collected bool
}

// Index returns the chunk's index in the snapshot.
func (c *Checked) Index() uint32 { return c.index }

// Entries returns the number of state entries in the chunk.
func (c *Checked) Entries() int {
	n := 0
	for i := range c.parts {
		n += len(c.parts[i].Entries)
	}
	return n
}

// Verify decodes raw and checks it as the next chunk. It returns the
// chunk's parts, verified, or an error wrapping ErrChunkTooLarge,
// ErrMalformed, ErrWrongHeight, ErrChunkOrder, ErrChunkGap, ErrChunkProof
// or ErrComplete.
func (v *Verifier) Verify(raw []byte) ([]VerifiedPart, error) {
	c, err := DecodeChunk(raw)
	if err != nil {
		return nil, fmt.Errorf("verify chunk %d: %w", v.next, err)
	}
	return v.VerifyChunk(c)
}

// VerifyChunk checks a decoded chunk as the next one; see Verify.
func (v *Verifier) VerifyChunk(c *Chunk) ([]VerifiedPart, error) {
	ch, err := v.checkNext(c, false)
	if err != nil {
		return nil, err
	}
	return v.Accept(ch)
}

// checkNext checks c as the next chunk in the order the checks have
// always had: the end, the height and the index first, then the parts.
func (v *Verifier) checkNext(c *Chunk, collect bool) (*Checked, error) {
	switch {
	case v.done:
		return nil, fmt.Errorf("verify chunk %d: %w", c.Index, ErrComplete)
	case c.Height != v.height:
		return nil, fmt.Errorf("verify chunk %d: height %d, restoring %d: %w", c.Index, c.Height, v.height, ErrWrongHeight)
	case c.Index != v.next:
		return nil, fmt.Errorf("verify chunk %d: expected chunk %d: %w", c.Index, v.next, ErrChunkOrder)
	}
	return v.check(c, collect)
}

// comesNext checks, before the work of a chunk is done, that a chunk of
// this index is the one expected.
func (v *Verifier) comesNext(index uint32) error {
	switch {
	case v.done:
		return fmt.Errorf("verify chunk %d: %w", index, ErrComplete)
	case index != v.next:
		return fmt.Errorf("verify chunk %d: expected chunk %d: %w", index, v.next, ErrChunkOrder)
	}
	return nil
}

// Check decodes raw and proves each of its parts against the root on its
// own, without regard to the chunks before it: the entries are in
// strictly increasing tree-key order, below the part's path, and hash
// with the siblings into the root. Errors wrap ErrChunkTooLarge,
// ErrMalformed, ErrWrongHeight, ErrChunkOrder or ErrChunkProof. Check is
// safe for concurrent use; the checked chunk still has to be accepted in
// order (Accept).
func (v *Verifier) Check(raw []byte) (*Checked, error) {
	c, err := DecodeChunk(raw)
	if err != nil {
		return nil, fmt.Errorf("check chunk: %w", err)
	}
	return v.check(c, false)
}

// CheckChunk is Check for a decoded chunk.
func (v *Verifier) CheckChunk(c *Chunk) (*Checked, error) { return v.check(c, false) }

// check proves each part of c on its own; with collect, it also keeps the
// tree nodes the parts give (for a restore).
func (v *Verifier) check(c *Chunk, collect bool) (*Checked, error) {
	switch {
	case c.Height != v.height:
		return nil, fmt.Errorf("verify chunk %d: height %d, restoring %d: %w", c.Index, c.Height, v.height, ErrWrongHeight)
	case len(c.Parts) == 0:
		return nil, fmt.Errorf("verify chunk %d: no parts: %w", c.Index, ErrMalformed)
	}
	out := &Checked{v: v, index: c.Index, parts: make([]VerifiedPart, len(c.Parts)), collected: collect}
	var arena nodeArena
	if collect {
		arena.grow(c)
	}
	for i := range c.Parts {
		p := &c.Parts[i]
		ls, err := leavesOf(p)
		if err != nil {
			return nil, fmt.Errorf("verify chunk %d part %d: %w", c.Index, i, err)
		}
		vp := &out.parts[i]
		vp.Part, vp.leaves, vp.path = *p, ls, ls[0].key
		var got smt.Hash
		if collect {
			got = arena.part(vp)
		} else {
			got = fold(subtreeHash(ls, p.Depth, nil), &vp.path, p.Siblings, nil)
		}
		if got != v.root {
			return nil, fmt.Errorf("verify chunk %d part %d: entries give root %s, want %s: %w", c.Index, i, got, v.root, ErrChunkProof)
		}
		vp.last = isLast(&vp.path, p.Depth, p.Siblings)
	}
	return out, nil
}

// errOtherVerifier reports a checked chunk given to another verifier's
// Accept than the one that checked it.
var errOtherVerifier = errors.New("snapshot: chunk checked by another verifier")

// Accept takes c, checked by this verifier, as the next chunk: its index
// must be Next and each of its parts must start where the previous one
// ended, everything in between proven empty. It returns the chunk's
// parts, verified, or an error wrapping ErrChunkOrder, ErrChunkGap or
// ErrComplete; a refused chunk changes nothing.
func (v *Verifier) Accept(c *Checked) ([]VerifiedPart, error) {
	if c.v != v {
		return nil, fmt.Errorf("accept chunk %d: %w", c.index, errOtherVerifier)
	}
	if err := v.comesNext(c.index); err != nil {
		return nil, err
	}
	lastKey, lastDepth, lastSibs, done := v.lastKey, v.lastDepth, v.lastSibs, false
	for i := range c.parts {
		p := &c.parts[i]
		if done {
			return nil, fmt.Errorf("verify chunk %d part %d: %w", c.index, i, ErrComplete)
		}
		l, err := follows(&lastKey, lastDepth, lastSibs, &p.path, p.Depth, p.Siblings)
		if err != nil {
			return nil, fmt.Errorf("verify chunk %d part %d: %w", c.index, i, err)
		}
		p.shared = l
		lastKey, lastDepth, lastSibs = p.path, p.Depth, p.Siblings
		done = p.last
	}
	v.lastKey, v.lastDepth, v.lastSibs, v.done = lastKey, lastDepth, lastSibs, done
	v.next++
	return c.parts, nil
}

// follows checks that the part at path/depth starts right after the
// previous part (prevDepth < 0: none), everything in between proven empty
// by the siblings. Both parts already fold into the root, so their
// siblings are the tree's. It returns the depth of the two parts' last
// common ancestor (-1 for the first part): the nodes on the part's path
// down to that depth are the previous part's too.
func follows(prev *smt.Hash, prevDepth int, prevSibs []smt.Hash, path *smt.Hash, depth int, sibs []smt.Hash) (int, error) {
	if prevDepth < 0 {
		// Everything left of the first part is empty.
		for i := range depth {
			if smt.Bit(path, i) == 1 && sibs[i] != smt.Empty {
				return 0, fmt.Errorf("the first part leaves out the entries left of it (depth %d): %w", i, ErrChunkGap)
			}
		}
		return -1, nil
	}
	l := commonPrefix(prev, path)
	if m := min(prevDepth, depth); l >= m {
		return 0, fmt.Errorf("part overlaps the previous one: %w", ErrChunkOrder)
	}
	if smt.Bit(path, l) == 0 {
		return 0, fmt.Errorf("part is left of the previous one: %w", ErrChunkOrder)
	}
	for i := l + 1; i < prevDepth; i++ {
		if smt.Bit(prev, i) == 0 && prevSibs[i] != smt.Empty {
			return 0, fmt.Errorf("entries right of the previous part (depth %d) left out: %w", i, ErrChunkGap)
		}
	}
	for i := l + 1; i < depth; i++ {
		if smt.Bit(path, i) == 1 && sibs[i] != smt.Empty {
			return 0, fmt.Errorf("entries left of the part (depth %d) left out: %w", i, ErrChunkGap)
		}
	}
	return l, nil
}

// isLast reports whether everything right of the part is empty.
func isLast(path *smt.Hash, depth int, sibs []smt.Hash) bool {
	for i := range depth {
		if smt.Bit(path, i) == 0 && sibs[i] != smt.Empty {
			return false
		}
	}
	return true
}

// commonPrefix returns the number of leading bits a and b share.
func commonPrefix(a, b *smt.Hash) int {
	for i := range a {
		if x := a[i] ^ b[i]; x != 0 {
			return i*8 + bits.LeadingZeros8(x)
		}
	}
	return maxDepth
}
