package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/idmesh/idmesh/registry/smt"
)

// Bounds on what a chunk may hold. A decoder checks them before it
// allocates.
const (
	// DefaultChunkBytes is the size Build aims for: chunks are at most
	// this large unless one state entry alone is larger.
	DefaultChunkBytes = 4 << 20
	// MaxChunkBytes bounds an encoded chunk; a longer one is refused
	// with ErrChunkTooLarge before it is decoded. It leaves room for a
	// chunk holding one entry as large as a block can write.
	MaxChunkBytes = 16 << 20
	// MaxChunkParts bounds the parts of a chunk (a part's siblings take
	// 8 KiB decoded at most).
	MaxChunkParts = 1024
	// MaxChunkEntries bounds the entries of a chunk, all parts together,
	// so that decoding and hashing a chunk take memory in proportion to
	// its bytes.
	MaxChunkEntries = 1 << 18
	// MaxKeyBytes bounds a state key.
	MaxKeyBytes = 4096
	// maxDepth is the number of key bits: the depth of the deepest part.
	maxDepth = 256
	// chunkVersion is the first byte of every chunk.
	chunkVersion = 1
)

// Errors returned by this package. Returned errors wrap them with
// context; test with errors.Is.
var (
	// ErrMalformed reports bytes that are not a chunk in its canonical
	// encoding.
	ErrMalformed = errors.New("snapshot: malformed chunk")
	// ErrChunkTooLarge reports a chunk over MaxChunkBytes.
	ErrChunkTooLarge = errors.New("snapshot: chunk too large")
	// ErrWrongHeight reports a chunk that says it belongs to another
	// height than the one being restored.
	ErrWrongHeight = errors.New("snapshot: chunk of another height")
	// ErrChunkOrder reports a chunk out of sequence, a part that does
	// not come after the previous one (overlapping or left of it), or
	// entries not in strictly increasing tree-key order.
	ErrChunkOrder = errors.New("snapshot: chunk out of order")
	// ErrChunkGap reports a part that does not start where the previous
	// one ended: something between them was left out (and is not
	// proven empty).
	ErrChunkGap = errors.New("snapshot: chunk leaves a gap in the state")
	// ErrChunkProof reports a part whose entries and sibling hashes do
	// not give the trusted state root: an entry was added, dropped or
	// altered, or the chunk belongs to another state.
	ErrChunkProof = errors.New("snapshot: chunk does not match the state root")
	// ErrComplete reports a chunk received after the state was complete.
	ErrComplete = errors.New("snapshot: chunk after the end of the state")
	// ErrIncomplete reports a restore finished before every part of the
	// state arrived.
	ErrIncomplete = errors.New("snapshot: state incomplete")
	// ErrStateMismatch reports, when building, state values that do not
	// match the tree of the root (the state moved on), and, when
	// restoring, a written tree that does not give the trusted root.
	ErrStateMismatch = errors.New("snapshot: state does not match its root")
	// ErrUntrustedHeader reports a header chain that does not establish
	// a header signed by the validators the chain's genesis leads to.
	ErrUntrustedHeader = errors.New("snapshot: header not trusted")
)

// Entry is one state key and its value.
type Entry struct {
	// Key is the state key; its tree key is SHA-256(Key).
	Key []byte
	// Value is the state value; its tree value is SHA-256(Value).
	Value []byte
}

// Part is a subtree of the state tree: every entry whose tree key starts
// with the part's path (the first Depth bits of any of its keys), in
// tree-key order, and the sibling hashes on the path from the root down
// to the subtree, which fold the subtree's hash into the root.
type Part struct {
	// Depth is the subtree's depth in the tree, 0 (the whole tree) to
	// 256.
	Depth int
	// Siblings are the Depth sibling hashes from the top down:
	// Siblings[i] is the child of the path's node at depth i that is
	// not on the path; smt.Empty for an empty subtree.
	Siblings []smt.Hash
	// Entries are the subtree's entries in increasing order of
	// SHA-256(Key); at least one.
	Entries []Entry
}

// Chunk is one piece of the snapshot of the state at Height: consecutive
// parts, in tree-key order.
type Chunk struct {
	// Height is the height whose state root the parts fold into.
	Height uint64
	// Index is the chunk's position in the snapshot, from 0.
	Index uint32
	// Parts are the chunk's subtrees, in tree-key order; at least one.
	Parts []Part
}

// Chunk encoding, every integer big-endian or a minimal uvarint:
//
//	version  1 byte, 1
//	height   8 bytes
//	index    4 bytes
//	parts    uvarint, at least 1, then each part:
//	  depth    2 bytes, at most 256
//	  bitmap   ceil(depth/8) bytes: bit i (most significant first) set
//	           iff sibling i is not empty; padding bits zero
//	  siblings 32 bytes for each set bit
//	  entries  uvarint, at least 1, then each entry:
//	    key    uvarint length (1..MaxKeyBytes), bytes
//	    value  uvarint length, bytes

// partSize returns the encoded size of a part with the given siblings and
// entries.
func partSize(siblings []smt.Hash, entries []Entry) int {
	n := 2 + (len(siblings)+7)/8 + uvarintLen(uint64(len(entries)))
	for _, s := range siblings {
		if s != smt.Empty {
			n += 32
		}
	}
	for _, e := range entries {
		n += entrySize(len(e.Key), len(e.Value))
	}
	return n
}

// entrySize returns the encoded size of an entry.
func entrySize(k, v int) int {
	return uvarintLen(uint64(k)) + k + uvarintLen(uint64(v)) + v
}

// chunkHeaderSize is the size of a chunk's fixed fields; the part count
// follows.
const chunkHeaderSize = 1 + 8 + 4

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// Encode returns c's canonical encoding. It does not check c's bounds:
// DecodeChunk does.
func (c *Chunk) Encode() []byte {
	size := chunkHeaderSize + uvarintLen(uint64(len(c.Parts)))
	for _, p := range c.Parts {
		size += partSize(p.Siblings, p.Entries)
	}
	b := make([]byte, 0, size)
	b = append(b, chunkVersion)
	b = binary.BigEndian.AppendUint64(b, c.Height)
	b = binary.BigEndian.AppendUint32(b, c.Index)
	b = binary.AppendUvarint(b, uint64(len(c.Parts)))
	for _, p := range c.Parts {
		b = appendPart(b, &p)
	}
	return b
}

func appendPart(b []byte, p *Part) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(p.Depth))
	start := len(b)
	b = append(b, make([]byte, (len(p.Siblings)+7)/8)...)
	for i, s := range p.Siblings {
		if s != smt.Empty {
			b[start+i/8] |= 0x80 >> uint(i%8)
		}
	}
	for _, s := range p.Siblings {
		if s != smt.Empty {
			b = append(b, s[:]...)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(p.Entries)))
	for _, e := range p.Entries {
		b = binary.AppendUvarint(b, uint64(len(e.Key)))
		b = append(b, e.Key...)
		b = binary.AppendUvarint(b, uint64(len(e.Value)))
		b = append(b, e.Value...)
	}
	return b
}

// reader decodes a chunk; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("decode chunk: %s: %w", what, ErrMalformed)
	}
}

func (r *reader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.fail("truncated " + what)
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// uvarint reads a minimal uvarint no larger than limit.
func (r *reader) uvarint(what string, limit uint64) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("truncated or overlong " + what)
		return 0
	}
	if n != uvarintLen(v) {
		r.fail("non-minimal " + what)
		return 0
	}
	if v > limit {
		r.fail(fmt.Sprintf("%s %d over %d", what, v, limit))
		return 0
	}
	r.b = r.b[n:]
	return v
}

// DecodeChunk decodes a chunk encoded by Chunk.Encode. It refuses a chunk
// over MaxChunkBytes (ErrChunkTooLarge) before reading it, and anything
// but the canonical encoding, trailing bytes included (ErrMalformed). The
// decoded entries alias b. A decoded chunk still has to be checked
// against the state root: see Verifier.
func DecodeChunk(b []byte) (*Chunk, error) {
	if len(b) > MaxChunkBytes {
		return nil, fmt.Errorf("decode chunk: %d bytes, at most %d: %w", len(b), MaxChunkBytes, ErrChunkTooLarge)
	}
	r := &reader{b: b}
	if v := r.take(1, "version"); r.err == nil && v[0] != chunkVersion {
		return nil, fmt.Errorf("decode chunk: version %d: %w", v[0], ErrMalformed)
	}
	c := &Chunk{}
	if h := r.take(8, "height"); r.err == nil {
		c.Height = binary.BigEndian.Uint64(h)
	}
	if i := r.take(4, "index"); r.err == nil {
		c.Index = binary.BigEndian.Uint32(i)
	}
	// A part takes at least 2+2 bytes and an entry at least 3: counts
	// are bounded by what is left before anything is allocated.
	np := r.uvarint("part count", min(uint64(len(r.b)/4), MaxChunkParts))
	if r.err == nil && np == 0 {
		r.fail("no parts")
	}
	if r.err != nil {
		return nil, r.err
	}
	c.Parts = make([]Part, 0, np)
	entries := 0
	for range np {
		p := r.part(MaxChunkEntries - entries)
		entries += len(p.Entries)
		if r.err != nil {
			return nil, r.err
		}
		c.Parts = append(c.Parts, p)
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("decode chunk: %d trailing bytes: %w", len(r.b), ErrMalformed)
	}
	return c, nil
}

// part decodes a part of at most maxEntries entries.
func (r *reader) part(maxEntries int) Part {
	var p Part
	d := r.take(2, "depth")
	if r.err != nil {
		return p
	}
	p.Depth = int(binary.BigEndian.Uint16(d))
	if p.Depth > maxDepth {
		r.fail(fmt.Sprintf("depth %d", p.Depth))
		return p
	}
	bitmap := r.take((p.Depth+7)/8, "sibling bitmap")
	if r.err != nil {
		return p
	}
	if p.Depth%8 != 0 && bitmap[len(bitmap)-1]&(0xff>>uint(p.Depth%8)) != 0 {
		r.fail("bitmap padding set")
		return p
	}
	if p.Depth > 0 {
		p.Siblings = make([]smt.Hash, p.Depth)
	}
	for i := range p.Siblings {
		if bitmap[i/8]&(0x80>>uint(i%8)) == 0 {
			continue
		}
		s := r.take(32, "sibling")
		if r.err != nil {
			return p
		}
		p.Siblings[i] = smt.Hash(s)
		if p.Siblings[i] == smt.Empty {
			r.fail(fmt.Sprintf("sibling %d marked non-empty is zero", i))
			return p
		}
	}
	ne := r.uvarint("entry count", min(uint64(len(r.b)/3), uint64(maxEntries)))
	if r.err == nil && ne == 0 {
		r.fail("part without entries")
	}
	if r.err != nil {
		return p
	}
	p.Entries = make([]Entry, 0, ne)
	for range ne {
		kl := r.uvarint("key length", MaxKeyBytes)
		if r.err == nil && kl == 0 {
			r.fail("empty key")
		}
		k := r.take(int(kl), "key")
		vl := r.uvarint("value length", MaxChunkBytes)
		v := r.take(int(vl), "value")
		if r.err != nil {
			return p
		}
		p.Entries = append(p.Entries, Entry{Key: k, Value: v})
	}
	return p
}
