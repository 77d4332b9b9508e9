package snapshot_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"sort"
	"testing"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
	"github.com/idmesh/idmesh/registry/smt"
	"github.com/idmesh/idmesh/registry/snapshot"
)

// decode decodes a copy of raw, so that mutations leave raw alone.
func decode(t *testing.T, raw []byte) *snapshot.Chunk {
	t.Helper()
	c, err := snapshot.DecodeChunk(bytes.Clone(raw))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fat returns the index of the first part of c with at least two entries.
func fat(t *testing.T, c *snapshot.Chunk) int {
	t.Helper()
	for i, p := range c.Parts {
		if len(p.Entries) >= 2 {
			return i
		}
	}
	t.Fatal("no part with two entries")
	return 0
}

func sortEntries(es []snapshot.Entry) {
	sort.Slice(es, func(i, j int) bool {
		a, b := sha256.Sum256(es[i].Key), sha256.Sum256(es[j].Key)
		return bytes.Compare(a[:], b[:]) < 0
	})
}

// lie is a chunk a peer sends instead of the honest chunk at, and the
// error that refuses it.
type lie struct {
	name string
	at   int
	lie  func(t *testing.T) []byte
	want error
}

// liesFixture is an honest snapshot, its height and root, and the lies
// a peer can tell in it.
type liesFixture struct {
	chunks [][]byte
	height uint64
	root   smt.Hash
	cases  []lie
}

// chunkLies returns the snapshot of a grown chain and every kind of lie a
// peer can tell in a chunk of it.
func chunkLies(t *testing.T) liesFixture {
	t.Helper()
	n := grown(t)
	old := n.build(t, 4<<10)
	n.next(t, registrytest.ToyTx("set did:a:00001 changed"))
	chunks := n.build(t, 4<<10)
	st := n.chain.State()
	root := smt.Hash(st.StateRoot)
	if len(chunks) < 6 {
		t.Fatalf("%d chunks", len(chunks))
	}
	// mid is a chunk in the middle with three parts, one of them with
	// two entries.
	mid := -1
	for i := 1; i < len(chunks)-2 && mid < 0; i++ {
		c := decode(t, chunks[i])
		if len(c.Parts) < 3 {
			continue
		}
		for _, p := range c.Parts {
			if len(p.Entries) >= 2 {
				mid = i
			}
		}
	}
	if mid < 0 {
		t.Fatal("no chunk with three parts")
	}
	edit := func(at int, f func(c *snapshot.Chunk)) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			c := decode(t, chunks[at])
			f(c)
			return c.Encode()
		}
	}
	cases := []lie{
		{"key dropped", mid, edit(mid, func(c *snapshot.Chunk) {
			p := &c.Parts[fat(t, c)]
			p.Entries = append(p.Entries[:1:1], p.Entries[2:]...)
		}), snapshot.ErrChunkProof},
		{"key added", mid, edit(mid, func(c *snapshot.Chunk) {
			p := &c.Parts[fat(t, c)]
			p.Entries = append(p.Entries, snapshot.Entry{Key: []byte("did:forged"), Value: []byte("x")})
			sortEntries(p.Entries)
		}), snapshot.ErrChunkProof},
		{"value altered", mid, edit(mid, func(c *snapshot.Chunk) {
			p := &c.Parts[fat(t, c)]
			p.Entries[1].Value = append(bytes.Clone(p.Entries[1].Value), '!')
		}), snapshot.ErrChunkProof},
		{"key altered", mid, edit(mid, func(c *snapshot.Chunk) {
			p := &c.Parts[fat(t, c)]
			p.Entries[0].Key = append(bytes.Clone(p.Entries[0].Key), '!')
			sortEntries(p.Entries)
		}), snapshot.ErrChunkProof},
		{"key repeated", mid, edit(mid, func(c *snapshot.Chunk) {
			p := &c.Parts[fat(t, c)]
			p.Entries = append(p.Entries[:1:1], p.Entries...)
		}), snapshot.ErrChunkOrder},
		{"entries reordered", mid, edit(mid, func(c *snapshot.Chunk) {
			p := &c.Parts[fat(t, c)]
			p.Entries[0], p.Entries[1] = p.Entries[1], p.Entries[0]
		}), snapshot.ErrChunkOrder},
		{"sibling forged", mid, edit(mid, func(c *snapshot.Chunk) {
			p := &c.Parts[0]
			p.Siblings[len(p.Siblings)-1][0] ^= 1
		}), snapshot.ErrChunkProof},
		{"part moved up a level", mid, edit(mid, func(c *snapshot.Chunk) {
			p := &c.Parts[0]
			p.Depth--
			p.Siblings = p.Siblings[:p.Depth]
		}), snapshot.ErrChunkProof},
		{"part dropped", mid, edit(mid, func(c *snapshot.Chunk) {
			c.Parts = append(c.Parts[:1:1], c.Parts[2:]...)
		}), snapshot.ErrChunkGap},
		{"first part dropped", mid, edit(mid, func(c *snapshot.Chunk) {
			c.Parts = c.Parts[1:]
		}), snapshot.ErrChunkGap},
		{"parts swapped", mid, edit(mid, func(c *snapshot.Chunk) {
			c.Parts[0], c.Parts[1] = c.Parts[1], c.Parts[0]
		}), snapshot.ErrChunkGap},
		{"part repeated", mid, edit(mid, func(c *snapshot.Chunk) {
			c.Parts = append(c.Parts[:1:1], c.Parts...)
		}), snapshot.ErrChunkOrder},
		{"chunk reordered", mid, func(t *testing.T) []byte { return chunks[mid+1] }, snapshot.ErrChunkOrder},
		{"chunk dropped and renumbered", mid, edit(mid+1, func(c *snapshot.Chunk) { c.Index = uint32(mid) }), snapshot.ErrChunkGap},
		{"chunk repeated and renumbered", mid, edit(mid-1, func(c *snapshot.Chunk) { c.Index = uint32(mid) }), snapshot.ErrChunkOrder},
		{"first chunk dropped", 0, edit(1, func(c *snapshot.Chunk) { c.Index = 0 }), snapshot.ErrChunkGap},
		{"last chunk dropped", len(chunks) - 2, edit(len(chunks)-1, func(c *snapshot.Chunk) { c.Index-- }), snapshot.ErrChunkGap},
		{"chunk of another height", mid, func(t *testing.T) []byte { return old[mid] }, snapshot.ErrWrongHeight},
		{"chunk of another height, relabeled", mid, func(t *testing.T) []byte {
			c := decode(t, old[mid])
			c.Height = st.Height
			return c.Encode()
		}, snapshot.ErrChunkProof},
		{"truncated", mid, func(t *testing.T) []byte { return chunks[mid][:len(chunks[mid])-1] }, snapshot.ErrMalformed},
		{"trailing byte", mid, func(t *testing.T) []byte { return append(bytes.Clone(chunks[mid]), 0) }, snapshot.ErrMalformed},
		{"oversized", mid, func(t *testing.T) []byte {
			return append(bytes.Clone(chunks[mid]), make([]byte, snapshot.MaxChunkBytes)...)
		}, snapshot.ErrChunkTooLarge},
		{"after the last", len(chunks), edit(0, func(c *snapshot.Chunk) { c.Index = uint32(len(chunks)) }), snapshot.ErrComplete},
	}
	return liesFixture{chunks: chunks, height: st.Height, root: root, cases: cases}
}

// TestChunkLies: every kind of lie a peer can tell in a chunk is refused
// at that chunk with its sentinel error, and leaves the verifier as it
// was, so that the honest chunk is accepted afterwards and the state
// completes.
func TestChunkLies(t *testing.T) {
	f := chunkLies(t)
	chunks, cases := f.chunks, f.cases
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := snapshot.NewVerifier(f.height, f.root)
			for i := range tc.at {
				if _, err := v.Verify(chunks[i]); err != nil {
					t.Fatalf("honest chunk %d: %v", i, err)
				}
			}
			if _, err := v.Verify(tc.lie(t)); !errors.Is(err, tc.want) {
				t.Fatalf("lie: %v, want %v", err, tc.want)
			}
			for i := tc.at; i < len(chunks); i++ {
				if _, err := v.Verify(chunks[i]); err != nil {
					t.Fatalf("honest chunk %d after the lie: %v", i, err)
				}
			}
			if !v.Done() {
				t.Fatal("not done after every chunk")
			}
		})
	}
}

// TestRestoreRefusesLies: a restore stops at a lying chunk with nothing of
// it written, cannot finish before the state is complete or with another
// block than the trusted header's, and a store left mid-restore refuses
// to open as a chain until the restore is discarded.
func TestRestoreRefusesLies(t *testing.T) {
	n := grown(t)
	chunks := n.build(t, 4<<10)
	st := n.chain.State()
	trusted, err := snapshot.VerifyHeaders(n.g, n.headers, st.Validators)
	if err != nil {
		t.Fatal(err)
	}
	dst := openMemory(t)
	r, err := snapshot.NewRestorer(dst, n.g, trusted)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snapshot.NewRestorer(dst, n.g, trusted); err == nil {
		t.Fatal("a second restore into the same store began")
	}
	if err := r.Apply(chunks[0]); err != nil {
		t.Fatal(err)
	}
	c := decode(t, chunks[1])
	c.Parts[0].Entries[0].Value = []byte("forged")
	if err := r.Apply(c.Encode()); !errors.Is(err, snapshot.ErrChunkProof) {
		t.Fatalf("forged chunk: %v", err)
	}
	if _, err := dst.Get(c.Parts[0].Entries[0].Key); err == nil {
		t.Fatal("a refused chunk's entry was written")
	}
	base := n.blocks[len(n.blocks)-1]
	if _, err := r.Finish(base); !errors.Is(err, snapshot.ErrIncomplete) {
		t.Fatalf("finish early: %v", err)
	}
	// Left mid-restore, the store opens no chain.
	if _, err := registryOpen(dst, n); err == nil {
		t.Fatal("a half-restored store opened as a chain")
	}
	for _, raw := range chunks[1:] {
		if err := r.Apply(raw); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Finish(n.blocks[len(n.blocks)-2]); !errors.Is(err, snapshot.ErrUntrustedHeader) {
		t.Fatalf("finish with another block: %v", err)
	}
	if _, err := r.Finish(base); err != nil {
		t.Fatal(err)
	}
	if _, err := registryOpen(dst, n); err != nil {
		t.Fatal(err)
	}
}

// TestDiscardRestore: a restore begins only in an empty store; an
// unfinished one can be discarded, after which a restore begins again.
func TestDiscardRestore(t *testing.T) {
	n := grown(t)
	chunks := n.build(t, 4<<10)
	st := n.chain.State()
	trusted, err := snapshot.VerifyHeaders(n.g, n.headers, st.Validators)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snapshot.NewRestorer(n.store, n.g, trusted); err == nil {
		t.Fatal("a restore began in a store holding a chain")
	}
	dst := openMemory(t)
	r, err := snapshot.NewRestorer(dst, n.g, trusted)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Apply(chunks[0]); err != nil {
		t.Fatal(err)
	}
	if err := dst.DiscardRestore(); err != nil {
		t.Fatal(err)
	}
	if _, err := snapshot.NewRestorer(dst, n.g, trusted); err != nil {
		t.Fatalf("restore after discard: %v", err)
	}
}

// failingSink fails its first RestoreChunk.
type failingSink struct {
	*leveldb.Store
	failed bool
}

func (s *failingSink) RestoreChunk(h uint64, w []registry.KV, n []smt.Node) error {
	if !s.failed {
		s.failed = true
		return errors.New("disk full")
	}
	return s.Store.RestoreChunk(h, w, n)
}

// TestRestoreWriteFails: a chunk whose write fails is not counted as
// received: applying it again succeeds and the restore completes.
func TestRestoreWriteFails(t *testing.T) {
	n := grown(t)
	chunks := n.build(t, 4<<10)
	trusted, err := snapshot.VerifyHeaders(n.g, n.headers, n.chain.State().Validators)
	if err != nil {
		t.Fatal(err)
	}
	sink := &failingSink{Store: openMemory(t)}
	r, err := snapshot.NewRestorer(sink, n.g, trusted)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Apply(chunks[0]); err == nil {
		t.Fatal("failed write reported as success")
	}
	for i, c := range chunks {
		if err := r.Apply(c); err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
	}
	if _, err := r.Finish(n.blocks[len(n.blocks)-1]); err != nil {
		t.Fatal(err)
	}
}
