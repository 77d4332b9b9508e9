package snapshot_test

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/smt"
	"github.com/idmesh/idmesh/registry/snapshot"
)

var _ snapshot.NodeLister = (*leveldb.Store)(nil)

// checkAll checks chunks with r.Check on several goroutines at once, last
// chunk first, and returns them by index.
func checkAll(t *testing.T, r *snapshot.Restorer, chunks [][]byte) []*snapshot.Checked {
	t.Helper()
	out := make([]*snapshot.Checked, len(chunks))
	errs := make([]error, len(chunks))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := len(chunks) - 1 - w; i >= 0; i -= 4 {
				out[i], errs[i] = r.Check(chunks[i])
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("check chunk %d: %v", i, err)
		}
		if out[i].Index() != uint32(i) {
			t.Fatalf("chunk %d checked as %d", i, out[i].Index())
		}
	}
	return out
}

// TestCheckConcurrently: chunks checked at once on several goroutines, in
// any order, and written in index order restore the state as Apply does;
// Write refuses a chunk out of order, a chunk again and a chunk checked
// by another restore, writing nothing of it.
func TestCheckConcurrently(t *testing.T) {
	n := grown(t)
	chunks := n.build(t, 4<<10)
	if len(chunks) < 6 {
		t.Fatalf("%d chunks", len(chunks))
	}
	trusted, err := snapshot.VerifyHeaders(n.g, n.headers, n.chain.State().Validators)
	if err != nil {
		t.Fatal(err)
	}
	dst := openMemory(t)
	r, err := snapshot.NewRestorer(dst, n.g, trusted)
	if err != nil {
		t.Fatal(err)
	}
	checked := checkAll(t, r, chunks)

	other, err := snapshot.NewRestorer(openMemory(t), n.g, trusted)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Write(checked[0]); err == nil {
		t.Fatal("a chunk checked by another restore was written")
	}
	if err := r.Write(checked[1]); !errors.Is(err, snapshot.ErrChunkOrder) {
		t.Fatalf("chunk 1 first: %v, want ErrChunkOrder", err)
	}
	first := decode(t, chunks[1]).Parts[0].Entries[0].Key
	if _, err := dst.Get(first); err == nil {
		t.Fatal("a chunk written out of order was stored")
	}
	for i, c := range checked {
		if err := r.Write(c); err != nil {
			t.Fatalf("write chunk %d: %v", i, err)
		}
		if i == 2 {
			if err := r.Write(c); !errors.Is(err, snapshot.ErrChunkOrder) {
				t.Fatalf("chunk 2 again: %v, want ErrChunkOrder", err)
			}
		}
	}
	if !r.Verifier().Done() {
		t.Fatal("not done after every chunk")
	}
	if _, err := r.Finish(n.blocks[len(n.blocks)-1]); err != nil {
		t.Fatal(err)
	}
	if err := n.store.Scan(nil, func(k, v []byte) bool {
		if got, err := dst.Get(k); err != nil || !bytes.Equal(got, v) {
			t.Fatalf("key %q: %q, %v", k, got, err)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	// A chunk checked by Verifier.Check (no nodes built yet) is written
	// too.
	dst2 := openMemory(t)
	r2, err := snapshot.NewRestorer(dst2, n.g, trusted)
	if err != nil {
		t.Fatal(err)
	}
	for i, raw := range chunks {
		c, err := r2.Verifier().Check(raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := r2.Write(c); err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
	}
	if _, err := r2.Finish(n.blocks[len(n.blocks)-1]); err != nil {
		t.Fatal(err)
	}
}

// TestChunkLiesChecked: every lie of TestChunkLies told to a verifier
// that checks chunks on their own (Check) and accepts them in order
// (Accept) is refused with the same error, at Check or at Accept, and
// changes nothing: the honest chunks are then accepted and the state
// completes.
func TestChunkLiesChecked(t *testing.T) {
	f := chunkLies(t)
	checkThenAccept := func(v *snapshot.Verifier, raw []byte) error {
		c, err := v.Check(raw)
		if err != nil {
			return err
		}
		_, err = v.Accept(c)
		return err
	}
	for _, tc := range f.cases {
		t.Run(tc.name, func(t *testing.T) {
			v := snapshot.NewVerifier(f.height, f.root)
			for i := range tc.at {
				if err := checkThenAccept(v, f.chunks[i]); err != nil {
					t.Fatalf("honest chunk %d: %v", i, err)
				}
			}
			if err := checkThenAccept(v, tc.lie(t)); !errors.Is(err, tc.want) {
				t.Fatalf("lie: %v, want %v", err, tc.want)
			}
			for i := tc.at; i < len(f.chunks); i++ {
				if err := checkThenAccept(v, f.chunks[i]); err != nil {
					t.Fatalf("honest chunk %d after the lie: %v", i, err)
				}
			}
			if !v.Done() {
				t.Fatal("not done after every chunk")
			}
		})
	}
}

// faultySink is a store that loses, alters or adds tree nodes in the
// write of one chunk, as a faulty disk or a bug could.
type faultySink struct {
	*leveldb.Store
	at    int // the RestoreChunk call to spoil
	calls int
	fault func(nodes []smt.Node) []smt.Node
}

func (s *faultySink) RestoreChunk(h uint64, w []registry.KV, nodes []smt.Node) error {
	if s.calls == s.at {
		nodes = s.fault(cloneNodes(nodes))
	}
	s.calls++
	return s.Store.RestoreChunk(h, w, nodes)
}

// cloneNodes copies nodes and their encodings.
func cloneNodes(nodes []smt.Node) []smt.Node {
	out := make([]smt.Node, len(nodes))
	for i, n := range nodes {
		out[i] = smt.Node{Hash: n.Hash, Encoding: bytes.Clone(n.Encoding)}
	}
	return out
}

// plainSink hides the store's NodeLister: Finish walks the tree.
type plainSink struct {
	snapshot.Sink
	store *leveldb.Store
}

func (s plainSink) Get(k []byte) ([]byte, error) { return s.store.Get(k) }

// TestFinishCatchesStoreFaults: a store that lost a tree node, holds one
// altered or one the restore did not write fails Finish with
// ErrStateMismatch (one pass over the stored nodes), as it does when the
// tree is walked from the root (a sink that cannot list its nodes); an
// honest store passes both.
func TestFinishCatchesStoreFaults(t *testing.T) {
	n := grown(t)
	chunks := n.build(t, 4<<10)
	trusted, err := snapshot.VerifyHeaders(n.g, n.headers, n.chain.State().Validators)
	if err != nil {
		t.Fatal(err)
	}
	base := n.blocks[len(n.blocks)-1]
	extra := smt.LeafNode(smt.Hash{1}, smt.Hash{2})
	faults := map[string]func([]smt.Node) []smt.Node{
		"none":         func(ns []smt.Node) []smt.Node { return ns },
		"node lost":    func(ns []smt.Node) []smt.Node { return ns[1:] },
		"leaf lost":    func(ns []smt.Node) []smt.Node { return ns[:len(ns)-1] },
		"node altered": func(ns []smt.Node) []smt.Node { ns[0].Encoding[40] ^= 1; return ns },
		"node added":   func(ns []smt.Node) []smt.Node { return append(ns, extra) },
		"node swapped": func(ns []smt.Node) []smt.Node { ns[0] = extra; return ns },
	}
	for name, fault := range faults {
		for _, walk := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/walk=%v", name, walk), func(t *testing.T) {
				store := openMemory(t)
				var sink snapshot.Sink = &faultySink{Store: store, at: 2, fault: fault}
				if walk {
					sink = plainSink{Sink: sink, store: store}
				}
				r, err := snapshot.NewRestorer(sink, n.g, trusted)
				if err != nil {
					t.Fatal(err)
				}
				for i, c := range chunks {
					if err := r.Apply(c); err != nil {
						t.Fatalf("chunk %d: %v", i, err)
					}
				}
				_, err = r.Finish(base)
				switch {
				case name == "none" && err != nil:
					t.Fatalf("honest store: %v", err)
				case name == "node added" && walk:
					// A walk from the root does not see a node outside
					// the tree; the pass over the stored nodes does.
				case name != "none" && !errors.Is(err, snapshot.ErrStateMismatch) && !errors.Is(err, smt.ErrMissingNode):
					t.Fatalf("finish (walk %v): %v, want ErrStateMismatch", walk, err)
				}
				if name != "none" && !walk {
					if !errors.Is(err, snapshot.ErrStateMismatch) {
						t.Fatalf("finish: %v, want ErrStateMismatch", err)
					}
					if _, err := registryOpen(store, n); err == nil {
						t.Fatal("a store that failed its check opened as a chain")
					}
				}
			})
		}
	}
}

// slowSource is a source whose reads yield the processor a varying
// number of times, so that Build's readers finish their chunks out of
// order.
type slowSource struct {
	snapshot.Source
	mu sync.Mutex
	n  int
}

func (s *slowSource) Get(k []byte) ([]byte, error) {
	s.mu.Lock()
	s.n++
	y := s.n % 7
	s.mu.Unlock()
	for range y * 10 {
		runtime.Gosched()
	}
	return s.Source.Get(k)
}

// TestBuildInOrder: chunks read on several goroutines are emitted in
// order and are the same bytes however the reads interleave; an emit
// that fails stops Build with its error.
func TestBuildInOrder(t *testing.T) {
	src, root := smallState(t, 3000)
	build := func(s snapshot.Source) [][]byte {
		var out [][]byte
		if _, err := snapshot.Build(s, 1, root, 2000, func(c []byte) error {
			out = append(out, c)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := build(src)
	if len(want) < 20 {
		t.Fatalf("%d chunks", len(want))
	}
	got := build(&slowSource{Source: src})
	if len(got) != len(want) {
		t.Fatalf("%d chunks, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("chunk %d differs", i)
		}
	}
	stop := errors.New("peer gone")
	emitted := 0
	_, err := snapshot.Build(&slowSource{Source: src}, 1, root, 2000, func(c []byte) error {
		if emitted == 5 {
			return stop
		}
		emitted++
		return nil
	})
	if !errors.Is(err, stop) || emitted != 5 {
		t.Fatalf("build after a failed emit: %v, %d emitted", err, emitted)
	}
}

// TestCheckWhileWriting: chunks are checked on several goroutines while
// the writer writes the earlier ones, one write failing and retried
// (race detector: Check reads nothing Write changes).
func TestCheckWhileWriting(t *testing.T) {
	n := grown(t)
	chunks := n.build(t, 2<<10)
	trusted, err := snapshot.VerifyHeaders(n.g, n.headers, n.chain.State().Validators)
	if err != nil {
		t.Fatal(err)
	}
	sink := &failingSink{Store: openMemory(t)}
	r, err := snapshot.NewRestorer(sink, n.g, trusted)
	if err != nil {
		t.Fatal(err)
	}
	raws := make(chan []byte)
	checked := make(chan *snapshot.Checked, len(chunks))
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for raw := range raws {
				c, err := r.Check(raw)
				if err != nil {
					t.Error(err)
					continue
				}
				checked <- c
			}
		})
	}
	go func() {
		for _, c := range chunks {
			raws <- c
		}
		close(raws)
		wg.Wait()
		close(checked)
	}()
	pending := map[uint32]*snapshot.Checked{}
	failed := false
	for c := range checked {
		pending[c.Index()] = c
		for {
			next, ok := pending[r.Verifier().Next()]
			if !ok {
				break
			}
			if err := r.Write(next); err != nil {
				if failed {
					t.Fatal(err)
				}
				failed = true
				continue // the same chunk again
			}
			delete(pending, next.Index())
		}
	}
	if !failed || !r.Verifier().Done() {
		t.Fatalf("failed %v, done %v", failed, r.Verifier().Done())
	}
	if _, err := r.Finish(n.blocks[len(n.blocks)-1]); err != nil {
		t.Fatal(err)
	}
}
