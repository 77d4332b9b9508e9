package registry_test

import (
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// hookStore is a Store whose SaveBlock calls before and after around the
// save, as a check running on another goroutine at that moment would
// read.
type hookStore struct {
	registry.Store
	before, after func()
}

func (s *hookStore) SaveBlock(u *registry.BlockUpdate) error {
	if s.before != nil {
		s.before()
	}
	err := s.Store.SaveBlock(u)
	if s.after != nil {
		s.after()
	}
	return err
}

// openChainOn opens a chain in memory with the default machine on the
// store wrap makes of the memory store.
func openChainOn(t *testing.T, wrap func(registry.Store) registry.Store) *registry.Chain {
	t.Helper()
	store, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	chain, err := registry.OpenChain(wrap(store), registrytest.Genesis(), registry.NewMachineDefault())
	if err != nil {
		t.Fatal(err)
	}
	return chain
}

// openTipChain opens a chain in memory with the default machine on a
// hookStore.
func openTipChain(t *testing.T) (*registry.Chain, *hookStore) {
	t.Helper()
	var hs *hookStore
	chain := openChainOn(t, func(s registry.Store) registry.Store {
		hs = &hookStore{Store: s}
		return hs
	})
	return chain, hs
}

// proposeOn builds the next block of txs on proposer, with the commit of
// its tip, and returns it with a commit that makes it final.
func proposeOn(t *testing.T, proposer *registry.Chain, txs ...registry.Tx) (*registry.Block, *registry.Commit) {
	t.Helper()
	st := proposer.State()
	key := registrytest.ValidatorKey
	addr := registry.AddressOf(key.Public().(ed25519.PublicKey))
	var last *registry.Commit
	if st.Height > 0 {
		var err error
		if last, err = proposer.Store().Commit(st.Height); err != nil {
			t.Fatal(err)
		}
	}
	blk, rej, err := proposer.Propose(txs, st.LastBlockTime.Add(time.Second), addr, last)
	if err != nil || len(rej) > 0 {
		t.Fatalf("propose: %v %v", rej, err)
	}
	id := blk.ID()
	h := blk.Header.Height
	return blk, &registry.Commit{Height: h, BlockID: id, Signatures: []registry.CommitSig{{Validator: addr, Signature: ed25519.Sign(key, registry.VoteSignBytes(st.ChainID, h, 0, id))}}}
}

// updateChain returns a create of a DID and two updates of it in turn
// (each adding a service), all by its key.
func updateChain(t *testing.T, seed uint64) (create, up1, up2 registry.Tx) {
	t.Helper()
	op, k, err := registrytest.NewCreate(registrytest.ChainID, seed)
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := op.SubjectDID()
	prev, _ := op.VersionID()
	create = didTx(t, op)
	var ups []registry.Tx
	for i, ep := range []string{"https://a.example/", "https://b.example/"} {
		doc := op.Document.Clone()
		doc.Service = []did.Service{{ID: "#hub", Type: did.StringSet{"LinkedDomains"}, ServiceEndpoint: []byte(`"` + ep + `"`)}}
		up := &idmesh.Operation{Type: idmesh.Update, DID: subject, Previous: prev, Document: doc}
		if err := up.Sign(registrytest.ChainID, "#key-1", k); err != nil {
			t.Fatal(err)
		}
		ups = append(ups, didTx(t, up))
		if prev, err = up.VersionID(); err != nil {
			t.Fatal(i, err)
		}
	}
	return create, ups[0], ups[1]
}

// TestTipReadsNeverServeAnotherTip: reads the admission checks made at a
// tip (a DID's record at version 1, the absence of a transaction, the
// refusal of an update that is not next) never answer at the next tip,
// after a block changed them: the checks, the proposal, the
// re-execution of a block built elsewhere and the replay lookup all see
// the new state, and both chains reach the same root. A proposal at the
// same tip refused the same way in a failed round does not change that.
func TestTipReadsNeverServeAnotherTip(t *testing.T) {
	a, _ := openTipChain(t)
	b, _ := openTipChain(t)
	now := registrytest.Genesis().GenesisTime
	create, up1, up2 := updateChain(t, 7)
	commitOn := func(blk *registry.Block, c *registry.Commit) {
		t.Helper()
		for _, ch := range []*registry.Chain{a, b} {
			if _, err := ch.Commit(blk, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	commitOn(proposeOn(t, b, create))

	// At tip 1, on a: the reads of up1's and up2's checks, a proposal
	// that refuses up2 (a round that fails) and up1 not committed.
	if err := a.CheckTx(up1, now); err != nil {
		t.Fatalf("up1 at tip 1: %v", err)
	}
	if err := a.CheckTx(up2, now); registry.CodeOf(err) != registry.CodeConflict {
		t.Fatalf("up2 at tip 1: %v, want a conflict", err)
	}
	if _, rej, err := a.Propose([]registry.Tx{up2}, now.Add(time.Hour), registry.Address{}, nil); err != nil || len(rej) != 1 {
		t.Fatalf("proposal of up2 at tip 1: %v %v", rej, err)
	}
	if _, err := a.CommittedTx(up1.Hash()); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("up1 committed at tip 1: %v", err)
	}
	if n, _ := a.TipReadStats(); n == 0 {
		t.Fatal("the checks at tip 1 cached nothing")
	}

	// Block 2 (built by b) changes the record: version 2.
	commitOn(proposeOn(t, b, up1))
	if err := a.CheckTx(up1, now); registry.CodeOf(err) != registry.CodeConflict {
		t.Fatalf("up1 at tip 2: %v, want a conflict", err)
	}
	if err := a.CheckTx(up2, now); err != nil {
		t.Fatalf("up2 at tip 2: %v", err)
	}
	if rec, err := a.CommittedTx(up1.Hash()); err != nil || rec.Height != 2 {
		t.Fatalf("up1 at tip 2: %+v %v, want committed at 2", rec, err)
	}
	// Block 3 built by b holds up2: a re-executes it on the new record.
	blk, c := proposeOn(t, b, up2)
	if err := a.Verify(blk); err != nil {
		t.Fatalf("a verifies block 3: %v", err)
	}
	commitOn(blk, c)
	if a.State().StateRoot != b.State().StateRoot {
		t.Fatal("the chains disagree")
	}
	// And a's own proposal at tip 3 refuses both updates.
	if _, rej, err := a.Propose([]registry.Tx{up1, up2}, now.Add(time.Hour), registry.Address{}, nil); err != nil || len(rej) != 2 {
		t.Fatalf("proposal at tip 3: %v %v", rej, err)
	}
}

// TestTipReadsCheckDuringSave: a check that reads while a block is being
// saved (just before the save, and between the save and the new tip)
// leaves nothing in the cache of the new tip: after the commit the
// replay lookup, the check and the proposal see the block's writes.
func TestTipReadsCheckDuringSave(t *testing.T) {
	a, hs := openTipChain(t)
	now := registrytest.Genesis().GenesisTime
	create, up1, up2 := updateChain(t, 8)
	commitTxs(t, a, create)
	read := func() {
		_ = a.CheckTx(up1, now)
		_ = a.CheckTx(up2, now)
		_, _ = a.CommittedTx(up1.Hash())
	}
	hs.before, hs.after = read, read
	commitTxs(t, a, up1)
	hs.before, hs.after = nil, nil
	if _, err := a.CommittedTx(up1.Hash()); err != nil {
		t.Fatalf("up1 not found committed: %v", err)
	}
	if err := a.CheckTx(up1, now); registry.CodeOf(err) != registry.CodeConflict {
		t.Fatalf("up1 after its commit: %v, want a conflict", err)
	}
	if err := a.CheckTx(up2, now); err != nil {
		t.Fatalf("up2 after up1's commit: %v", err)
	}
	commitTxs(t, a, up2)
}

// countStore is a Store that counts its state and transaction reads.
type countStore struct {
	registry.Store
	gets, txs int
}

func (s *countStore) Get(key []byte) ([]byte, error) {
	s.gets++
	return s.Store.Get(key)
}

func (s *countStore) Tx(h registry.Hash) (registry.TxRecord, error) {
	s.txs++
	return s.Store.Tx(h)
}

// TestAdmissionReadsOnce: at one tip, a node reads the store once per
// gossiped create for its replay lookup and once for its record, over
// the gossip gate (PrepareChecks), the mempool's lookup and check
// (CommittedTx, CheckTxReads), the proposal and the re-execution of the
// block built elsewhere; and the block commits on both nodes.
func TestAdmissionReadsOnce(t *testing.T) {
	const n = 16
	txs, _, err := registrytest.CreateOps(1<<30, n)
	if err != nil {
		t.Fatal(err)
	}
	now := registrytest.Genesis().GenesisTime
	var chains []*registry.Chain
	var stores []*countStore
	for range 2 {
		var cs *countStore
		chains = append(chains, openChainOn(t, func(s registry.Store) registry.Store {
			cs = &countStore{Store: s}
			return cs
		}))
		stores = append(stores, cs)
	}
	for _, c := range chains {
		c.PrepareChecks(txs)
		for _, tx := range txs {
			if _, err := c.CommittedTx(tx.Hash()); !errors.Is(err, registry.ErrNotFound) {
				t.Fatal(err)
			}
			if _, _, err := c.CheckTxReads(tx, now); err != nil {
				t.Fatal(err)
			}
		}
	}
	blk, c := proposeOn(t, chains[0], txs...)
	if err := chains[1].Verify(blk); err != nil {
		t.Fatal(err)
	}
	for i, s := range stores {
		if s.gets != n || s.txs != n {
			t.Errorf("node %d: %d state reads and %d transaction lookups for %d operations, want one each", i, s.gets, s.txs, n)
		}
	}
	for _, ch := range chains {
		if _, err := ch.Commit(blk, c); err != nil {
			t.Fatal(err)
		}
	}
}
