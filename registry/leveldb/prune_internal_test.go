package leveldb

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/syndtr/goleveldb/leveldb/util"
	"pgregory.net/rapid"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/smt"
)

// setDel runs "set KEY VALUE" and "del KEY".
type setDel struct{}

func (setDel) DeliverTx(_ registry.TxContext, st *registry.Overlay, p []byte) error {
	f := strings.Fields(string(p))
	switch {
	case len(f) == 3 && f[0] == "set":
		st.Set([]byte(f[1]), []byte(f[2]))
	case len(f) == 2 && f[0] == "del":
		st.Set([]byte(f[1]), nil)
	default:
		return registry.Reject(registry.CodeInvalid, errors.New("want set K V or del K"))
	}
	return nil
}

// tb is what the helpers need of *testing.T and *rapid.T.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

var pruneKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))

func pruneChain(t tb, s *Store) *registry.Chain {
	t.Helper()
	g := &registry.Genesis{ChainID: "prune", GenesisTime: time.Unix(1_700_000_000, 0).UTC(),
		Validators: []registry.Validator{{PubKey: pruneKey.Public().(ed25519.PublicKey), Power: 1}}}
	c, err := registry.OpenChain(s, g, registry.NewMachine(map[registry.TxType]registry.Handler{registry.TxDIDOperation: setDel{}}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// commitCmds commits one block of the commands, a second after the tip.
func commitCmds(t tb, c *registry.Chain, cmds []string) {
	t.Helper()
	st := c.State()
	var last *registry.Commit
	if st.Height > 0 {
		var err error
		if last, err = c.Store().Commit(st.Height); err != nil {
			t.Fatal(err)
		}
	}
	txs := make([]registry.Tx, len(cmds))
	for i, s := range cmds {
		txs[i] = registry.Tx{Type: registry.TxDIDOperation, Payload: []byte(s)}
	}
	addr := registry.AddressOf(pruneKey.Public().(ed25519.PublicKey))
	b, rej, err := c.Propose(txs, st.LastBlockTime.Add(time.Second), addr, last)
	if err != nil || len(rej) > 0 {
		t.Fatalf("propose: %v %v", err, rej)
	}
	id := b.ID()
	sig := ed25519.Sign(pruneKey, registry.VoteSignBytes(st.ChainID, b.Header.Height, 0, id))
	if _, err := c.Commit(b, &registry.Commit{Height: b.Header.Height, BlockID: id, Signatures: []registry.CommitSig{{Validator: addr, Signature: sig}}}); err != nil {
		t.Fatal(err)
	}
}

const pruneKeys = 12

// proofs returns, per key, the encoded proof and value hash at height.
func proofs(t tb, c *registry.Chain, height uint64) ([]string, error) {
	out := make([]string, pruneKeys)
	for i := range out {
		_, vh, p, root, err := c.ProveKeyAt(fmt.Appendf(nil, "k%d", i), height)
		if err != nil {
			return nil, err
		}
		if err := p.Verify(smt.Hash(root), smt.Hash(registry.Sum(fmt.Appendf(nil, "k%d", i))), vh); err != nil {
			t.Fatalf("proof of k%d at %d does not verify: %v", i, height, err)
		}
		out[i] = fmt.Sprintf("%x %v", p.Encode(), vh)
	}
	return out, nil
}

// reachableNodes adds the nodes of the tree under root to out, failing
// if one is missing.
func reachableNodes(t tb, r smt.NodeReader, root smt.Hash, out map[smt.Hash]bool) {
	t.Helper()
	if root == smt.Empty || out[root] {
		return
	}
	enc, err := r.Node(root)
	if err != nil {
		t.Fatalf("retained tree: %v", err)
	}
	out[root] = true
	if enc[0] == 1 {
		reachableNodes(t, r, smt.Hash(enc[1:33]), out)
		reachableNodes(t, r, smt.Hash(enc[33:]), out)
	}
}

// checkPruned checks the store after a complete prune: every retained
// version is whole and proves what it proved when it was committed,
// every pruned one answers ErrPruned, and the store holds exactly the
// nodes of the retained versions, no journal entry and no version index
// entry below the floor.
func checkPruned(t tb, s *Store, c *registry.Chain, want map[uint64][]string) {
	t.Helper()
	floor, tip := s.PruneFloor(), c.State().Height
	live := make(map[smt.Hash]bool)
	for h := uint64(0); h <= tip; h++ {
		got, err := proofs(t, c, h)
		if h < floor {
			if !errors.Is(err, registry.ErrPruned) {
				t.Fatalf("height %d below the floor %d: %v, want ErrPruned", h, floor, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("retained height %d (floor %d): %v", h, floor, err)
		}
		for i := range got {
			if got[i] != want[h][i] {
				t.Fatalf("height %d key %d: proof changed by pruning", h, i)
			}
		}
		b, err := s.Block(h)
		if h > 0 && err != nil {
			t.Fatal(err)
		}
		if h > 0 {
			reachableNodes(t, s, smt.Hash(b.Header.StateRoot), live)
		}
	}
	stored := make(map[smt.Hash]bool)
	it := s.db.NewIterator(util.BytesPrefix([]byte{pNode}), nil)
	for it.Next() {
		stored[smt.Hash(it.Key()[1:])] = true
	}
	it.Release()
	if floor > 0 && len(stored) != len(live) {
		t.Fatalf("after pruning below %d the store holds %d nodes, the retained versions %d", floor, len(stored), len(live))
	}
	for h := range live {
		if !stored[h] {
			t.Fatalf("retained node %s missing", h)
		}
	}
	it = s.db.NewIterator(&util.Range{Start: []byte{pStale}, Limit: key(pStale, u64(floor+1))}, nil)
	if it.Next() {
		t.Fatalf("journal entry %x below the floor %d left", it.Key(), floor)
	}
	it.Release()
	it = s.db.NewIterator(&util.Range{Start: []byte{pVersion}, Limit: key(pVersion, u64(floor))}, nil)
	if it.Next() {
		t.Fatalf("version index entry %x below the floor %d left", it.Key(), floor)
	}
	it.Release()
}

func randomBlock(t *rapid.T) []string {
	n := rapid.IntRange(1, 6).Draw(t, "txs")
	cmds := make([]string, n)
	for i := range cmds {
		k := rapid.IntRange(0, pruneKeys-1).Draw(t, "key")
		if rapid.IntRange(0, 3).Draw(t, "op") == 0 {
			cmds[i] = fmt.Sprintf("del k%d", k)
		} else {
			// Few values: keys often go back to an earlier value, so
			// nodes leave the tree and come back.
			cmds[i] = fmt.Sprintf("set k%d v%d", k, rapid.IntRange(0, 2).Draw(t, "value"))
		}
	}
	return cmds
}

// TestPruneKeepsRetainedVersions commits random blocks (sets, deletes,
// keys set back to earlier values) and prunes between them with random
// retention windows and batch sizes, then prunes completely: every
// retained root proves exactly what it proved before, every pruned one
// fails with ErrPruned, and nothing but the retained versions' nodes is
// left.
func TestPruneKeepsRetainedVersions(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s, err := OpenMemory()
		if err != nil {
			rt.Fatal(err)
		}
		defer s.Close()
		s.JournalStale()
		c := pruneChain(rt, s)
		want := map[uint64][]string{}
		if want[0], err = proofs(rt, c, 0); err != nil {
			rt.Fatal(err)
		}
		var p *registry.Pruner
		for range rapid.IntRange(1, 25).Draw(rt, "blocks") {
			commitCmds(rt, c, randomBlock(rt))
			h := c.State().Height
			if want[h], err = proofs(rt, c, h); err != nil {
				rt.Fatal(err)
			}
			if rapid.Bool().Draw(rt, "prune") {
				if p, err = registry.NewPruner(c, time.Duration(rapid.IntRange(1, 8).Draw(rt, "retention"))*time.Second); err != nil {
					rt.Fatal(err)
				}
				p.MinVersions = 1 // the window alone decides here
				p.Batch = rapid.IntRange(1, 20).Draw(rt, "batch")
				if _, _, err := p.Prune(context.Background(), rapid.IntRange(1, 3).Draw(rt, "batches")); err != nil {
					rt.Fatal(err)
				}
			}
		}
		if p != nil {
			if _, more, err := p.Prune(context.Background(), 0); err != nil || more {
				rt.Fatalf("complete prune: more %v, %v", more, err)
			}
		}
		checkPruned(rt, s, c, want)
	})
}

// TestPruneResumesAfterCrash stops a prune after k batches by closing the
// store (what a crash between batches leaves: each batch is one LevelDB
// write), reopens it and finishes: the result is a complete prune.
func TestPruneResumesAfterCrash(t *testing.T) {
	for _, k := range []int{1, 2, 5, 13} {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			s.JournalStale()
			c := pruneChain(t, s)
			want := map[uint64][]string{}
			for i := range 30 {
				commitCmds(t, c, []string{fmt.Sprintf("set k%d v%d", i%pruneKeys, i%3), fmt.Sprintf("set k%d v%d", (i*5)%pruneKeys, i%2), fmt.Sprintf("del k%d", (i*7)%pruneKeys)})
				h := c.State().Height
				if want[h], err = proofs(t, c, h); err != nil {
					t.Fatal(err)
				}
			}
			p, err := registry.NewPruner(c, 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			p.MinVersions = 1 // the window alone decides here
			p.Batch = 3
			if _, more, err := p.Prune(context.Background(), k); err != nil || !more {
				t.Fatalf("first %d batches: more %v, %v", k, more, err)
			}
			floor := s.PruneFloor()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if s, err = Open(dir); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.PruneFloor() != floor {
				t.Fatalf("floor %d after reopening, was %d", s.PruneFloor(), floor)
			}
			c = pruneChain(t, s)
			// Retained versions are whole even in the middle.
			for h := floor; h <= c.State().Height; h++ {
				if _, err := proofs(t, c, h); err != nil {
					t.Fatalf("height %d in the middle of a prune: %v", h, err)
				}
			}
			if p, err = registry.NewPruner(c, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			p.MinVersions = 1 // the window alone decides here
			if _, more, err := p.Prune(context.Background(), 0); err != nil || more {
				t.Fatalf("resume: more %v, %v", more, err)
			}
			if s.PruneFloor() != 20 {
				t.Fatalf("floor %d, want 20 (blocks 20..30 are within 10s of the tip)", s.PruneFloor())
			}
			checkPruned(t, s, c, want)
		})
	}
}

// TestPruneStats checks the counts a prune reports, and that a second
// prune at the same tip finds nothing to do.
func TestPruneStats(t *testing.T) {
	s, err := OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.JournalStale()
	c := pruneChain(t, s)
	for i := range 10 {
		commitCmds(t, c, []string{fmt.Sprintf("set k%d v%d", i%3, i)})
	}
	for _, bad := range []time.Duration{0, -time.Second} {
		if _, err := registry.NewPruner(c, bad); err == nil {
			t.Fatalf("a pruner with retention %s", bad)
		}
	}
	p, err := registry.NewPruner(c, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	p.MinVersions = 1 // the window alone decides here
	var observed registry.PruneStats
	p.Observe = func(s registry.PruneStats, floor uint64) { observed = observed.Add(s) }
	total, more, err := p.Prune(context.Background(), 0)
	if err != nil || more {
		t.Fatal(more, err)
	}
	if s.PruneFloor() != 8 || total.Versions != 7 || total.Nodes == 0 || total.Bytes == 0 || total != observed {
		t.Fatalf("floor %d, stats %+v, observed %+v", s.PruneFloor(), total, observed)
	}
	if again, _, err := p.Prune(context.Background(), 0); err != nil || again != (registry.PruneStats{}) {
		t.Fatalf("second prune: %+v %v", again, err)
	}
	// k0 was v6 at height 8 and is v9 now: the proof names v6's hash and
	// no value; k1 is still v7, set at height 8: its value comes along.
	v, vh, _, _, err := c.ProveKeyAt([]byte("k0"), 8)
	if err != nil || v != nil || vh == nil || *vh != smt.Hash(registry.Sum([]byte("v6"))) {
		t.Fatalf("k0 at 8: %q %v %v", v, vh, err)
	}
	v, vh, _, _, err = c.ProveKeyAt([]byte("k1"), 9)
	if err != nil || string(v) != "v7" || vh == nil || *vh != smt.Hash(registry.Sum([]byte("v7"))) {
		t.Fatalf("k1 at 9: %q %v %v", v, vh, err)
	}
	// The tip is always kept, whatever the floor asked.
	if _, _, err := s.PruneStep(1000, 10); err != nil || s.PruneFloor() != 10 {
		t.Fatalf("floor %d after asking 1000 at tip 10: %v", s.PruneFloor(), err)
	}
	if _, _, _, _, err := c.ProveKeyAt([]byte("k1"), 9); !errors.Is(err, registry.ErrPruned) {
		t.Fatalf("proof at a pruned height: %v", err)
	}
	if _, _, _, _, err := c.ProveKeyAt([]byte("k1"), 11); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("proof above the tip: %v", err)
	}
	// The floor never goes down.
	if _, _, err := s.PruneStep(3, 10); err != nil || s.PruneFloor() != 10 {
		t.Fatalf("floor %d after asking 3: %v", s.PruneFloor(), err)
	}
}

// TestPruneCrash kills a process that commits blocks (sets, deletes,
// values coming back) while its pruner runs with a window of 3 blocks
// and batches of 7 entries, at varying moments, and checks after each
// kill that every retained version is whole, the pruned ones answer
// ErrPruned, and that resuming leaves exactly the retained versions'
// nodes.
func TestPruneCrash(t *testing.T) {
	if dir := os.Getenv("IDMESH_PRUNE_CRASH_CHILD"); dir != "" {
		pruneCrashChild(t, dir)
		return
	}
	dir := t.TempDir()
	for round := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPruneCrash$", "-test.count=1")
		cmd.Env = append(os.Environ(), "IDMESH_PRUNE_CRASH_CHILD="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		for seen := 0; seen < 5+3*round && sc.Scan(); {
			if strings.HasPrefix(sc.Text(), "committed") {
				seen++
			}
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()

		s, err := Open(dir)
		if err != nil {
			t.Fatalf("reopen after kill: %v", err)
		}
		c := pruneChain(t, s)
		floor, tip := s.PruneFloor(), c.State().Height
		if round > 0 && floor == 0 {
			t.Fatalf("round %d: nothing pruned at tip %d", round, tip)
		}
		for h := uint64(0); h <= tip; h++ {
			_, err := proofs(t, c, h)
			if h < floor && !errors.Is(err, registry.ErrPruned) || h >= floor && err != nil {
				t.Fatalf("round %d: height %d (floor %d, tip %d): %v", round, h, floor, tip, err)
			}
			if h >= floor && h > 0 {
				b, err := s.Block(h)
				if err != nil {
					t.Fatal(err)
				}
				reachableNodes(t, s, smt.Hash(b.Header.StateRoot), map[smt.Hash]bool{})
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func pruneCrashChild(t *testing.T, dir string) {
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := pruneChain(t, s)
	p, err := registry.NewPruner(c, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	p.MinVersions = 1 // the window alone decides here
	p.Batch = 7
	go func() { _ = p.Run(context.Background()) }()
	for i := c.State().Height; ; i++ {
		commitCmds(t, c, []string{
			fmt.Sprintf("set k%d v%d", i%pruneKeys, i%3), fmt.Sprintf("set k%d v%d", (i*5+1)%pruneKeys, i%2),
			fmt.Sprintf("del k%d", (i*7+3)%pruneKeys), fmt.Sprintf("set k%d v%d", (i*11+2)%pruneKeys, i%4),
		})
		p.Notify()
		fmt.Printf("committed %d\n", c.State().Height)
	}
}

// TestNoJournalWithoutPruner: a store without a pruner journals nothing,
// and a prune later deletes nothing of the blocks saved before, so every
// version stays whole whatever the floor says.
func TestNoJournalWithoutPruner(t *testing.T) {
	s, err := OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := pruneChain(t, s)
	for i := range 6 {
		commitCmds(t, c, []string{fmt.Sprintf("set k%d v%d", i%2, i)})
	}
	it := s.db.NewIterator(util.BytesPrefix([]byte{pStale}), nil)
	if it.Next() {
		t.Fatalf("journal entry %x without a pruner", it.Key())
	}
	it.Release()
	p, err := registry.NewPruner(c, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	p.MinVersions = 1 // the window alone decides here
	if st, _, err := p.Prune(context.Background(), 0); err != nil || st.Nodes != 0 || s.PruneFloor() != 5 {
		t.Fatalf("prune: %+v floor %d %v", st, s.PruneFloor(), err)
	}
	for h := uint64(1); h <= 6; h++ {
		b, _ := s.Block(h)
		reachableNodes(t, s, smt.Hash(b.Header.StateRoot), map[smt.Hash]bool{})
	}
	// From now on blocks are journaled, and pruned.
	for i := range 4 {
		commitCmds(t, c, []string{fmt.Sprintf("set k%d v%d", i%2, i+10)})
	}
	if st, _, err := p.Prune(context.Background(), 0); err != nil || st.Nodes == 0 {
		t.Fatalf("prune after journaling: %+v %v", st, err)
	}
}
