package snapshot

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync"

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
// It holds no pointer, so that the garbage collector does not scan the
// millions of them a large state has: the key is at off in block blk of
// the builder's keys.
type indexed struct {
	tk   smt.Hash
	blk  uint32
	off  uint32
	klen uint32
	size int
}

// keyBlock is the size of the blocks state keys are copied into.
const keyBlock = 1 << 20

// keys holds the state keys Build indexed, in blocks of keyBlock bytes.
type keys [][]byte

// of returns the key of e.
func (ks keys) of(e *indexed) []byte {
	return ks[e.blk][e.off : e.off+e.klen : e.off+e.klen]
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
// Build holds the state's keys in memory (about 100 bytes a key) and a
// few chunks of values at a time: it plans the chunks from the keys and
// the tree, and reads, checks and encodes the values of several chunks
// at once, on every core (src must allow concurrent Get calls). emit is
// called from Build's goroutine.
func Build(src Source, height uint64, root smt.Hash, target int, emit func(chunk []byte) error) (int, error) {
	if target <= 0 {
		target = DefaultChunkBytes
	}
	idx, ks, err := scanKeys(src)
	if err != nil {
		return 0, fmt.Errorf("build snapshot: scan state: %w", err)
	}
	slices.SortFunc(idx, func(a, b indexed) int { return bytes.Compare(a.tk[:], b.tk[:]) })
	f := newFiller(src, idx, ks, height, emit, runtime.GOMAXPROCS(0))
	defer f.stop()
	b := &builder{f: f, target: target, chunk: plan{height: height}}
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
	if err := f.drain(); err != nil {
		return 0, fmt.Errorf("build snapshot at %d: %w", height, err)
	}
	return int(b.chunk.index), nil
}

// scanKeys reads the state's keys with their tree keys and entry sizes.
func scanKeys(src Source) ([]indexed, keys, error) {
	var idx []indexed
	var ks keys
	var block []byte
	var scanErr error
	err := src.Scan(nil, func(k, v []byte) bool {
		if len(k) == 0 || len(k) > MaxKeyBytes {
			scanErr = fmt.Errorf("state key of %d bytes: %w", len(k), ErrStateMismatch)
			return false
		}
		if cap(block)-len(block) < len(k) {
			block = make([]byte, 0, keyBlock)
			ks = append(ks, block)
		}
		e := indexed{tk: sha256.Sum256(k), blk: uint32(len(ks) - 1), off: uint32(len(block)), klen: uint32(len(k)), size: entrySize(len(k), len(v))}
		block = append(block, k...)
		ks[e.blk] = block
		idx = append(idx, e)
		return true
	})
	if err == nil {
		err = scanErr
	}
	return idx, ks, err
}

// plan is a chunk being planned: its parts, without their values yet.
type plan struct {
	height uint64
	index  uint32
	parts  []planned
}

// planned is a part: the node h at depth, which holds idx[lo:hi], with
// the siblings on its path.
type planned struct {
	h      smt.Hash
	depth  int
	lo, hi int
	sibs   []smt.Hash
}

type builder struct {
	f       *filler
	target  int
	idx     []indexed
	sums    []int
	chunk   plan
	size    int // encoded size of chunk so far, without the part count
	entries int // entries in chunk so far
}

// partSizeOf returns the encoded size of the part of idx[lo:hi] with
// siblings sibs.
func (b *builder) partSizeOf(sibs []smt.Hash, lo, hi int) int {
	return partSize(sibs, nil) - 1 + uvarintLen(uint64(hi-lo)) + b.sums[hi] - b.sums[lo]
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
	parts, entries := len(b.chunk.parts), b.entries
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
		enc, err := b.f.src.Node(h)
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
	return b.target - chunkHeaderSize - uvarintLen(uint64(len(b.chunk.parts)+1)) - b.size
}

// add plans idx[lo:hi], the node h, as a part; its values are read and
// checked against h when its chunk is filled.
func (b *builder) add(h smt.Hash, depth, lo, hi int, sibs []smt.Hash) error {
	size := b.partSizeOf(sibs, lo, hi)
	if len(b.chunk.parts) > 0 && (size > b.room() || len(b.chunk.parts) >= MaxChunkParts || b.entries+hi-lo > MaxChunkEntries) {
		if err := b.flush(); err != nil {
			return err
		}
	}
	b.chunk.parts = append(b.chunk.parts, planned{h: h, depth: depth, lo: lo, hi: hi, sibs: append([]smt.Hash(nil), sibs...)})
	b.size += size
	b.entries += hi - lo
	return nil
}

// flush hands the planned chunk to the filler and starts the next.
func (b *builder) flush() error {
	if len(b.chunk.parts) == 0 {
		return nil
	}
	if err := b.f.submit(b.chunk); err != nil {
		return err
	}
	b.chunk.parts = nil
	b.chunk.index++
	b.size, b.entries = 0, 0
	return nil
}

// filler reads, checks and encodes planned chunks on several goroutines,
// and emits them in order from the goroutine that submits them.
type filler struct {
	src    Source
	idx    []indexed
	keys   keys
	height uint64
	emit   func([]byte) error
	work   chan *job
	queue  []*job // submitted, not yet emitted, in order
	limit  int    // chunks in flight at most
	wg     sync.WaitGroup
}

// job is a chunk to fill; done is closed when raw or err is set.
type job struct {
	plan plan
	raw  []byte
	err  error
	done chan struct{}
}

func newFiller(src Source, idx []indexed, ks keys, height uint64, emit func([]byte) error, workers int) *filler {
	workers = max(workers, 1)
	f := &filler{src: src, idx: idx, keys: ks, height: height, emit: emit, limit: 2 * workers}
	f.work = make(chan *job, f.limit)
	for range workers {
		f.wg.Go(func() {
			for j := range f.work {
				j.raw, j.err = f.fill(&j.plan)
				close(j.done)
			}
		})
	}
	return f
}

// submit queues a planned chunk, emitting the chunks before it that are
// ready (and waiting for the oldest while too many are in flight).
func (f *filler) submit(p plan) error {
	for len(f.queue) >= f.limit {
		if err := f.emitHead(); err != nil {
			return err
		}
	}
	j := &job{plan: p, done: make(chan struct{})}
	f.queue = append(f.queue, j)
	f.work <- j
	for len(f.queue) > 0 {
		select {
		case <-f.queue[0].done:
			if err := f.emitHead(); err != nil {
				return err
			}
		default:
			return nil
		}
	}
	return nil
}

// emitHead waits for the oldest chunk in flight and emits it.
func (f *filler) emitHead() error {
	j := f.queue[0]
	<-j.done
	f.queue = f.queue[1:]
	if j.err != nil {
		return j.err
	}
	if err := f.emit(j.raw); err != nil {
		return fmt.Errorf("emit chunk %d: %w", j.plan.index, err)
	}
	return nil
}

// drain emits every chunk still in flight.
func (f *filler) drain() error {
	for len(f.queue) > 0 {
		if err := f.emitHead(); err != nil {
			return err
		}
	}
	return nil
}

// stop ends the workers once they finish the chunks they hold.
func (f *filler) stop() {
	close(f.work)
	f.wg.Wait()
}

// fill reads the values of a planned chunk, checks that each part's
// values give its node, and encodes the chunk.
func (f *filler) fill(p *plan) ([]byte, error) {
	c := Chunk{Height: p.height, Index: p.index, Parts: make([]Part, len(p.parts))}
	n := 0
	for i := range p.parts {
		n = max(n, p.parts[i].hi-p.parts[i].lo)
	}
	ls := make([]leaf, n)
	for i := range p.parts {
		pp := &p.parts[i]
		part := Part{Depth: pp.depth, Siblings: pp.sibs, Entries: make([]Entry, pp.hi-pp.lo)}
		for k := range part.Entries {
			e := &f.idx[pp.lo+k]
			key := f.keys.of(e)
			v, err := f.src.Get(key)
			if err != nil {
				if errors.Is(err, registry.ErrNotFound) {
					return nil, fmt.Errorf("state key %q vanished: %w", key, ErrStateMismatch)
				}
				return nil, fmt.Errorf("read state key: %w", err)
			}
			part.Entries[k] = Entry{Key: key, Value: v}
			ls[k] = leaf{key: e.tk, value: sha256.Sum256(v)}
		}
		if got := subtreeHash(ls[:len(part.Entries)], pp.depth, nil); got != pp.h {
			return nil, fmt.Errorf("the values under node %s at depth %d give %s: %w", pp.h, pp.depth, got, ErrStateMismatch)
		}
		c.Parts[i] = part
	}
	raw := c.Encode()
	if len(raw) > MaxChunkBytes {
		return nil, fmt.Errorf("chunk %d of %d bytes: %w", c.Index, len(raw), ErrChunkTooLarge)
	}
	return raw, nil
}
