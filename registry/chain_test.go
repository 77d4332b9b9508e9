package registry_test

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
	"github.com/idmesh/idmesh/registry/smt"
)

func toyTx(s string) registry.Tx { return registrytest.ToyTx(s) }

type testChain struct {
	*registry.Chain
	store registry.Store
	key   ed25519.PrivateKey
	addr  registry.Address
	now   time.Time
}

func newTestChain(t *testing.T, store registry.Store) *testChain {
	t.Helper()
	vs, keys := testValidators(t, 1)
	g := &registry.Genesis{ChainID: "test", GenesisTime: time.Unix(1_700_000_000, 0).UTC(), Validators: vs.Validators}
	c, err := registry.OpenChain(store, g, registrytest.ToyMachine())
	if err != nil {
		t.Fatal(err)
	}
	return &testChain{Chain: c, store: store, key: keys[0], addr: vs.Validators[0].Address(), now: g.GenesisTime}
}

func (c *testChain) commitOf(b *registry.Block) *registry.Commit {
	id := b.ID()
	return &registry.Commit{Height: b.Header.Height, BlockID: id, Signatures: []registry.CommitSig{{Validator: c.addr, Signature: ed25519.Sign(c.key, registry.VoteSignBytes(b.Header.ChainID, b.Header.Height, 0, id))}}}
}

func (c *testChain) lastCommit(t *testing.T) *registry.Commit {
	h := c.State().Height
	if h == 0 {
		return nil
	}
	lc, err := c.store.Commit(h)
	if err != nil {
		t.Fatal(err)
	}
	return lc
}

func (c *testChain) propose(t *testing.T, txs ...string) (*registry.Block, []registry.Rejected) {
	t.Helper()
	var cand []registry.Tx
	for _, s := range txs {
		cand = append(cand, toyTx(s))
	}
	c.now = c.now.Add(time.Second)
	b, rej, err := c.Propose(cand, c.now, c.addr, c.lastCommit(t))
	if err != nil {
		t.Fatal(err)
	}
	return b, rej
}

func (c *testChain) mustCommit(t *testing.T, txs ...string) *registry.Block {
	t.Helper()
	b, _ := c.propose(t, txs...)
	if _, err := c.Commit(b, c.commitOf(b)); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestChainProposeAndCommit(t *testing.T) {
	store, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	c := newTestChain(t, store)
	b, rej := c.propose(t, "set a 1", "fail nope", "setonce a 2", "set b 2")
	if len(b.Txs) != 2 || len(rej) != 2 {
		t.Fatalf("kept %d, rejected %d; want 2 and 2", len(b.Txs), len(rej))
	}
	if registry.CodeOf(rej[1].Err) != registry.CodeConflict {
		t.Fatalf("setonce on a key set earlier in the block: code %d", registry.CodeOf(rej[1].Err))
	}
	if _, err := c.Commit(b, c.commitOf(b)); err != nil {
		t.Fatal(err)
	}
	if v, err := store.Get([]byte("a")); err != nil || string(v) != "1" {
		t.Fatalf("a = %q, %v", v, err)
	}
	if _, err := store.Get([]byte("garbage")); !errors.Is(err, registry.ErrNotFound) {
		t.Fatal("a failed transaction's writes reached the store")
	}
	rec, err := store.Tx(b.Txs[1].Hash())
	if err != nil || rec.Height != 1 || rec.Index != 1 || !rec.Result.OK() {
		t.Fatalf("tx record %+v, %v", rec, err)
	}
	st := c.State()
	if st.Height != 1 || st.LastBlockID != b.ID() || st.StateRoot != b.Header.StateRoot || st.StateRoot.IsZero() {
		t.Fatalf("state %+v", st)
	}

	// The state root proves reads.
	val, p, h, root, err := c.ProveKey([]byte("a"))
	if err != nil || h != 1 || root != b.Header.StateRoot || string(val) != "1" {
		t.Fatalf("prove a: %q at %d: %v", val, h, err)
	}
	v := smt.Hash(registry.Sum([]byte("1")))
	if err := p.Verify(smt.Hash(b.Header.StateRoot), smt.Hash(registry.Sum([]byte("a"))), &v); err != nil {
		t.Fatalf("inclusion proof: %v", err)
	}
	val, p, _, _, err = c.ProveKey([]byte("zzz"))
	if err != nil || val != nil {
		t.Fatalf("prove zzz: %q %v", val, err)
	}
	if err := p.Verify(smt.Hash(b.Header.StateRoot), smt.Hash(registry.Sum([]byte("zzz"))), nil); err != nil {
		t.Fatalf("non-inclusion proof: %v", err)
	}
	if err := p.Verify(smt.Hash(b.Header.StateRoot), smt.Hash(registry.Sum([]byte("zzz"))), &v); err == nil {
		t.Fatal("a non-inclusion proof proved inclusion")
	}

	// The next block links to this one and carries its commit.
	b2 := c.mustCommit(t, "set a 3")
	if b2.Header.LastBlockID != b.ID() || b2.LastCommit == nil || b2.LastCommit.BlockID != b.ID() {
		t.Fatal("block 2 does not link to block 1")
	}
	if b2.Header.StateRoot == b.Header.StateRoot {
		t.Fatal("state root did not change")
	}
}

func TestChainVerifyRejects(t *testing.T) {
	store, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	c := newTestChain(t, store)
	c.mustCommit(t, "set a 1")
	good, _ := c.propose(t, "set b 2")
	tests := map[string]func(b *registry.Block){
		"wrong state root": func(b *registry.Block) { b.Header.StateRoot[0] ^= 1 },
		"wrong chain":      func(b *registry.Block) { b.Header.ChainID = "other" },
		"wrong height":     func(b *registry.Block) { b.Header.Height++ },
		"wrong parent":     func(b *registry.Block) { b.Header.LastBlockID[0] ^= 1 },
		"time not after parent": func(b *registry.Block) {
			b.Header.Time = time.Unix(1_600_000_000, 0).UTC()
		},
		"unknown proposer": func(b *registry.Block) { b.Header.Proposer[0] ^= 1 },
		"tx swapped": func(b *registry.Block) {
			b.Txs = []registry.Tx{toyTx("set b 3")}
			b.Header.TxRoot = registry.MerkleRoot(b.TxHashes())
		},
		"forged last commit": func(b *registry.Block) {
			b.LastCommit.Signatures[0].Signature[0] ^= 1
			b.Header.LastCommitHash = b.LastCommit.Hash()
		},
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := registry.DecodeBlock(good.Encode())
			if err != nil {
				t.Fatal(err)
			}
			mutate(b)
			if err := c.Verify(b); err == nil {
				t.Fatal("verified a bad block")
			}
			if _, err := c.Commit(b, c.commitOf(b)); err == nil {
				t.Fatal("committed a bad block")
			}
		})
	}
	// A commit by a non-validator is refused and nothing is saved.
	bad := c.commitOf(good)
	bad.Signatures[0].Signature[0] ^= 1
	if _, err := c.Commit(good, bad); err == nil {
		t.Fatal("committed with a forged commit")
	}
	if c.State().Height != 1 {
		t.Fatal("a refused block changed the chain")
	}
	if _, err := c.Commit(good, c.commitOf(good)); err != nil {
		t.Fatal(err)
	}
}

func TestChainReopen(t *testing.T) {
	dir := t.TempDir()
	store, err := leveldb.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := newTestChain(t, store)
	for i := range 5 {
		c.mustCommit(t, fmt.Sprintf("set k%d v%d", i, i))
	}
	want := c.State()
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	store, err = leveldb.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c2 := newTestChain(t, store)
	got := c2.State()
	if got.Height != want.Height || got.LastBlockID != want.LastBlockID || got.StateRoot != want.StateRoot {
		t.Fatalf("reopened at %+v, want %+v", got, want)
	}
	for h := uint64(1); h <= 5; h++ {
		if _, err := store.Block(h); err != nil {
			t.Fatalf("block %d: %v", h, err)
		}
	}
	c2.now = want.LastBlockTime
	c2.mustCommit(t, "set k9 v9")
}

func TestChainRootIndependentOfBatching(t *testing.T) {
	one, _ := leveldb.OpenMemory()
	many, _ := leveldb.OpenMemory()
	a, b := newTestChain(t, one), newTestChain(t, many)
	a.mustCommit(t, "set x 1", "set y 2", "set z 3")
	b.mustCommit(t, "set z 3")
	b.mustCommit(t, "set y 2")
	b.mustCommit(t, "set x 1")
	if a.State().StateRoot != b.State().StateRoot {
		t.Fatal("same state, different roots")
	}
}
