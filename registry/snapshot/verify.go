package snapshot

import (
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
// A Verifier is not safe for concurrent use. A refused chunk changes
// nothing: the same index may be asked of another peer.
type Verifier struct {
	height uint64
	root   smt.Hash
	next   uint32
	done   bool
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
	return &Verifier{height: height, root: root, done: root == smt.Empty, lastDepth: -1}
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
	switch {
	case v.done:
		return nil, fmt.Errorf("verify chunk %d: %w", c.Index, ErrComplete)
	case c.Height != v.height:
		return nil, fmt.Errorf("verify chunk %d: height %d, restoring %d: %w", c.Index, c.Height, v.height, ErrWrongHeight)
	case c.Index != v.next:
		return nil, fmt.Errorf("verify chunk %d: expected chunk %d: %w", c.Index, v.next, ErrChunkOrder)
	case len(c.Parts) == 0:
		return nil, fmt.Errorf("verify chunk %d: no parts: %w", c.Index, ErrMalformed)
	}
	lastKey, lastDepth, lastSibs, done := v.lastKey, v.lastDepth, v.lastSibs, false
	out := make([]VerifiedPart, 0, len(c.Parts))
	for i := range c.Parts {
		p := &c.Parts[i]
		if done {
			return nil, fmt.Errorf("verify chunk %d part %d: %w", c.Index, i, ErrComplete)
		}
		ls, err := leavesOf(p)
		if err != nil {
			return nil, fmt.Errorf("verify chunk %d part %d: %w", c.Index, i, err)
		}
		path := ls[0].key
		if got := fold(subtreeHash(ls, p.Depth, nil), &path, p.Siblings, nil); got != v.root {
			return nil, fmt.Errorf("verify chunk %d part %d: entries give root %s, want %s: %w", c.Index, i, got, v.root, ErrChunkProof)
		}
		if err := follows(&lastKey, lastDepth, lastSibs, &path, p.Depth, p.Siblings); err != nil {
			return nil, fmt.Errorf("verify chunk %d part %d: %w", c.Index, i, err)
		}
		lastKey, lastDepth, lastSibs = path, p.Depth, p.Siblings
		done = isLast(&path, p.Depth, p.Siblings)
		out = append(out, VerifiedPart{Part: *p, leaves: ls})
	}
	v.lastKey, v.lastDepth, v.lastSibs, v.done = lastKey, lastDepth, lastSibs, done
	v.next++
	return out, nil
}

// follows checks that the part at path/depth starts right after the
// previous part (prevDepth < 0: none), everything in between proven empty
// by the siblings. Both parts already fold into the root, so their
// siblings are the tree's.
func follows(prev *smt.Hash, prevDepth int, prevSibs []smt.Hash, path *smt.Hash, depth int, sibs []smt.Hash) error {
	if prevDepth < 0 {
		// Everything left of the first part is empty.
		for i := range depth {
			if smt.Bit(path, i) == 1 && sibs[i] != smt.Empty {
				return fmt.Errorf("the first part leaves out the entries left of it (depth %d): %w", i, ErrChunkGap)
			}
		}
		return nil
	}
	l := commonPrefix(prev, path)
	if m := min(prevDepth, depth); l >= m {
		return fmt.Errorf("part overlaps the previous one: %w", ErrChunkOrder)
	}
	if smt.Bit(path, l) == 0 {
		return fmt.Errorf("part is left of the previous one: %w", ErrChunkOrder)
	}
	for i := l + 1; i < prevDepth; i++ {
		if smt.Bit(prev, i) == 0 && prevSibs[i] != smt.Empty {
			return fmt.Errorf("entries right of the previous part (depth %d) left out: %w", i, ErrChunkGap)
		}
	}
	for i := l + 1; i < depth; i++ {
		if smt.Bit(path, i) == 1 && sibs[i] != smt.Empty {
			return fmt.Errorf("entries left of the part (depth %d) left out: %w", i, ErrChunkGap)
		}
	}
	return nil
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
