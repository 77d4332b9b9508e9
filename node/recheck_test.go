package node

import (
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// TestRecheck: after a block, a pending transaction that the block made
// invalid is dropped and reported rejected on every node, not only on
// the next proposer.
func TestRecheck(t *testing.T) {
	store, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	addr := registry.AddressOf(key.Public().(ed25519.PublicKey))
	g := &registry.Genesis{ChainID: "c", GenesisTime: time.Unix(1_700_000_000, 0).UTC(), Validators: []registry.Validator{{PubKey: key.Public().(ed25519.PublicKey), Power: 1}}}
	chain, err := registry.OpenChain(store, g, registrytest.ToyMachine())
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(chain, Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}, 1)
	n.recheckDone = func() { done <- struct{}{} }
	a, b := registrytest.ToyTx("setonce k 1"), registrytest.ToyTx("setonce k 2")
	for _, tx := range []registry.Tx{a, b} {
		if _, err := n.Submit(tx); err != nil {
			t.Fatal(err)
		}
	}
	// Another node's block commits a alone.
	st := chain.State()
	blk, _, err := chain.Propose([]registry.Tx{a}, st.LastBlockTime.Add(time.Second), addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := blk.ID()
	c := &registry.Commit{Height: 1, BlockID: id, Signatures: []registry.CommitSig{{Validator: addr, Signature: ed25519.Sign(key, registry.VoteSignBytes("c", 1, 0, id))}}}
	res, err := chain.Commit(blk, c)
	if err != nil {
		t.Fatal(err)
	}
	n.Mempool.Remove(blk.TxHashes(), nil)
	n.Committed(blk, res)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("recheck did not run")
	}
	s, err := n.Status(b.Hash())
	if err != nil || s.Status != TxRejected || n.Mempool.Len() != 0 {
		t.Fatalf("b after the block: %+v %v, mempool %d", s, err, n.Mempool.Len())
	}
}
