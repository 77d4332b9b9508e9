package snapshot

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/smt"
)

// Source is the state a snapshot is built from: the state values and the
// tree nodes (registry.StateReader), and a scan of the keys.
// registry/leveldb's Store is one. The values must be the state whose
// tree has the snapshot's root: a store's current values are the state
// of its tip.
type Source interface {
	registry.StateReader
	// Scan calls fn for each state key with the given prefix, in key
	// order, until fn returns false. fn must not keep k or v.
	Scan(prefix []byte, fn func(k, v []byte) bool) error
}

// indexed is a state key with its tree key and its entry's encoded size.
type indexed struct {
	tk   smt.Hash
	key  []byte
	size int
}

// Build splits the state of height, whose tree has root, into chunks of
// at most target bytes (DefaultChunkBytes if target <= 0; a chunk holding
// a single entry larger than that is the exception), and passes each
// encoded chunk to emit in order. It returns the number of chunks. Parts
// are whole subtrees in tree-key order, each as large as the room left in
// the chunk allows: a subtree larger than the room is cut into its halves.
// Build checks every part against the tree as it goes: if the values do
// not match the root (the state moved on), it fails with
// ErrStateMismatch.
//
// Build holds the state's keys in memory (about 100 bytes a key) and one
// chunk of values at a time.
func Build(src Source, height uint64, root smt.Hash, target int, emit func(chunk []byte) error) (int, error) {
	if target <= 0 {
		target = DefaultChunkBytes
	}
	var idx []indexed
	var scanErr error
	err := src.Scan(nil, func(k, v []byte) bool {
		if len(k) == 0 || len(k) > MaxKeyBytes {
			scanErr = fmt.Errorf("build snapshot: state key of %d bytes: %w", len(k), ErrStateMismatch)
			return false
		}
		idx = append(idx, indexed{tk: sha256.Sum256(k), key: append([]byte(nil), k...), size: entrySize(len(k), len(v))})
		return true
	})
	if err == nil {
		err = scanErr
	}
	if err != nil {
		return 0, fmt.Errorf("build snapshot: scan state: %w", err)
	}
	sort.Slice(idx, func(i, j int) bool { return cmpHash(&idx[i].tk, &idx[j].tk) < 0 })
	b := &builder{src: src, target: target, emit: emit, chunk: Chunk{Height: height}}
	// sums[i] is the size of the entries before i.
	b.sums = make([]int, len(idx)+1)
	for i, e := range idx {
		b.sums[i+1] = b.sums[i] + e.size
	}
	b.idx = idx
	if err := b.walk(root, 0, 0, len(idx), nil); err != nil {
		return 0, fmt.Errorf("build snapshot at %d: %w", height, err)
	}
	if err := b.flush(); err != nil {
		return 0, fmt.Errorf("build snapshot at %d: %w", height, err)
	}
	return int(b.chunk.Index), nil
}

type builder struct {
	src     Source
	target  int
	emit    func([]byte) error
	idx     []indexed
	sums    []int
	chunk   Chunk
	size    int // encoded size of chunk so far, without the part count
	entries int // entries in chunk so far
}

// walk visits the node h at depth, which holds idx[lo:hi], with the
// siblings on its path.
func (b *builder) walk(h smt.Hash, depth, lo, hi int, sibs []smt.Hash) error {
	if h == smt.Empty {
		if lo != hi {
			return fmt.Errorf("%d state keys under an empty subtree: %w", hi-lo, ErrStateMismatch)
		}
		return nil
	}
	if lo == hi {
		return fmt.Errorf("no state key under node %s: %w", h, ErrStateMismatch)
	}
	size := partSize(sibs, nil) + b.sums[hi] - b.sums[lo]
	room := b.room()
	parts, entries := len(b.chunk.Parts), b.entries
	switch {
	case size <= room && parts < MaxChunkParts && hi-lo <= MaxChunkEntries-entries:
		return b.add(h, depth, lo, hi, sibs)
	case hi-lo == 1:
		// One entry larger than the room: alone in a chunk if need be.
		if err := b.flush(); err != nil {
			return err
		}
		return b.add(h, depth, lo, hi, sibs)
	case parts > 0 && (room < b.target/8 || parts >= MaxChunkParts || MaxChunkEntries-entries < MaxChunkEntries/8):
		// Little room left: start a new chunk rather than cut the
		// subtree into many small parts.
		if err := b.flush(); err != nil {
			return err
		}
		return b.walk(h, depth, lo, hi, sibs)
	default:
		// Too large for the room: its halves fill it.
		enc, err := b.src.Node(h)
		if err != nil {
			return fmt.Errorf("read node: %w", err)
		}
		if len(enc) != 65 || enc[0] != 0x01 || depth >= maxDepth {
			return fmt.Errorf("node %s at depth %d is not an inner node over %d keys: %w", h, depth, hi-lo, ErrStateMismatch)
		}
		l, r := smt.Hash(enc[1:33]), smt.Hash(enc[33:])
		split := lo + sort.Search(hi-lo, func(i int) bool { return smt.Bit(&b.idx[lo+i].tk, depth) == 1 })
		s := append(sibs[:len(sibs):len(sibs)], r)
		if err := b.walk(l, depth+1, lo, split, s); err != nil {
			return err
		}
		s[len(s)-1] = l
		return b.walk(r, depth+1, split, hi, s)
	}
}

// room returns the bytes left for one more part in the current chunk.
func (b *builder) room() int {
	return b.target - chunkHeaderSize - uvarintLen(uint64(len(b.chunk.Parts)+1)) - b.size
}

// add reads the values of idx[lo:hi], checks that they give the node h,
// and adds them as a part.
func (b *builder) add(h smt.Hash, depth, lo, hi int, sibs []smt.Hash) error {
	p := Part{Depth: depth, Siblings: append([]smt.Hash(nil), sibs...), Entries: make([]Entry, hi-lo)}
	ls := make([]leaf, hi-lo)
	for i := range p.Entries {
		e := &b.idx[lo+i]
		v, err := b.src.Get(e.key)
		if err != nil {
			if errors.Is(err, registry.ErrNotFound) {
				return fmt.Errorf("state key %q vanished: %w", e.key, ErrStateMismatch)
			}
			return fmt.Errorf("read state key: %w", err)
		}
		p.Entries[i] = Entry{Key: e.key, Value: v}
		ls[i] = leaf{key: e.tk, value: sha256.Sum256(v)}
	}
	if got := subtreeHash(ls, depth, nil); got != h {
		return fmt.Errorf("the values under node %s at depth %d give %s: %w", h, depth, got, ErrStateMismatch)
	}
	size := partSize(p.Siblings, p.Entries)
	if len(b.chunk.Parts) > 0 && (size > b.room() || len(b.chunk.Parts) >= MaxChunkParts || b.entries+len(p.Entries) > MaxChunkEntries) {
		if err := b.flush(); err != nil {
			return err
		}
	}
	b.chunk.Parts = append(b.chunk.Parts, p)
	b.size += size
	b.entries += len(p.Entries)
	return nil
}

func (b *builder) flush() error {
	if len(b.chunk.Parts) == 0 {
		return nil
	}
	raw := b.chunk.Encode()
	if len(raw) > MaxChunkBytes {
		return fmt.Errorf("chunk %d of %d bytes: %w", b.chunk.Index, len(raw), ErrChunkTooLarge)
	}
	if err := b.emit(raw); err != nil {
		return fmt.Errorf("emit chunk %d: %w", b.chunk.Index, err)
	}
	b.chunk.Parts = b.chunk.Parts[:0]
	b.chunk.Index++
	b.size, b.entries = 0, 0
	return nil
}
