package snapshot_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"testing"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/smt"
	"github.com/idmesh/idmesh/registry/snapshot"
)

// mapSource is a snapshot.Source over a map and an smt.MemStore.
type mapSource struct {
	*smt.MemStore
	m map[string][]byte
}

func (s mapSource) Get(k []byte) ([]byte, error) {
	v, ok := s.m[string(k)]
	if !ok {
		return nil, registry.ErrNotFound
	}
	return v, nil
}

func (s mapSource) Scan(prefix []byte, fn func(k, v []byte) bool) error {
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if bytes.HasPrefix([]byte(k), prefix) && !fn([]byte(k), s.m[k]) {
			break
		}
	}
	return nil
}

// smallState returns a source of n entries and its root.
func smallState(tb testing.TB, n int) (mapSource, smt.Hash) {
	tb.Helper()
	s := mapSource{MemStore: smt.NewMemStore(), m: map[string][]byte{}}
	var ch []smt.Change
	for i := range n {
		k, v := fmt.Sprintf("k%d", i), fmt.Sprintf("value %d", i)
		s.m[k] = []byte(v)
		ch = append(ch, smt.Change{Key: sha256.Sum256([]byte(k)), Value: sha256.Sum256([]byte(v))})
	}
	root, nodes, err := smt.Update(s.MemStore, smt.Empty, ch)
	if err != nil {
		tb.Fatal(err)
	}
	s.Put(nodes)
	return s, root
}

// FuzzDecodeChunk: whatever decodes is canonical (re-encodes to the same
// bytes); decoding and verifying never panic, and a chunk that the
// verifier accepts as the first of a small state's snapshot holds only
// that state's entries.
func FuzzDecodeChunk(f *testing.F) {
	src, root := smallState(f, 40)
	var chunks [][]byte
	if _, err := snapshot.Build(src, 7, root, 300, func(c []byte) error {
		chunks = append(chunks, c)
		return nil
	}); err != nil {
		f.Fatal(err)
	}
	if len(chunks) < 3 {
		f.Fatalf("%d chunks", len(chunks))
	}
	for _, c := range chunks {
		f.Add(c)
	}
	f.Add([]byte{1})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 1, 0, 0, 1, 1, 'k', 0})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := snapshot.DecodeChunk(b)
		if err != nil {
			return
		}
		if got := c.Encode(); !bytes.Equal(got, b) {
			t.Fatalf("re-encoding differs:\n%x\n%x", got, b)
		}
		v := snapshot.NewVerifier(7, root)
		parts, err := v.VerifyChunk(c)
		if err != nil {
			return
		}
		for _, p := range parts {
			for _, e := range p.Entries {
				if w, ok := src.m[string(e.Key)]; !ok || !bytes.Equal(w, e.Value) {
					t.Fatalf("accepted entry %q=%q not in the state", e.Key, e.Value)
				}
			}
		}
	})
}

// TestSmallStateRoundTrip: a state kept in memory (not a store) goes
// through Build and a Verifier, every entry once, in chunks of every size.
func TestSmallStateRoundTrip(t *testing.T) {
	for _, n := range []int{1, 2, 3, 40, 500} {
		src, root := smallState(t, n)
		for _, target := range []int{1, 100, 300, 5000, 0} {
			v := snapshot.NewVerifier(1, root)
			seen := map[string]bool{}
			count, err := snapshot.Build(src, 1, root, target, func(c []byte) error {
				parts, err := v.Verify(c)
				for _, p := range parts {
					for _, e := range p.Entries {
						seen[string(e.Key)] = true
					}
				}
				return err
			})
			if err != nil || !v.Done() || len(seen) != n || count == 0 {
				t.Fatalf("%d entries, target %d: %d chunks, %d seen, done %v, %v", n, target, count, len(seen), v.Done(), err)
			}
		}
	}
}

// TestChunkBounds: a chunk over the part or entry bound is refused by the
// decoder, whatever its byte size, so that decoding never costs more
// memory than a fixed multiple of the bytes a peer sent.
func TestChunkBounds(t *testing.T) {
	e := snapshot.Entry{Key: []byte("k"), Value: nil}
	parts := make([]snapshot.Part, snapshot.MaxChunkParts+1)
	for i := range parts {
		parts[i] = snapshot.Part{Depth: 0, Entries: []snapshot.Entry{e}}
	}
	many := make([]snapshot.Entry, snapshot.MaxChunkEntries+1)
	for i := range many {
		many[i] = e
	}
	deep := make([]smt.Hash, 256)
	for name, c := range map[string]*snapshot.Chunk{
		"parts":         {Parts: parts},
		"entries":       {Parts: []snapshot.Part{{Entries: many}}},
		"entries split": {Parts: []snapshot.Part{{Entries: many[:snapshot.MaxChunkEntries/2+1]}, {Entries: many[:snapshot.MaxChunkEntries/2]}}},
		"depth":         {Parts: []snapshot.Part{{Depth: 257, Siblings: append(deep, smt.Hash{}), Entries: many[:1]}}},
	} {
		b := c.Encode()
		if len(b) > snapshot.MaxChunkBytes {
			t.Fatalf("%s: %d bytes", name, len(b))
		}
		if _, err := snapshot.DecodeChunk(b); !errors.Is(err, snapshot.ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	ok := &snapshot.Chunk{Parts: []snapshot.Part{{Depth: 256, Siblings: deep, Entries: many[:snapshot.MaxChunkEntries]}}}
	if _, err := snapshot.DecodeChunk(ok.Encode()); err != nil {
		t.Fatalf("chunk at the bounds: %v", err)
	}
}
