package leveldb

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/smt"
)

// commitAt commits one block of the commands with the given block time.
func commitAt(t *testing.T, c *registry.Chain, at time.Time, cmds []string) {
	t.Helper()
	st := c.State()
	last, err := c.Store().Commit(st.Height)
	if err != nil {
		t.Fatal(err)
	}
	txs := make([]registry.Tx, len(cmds))
	for i, s := range cmds {
		txs[i] = registry.Tx{Type: registry.TxDIDOperation, Payload: []byte(s)}
	}
	addr := registry.AddressOf(pruneKey.Public().(ed25519.PublicKey))
	b, _, err := c.Propose(txs, at, addr, last)
	if err != nil {
		t.Fatal(err)
	}
	id := b.ID()
	sig := ed25519.Sign(pruneKey, registry.VoteSignBytes(st.ChainID, b.Header.Height, 0, id))
	if _, err := c.Commit(b, &registry.Commit{Height: b.Header.Height, BlockID: id, Signatures: []registry.CommitSig{{Validator: addr, Signature: sig}}}); err != nil {
		t.Fatal(err)
	}
}

// provable fails unless every height in from..to proves its keys.
func provable(t *testing.T, c *registry.Chain, from, to uint64) {
	t.Helper()
	for h := from; h <= to; h++ {
		if _, err := proofs(t, c, h); err != nil {
			t.Fatalf("height %d: %v", h, err)
		}
	}
}

// TestPruneFutureBlockTime (review 2, F1): a block whose time is a day
// ahead of the node's clock does not move the window: the versions of
// the last 24h of the node's clock stay, and with the clock ahead too,
// the latest MinRetainedVersions versions stay whatever the times say.
func TestPruneFutureBlockTime(t *testing.T) {
	for _, c := range []struct {
		name       string
		minKeep    uint64
		clockAtTip bool // the node's clock is as far ahead as the block
		wantFloor  uint64
	}{
		{"local clock", 1, false, 1},
		{"minimum versions", registry.MinRetainedVersions, true, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := OpenMemory()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ch := pruneChain(t, s)
			p, err := registry.NewPruner(ch, registry.DefaultStateRetention)
			if err != nil {
				t.Fatal(err)
			}
			p.MinVersions = c.minKeep
			var now time.Time
			p.Now = func() time.Time { return now }
			for i := range 20 {
				commitCmds(t, ch, []string{fmt.Sprintf("set k%d v%d", i%3, i)})
			}
			now = ch.State().LastBlockTime.Add(time.Second)
			if _, _, err := p.Prune(context.Background(), 0); err != nil {
				t.Fatal(err)
			}
			future := ch.State().LastBlockTime.Add(25 * time.Hour)
			commitAt(t, ch, future, []string{"set k0 x"})
			if c.clockAtTip {
				now = future
			}
			st, _, err := p.Prune(context.Background(), 0)
			if err != nil {
				t.Fatal(err)
			}
			if f := s.PruneFloor(); f != c.wantFloor || st.Versions != 0 || st.Nodes != 0 {
				t.Fatalf("floor %d (want %d), deleted %+v", f, c.wantFloor, st)
			}
			provable(t, ch, max(c.wantFloor, 1), ch.State().Height)
		})
	}
}

// TestPruneMinVersions: however short the retention, the latest
// MinVersions versions are kept, the floor moving one height per block.
func TestPruneMinVersions(t *testing.T) {
	s, err := OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := pruneChain(t, s)
	p, err := registry.NewPruner(c, time.Nanosecond)
	if err != nil {
		t.Fatal(err)
	}
	if p.MinVersions != registry.MinRetainedVersions {
		t.Fatalf("default MinVersions %d", p.MinVersions)
	}
	p.MinVersions = 4
	for i := range 10 {
		commitCmds(t, c, []string{fmt.Sprintf("set k%d v%d", i%3, i)})
		if _, _, err := p.Prune(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
		tip := c.State().Height
		if want := max(int64(tip)-3, 0); s.PruneFloor() != uint64(want) {
			t.Fatalf("tip %d floor %d, want %d", tip, s.PruneFloor(), want)
		}
		provable(t, c, max(s.PruneFloor(), 1), tip)
	}
}

// dropVersionIndex deletes the version index: what a binary from before
// it leaves.
func dropVersionIndex(t *testing.T, s *Store) {
	t.Helper()
	it := s.db.NewIterator(util.BytesPrefix([]byte{pVersion}), nil)
	defer it.Release()
	for it.Next() {
		if err := s.db.Delete(append([]byte(nil), it.Key()...), nil); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPruneAfterUpgrade (review 2, F2): the first prune of a store whose
// older blocks have no version index dates them from their headers: with
// every block within the window nothing is pruned (the old code raised
// the floor to the first indexed height), and with a short window the
// floor is where the block times put it; the heights read are indexed.
func TestPruneAfterUpgrade(t *testing.T) {
	for _, c := range []struct {
		name      string
		retention time.Duration
		wantFloor uint64
	}{
		{"all within the window", registry.DefaultStateRetention, 1},
		{"window of 2s", 2 * time.Second, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := OpenMemory()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ch := pruneChain(t, s)
			for i := range 5 {
				commitCmds(t, ch, []string{fmt.Sprintf("set k%d v%d", i%2, i)})
			}
			dropVersionIndex(t, s)
			p, err := registry.NewPruner(ch, c.retention)
			if err != nil {
				t.Fatal(err)
			}
			p.MinVersions = 1
			p.Now = func() time.Time { return ch.State().LastBlockTime }
			commitCmds(t, ch, []string{"set k0 again", "set k1 again"})
			if _, _, err := p.Prune(context.Background(), 0); err != nil {
				t.Fatal(err)
			}
			if f := s.PruneFloor(); f != c.wantFloor {
				t.Fatalf("floor %d, want %d", f, c.wantFloor)
			}
			provable(t, ch, c.wantFloor, ch.State().Height)
			for h := uint64(1); h < c.wantFloor; h++ {
				if _, _, _, _, err := ch.ProveKeyAt([]byte("k0"), h); !errors.Is(err, registry.ErrPruned) {
					t.Fatalf("height %d: %v", h, err)
				}
			}
			if _, err := s.db.Get(key(pVersion, u64(c.wantFloor)), nil); err != nil {
				t.Fatalf("version %d not indexed: %v", c.wantFloor, err)
			}
		})
	}
}

// TestVersionBackfillBounded: one FirstVersionSince indexes at most
// MaxVersionBackfill unindexed heights and never reports a height past
// the first it could not date.
func TestVersionBackfillBounded(t *testing.T) {
	s, err := OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := pruneChain(t, s)
	n := MaxVersionBackfill + 5
	for i := range n {
		commitCmds(t, c, []string{fmt.Sprintf("set k%d v%d", i%3, i)})
	}
	dropVersionIndex(t, s)
	// Every block is before the cutoff: the first call stops at the
	// first height it may not index yet, the second finishes.
	late := c.State().LastBlockTime.Add(time.Hour)
	h, ok, err := s.FirstVersionSince(late)
	if err != nil || !ok || h != MaxVersionBackfill+1 {
		t.Fatalf("first call: %d %v %v", h, ok, err)
	}
	if h, ok, err := s.FirstVersionSince(late); err != nil || ok {
		t.Fatalf("second call: %d %v %v", h, ok, err)
	}
	tip := c.State()
	if h, ok, err := s.FirstVersionSince(tip.LastBlockTime); err != nil || !ok || h != tip.Height {
		t.Fatalf("at the tip's time: %d %v %v", h, ok, err)
	}
}

// hookStore runs hook (once) before the first node read.
type hookStore struct {
	*Store
	hook func()
}

func (r *hookStore) Node(h smt.Hash) ([]byte, error) {
	if f := r.hook; f != nil {
		r.hook = nil
		f()
	}
	return r.Store.Node(h)
}

// TestProveKeyRetriesPrunedRoot (review 2, F3): a current-state proof
// whose root pruning drops while it walks it (a block and a prune land
// between reading the tip and the walk) is proved again at the new tip
// instead of failing with a missing node.
func TestProveKeyRetriesPrunedRoot(t *testing.T) {
	s, err := OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hs := &hookStore{Store: s}
	g := &registry.Genesis{ChainID: "prune", GenesisTime: time.Unix(1_700_000_000, 0).UTC(),
		Validators: []registry.Validator{{PubKey: pruneKey.Public().(ed25519.PublicKey), Power: 1}}}
	c, err := registry.OpenChain(hs, g, registry.NewMachine(map[registry.TxType]registry.Handler{registry.TxDIDOperation: setDel{}}))
	if err != nil {
		t.Fatal(err)
	}
	p, err := registry.NewPruner(c, 500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	p.MinVersions = 1 // as short as it gets: the tip alone
	for i := range 5 {
		commitCmds(t, c, []string{fmt.Sprintf("set k%d v%d", i%2, i)})
	}
	old := c.State()
	hs.hook = func() {
		commitCmds(t, c, []string{"set k0 new", "set k1 new"})
		if _, _, err := p.Prune(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Node(smt.Hash(old.StateRoot)); !errors.Is(err, smt.ErrMissingNode) {
			t.Fatalf("the old root was not pruned: %v", err)
		}
	}
	v, proof, h, root, err := c.ProveKey([]byte("k0"))
	if err != nil {
		t.Fatal(err)
	}
	vh := smt.Hash(registry.Sum(v))
	if string(v) != "new" || h != old.Height+1 || proof.Verify(smt.Hash(root), smt.Hash(registry.Sum([]byte("k0"))), &vh) != nil {
		t.Fatalf("got %q at %d", v, h)
	}
}
