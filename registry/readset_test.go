package registry_test

import (
	"fmt"
	"testing"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// commitTxs proposes txs on chain and commits them with the benchmark
// chain's validator.
func commitTxs(t *testing.T, chain *registry.Chain, txs ...registry.Tx) {
	t.Helper()
	blk, c := proposeOn(t, chain, txs...)
	if _, err := chain.Commit(blk, c); err != nil {
		t.Fatal(err)
	}
}

// TestCheckTxReadsDID: the check of a did:idmesh create reports what it
// read (within MaxReadKeys); a block creating that DID wrote one of those
// keys, a block creating another DID none, blocks beyond what the chain
// remembers are unknown (so a mempool checks again), and the same check
// after the create commits fails.
func TestCheckTxReadsDID(t *testing.T) {
	store, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	chain, err := registry.OpenChain(store, registrytest.Genesis(), registry.NewMachineDefault())
	if err != nil {
		t.Fatal(err)
	}
	txs, _, err := registrytest.CreateOps(0, 3)
	if err != nil {
		t.Fatal(err)
	}
	now := registrytest.Genesis().GenesisTime
	rs := make([]registry.ReadSet, len(txs))
	for i, tx := range txs {
		var ok bool
		if rs[i], ok, err = chain.CheckTxReads(tx, now); err != nil || !ok {
			t.Fatalf("create %d: ok %v, %v", i, ok, err)
		}
		if n := rs[i].Len(); n == 0 || n > registry.MaxReadKeys || rs[i].Height != 0 {
			t.Fatalf("create %d read %d keys at height %d", i, n, rs[i].Height)
		}
	}
	if w, known := chain.WrittenSince(rs[0]); w || !known {
		t.Fatalf("no block yet: written %v known %v", w, known)
	}
	commitTxs(t, chain, txs[0])
	if w, known := chain.WrittenSince(rs[0]); !w || !known {
		t.Fatalf("its own create: written %v known %v", w, known)
	}
	if w, known := chain.WrittenSince(rs[1]); w || !known {
		t.Fatalf("another DID's create: written %v known %v", w, known)
	}
	if _, _, err := chain.CheckTxReads(txs[0], now); err == nil {
		t.Fatal("a committed create passed its check again")
	}
	commitTxs(t, chain, txs[2])
	for range 32 {
		commitTxs(t, chain)
	}
	if _, known := chain.WrittenSince(rs[1]); known {
		t.Fatal("34 blocks later the chain still claims to know what they all wrote")
	}
}

// readsN is a StateOnly handler whose payload "N" makes it read N keys
// (and "N big" N keys of 100 bytes).
type readsN struct{}

func (readsN) StateOnly() {}

func (readsN) DeliverTx(_ registry.TxContext, st *registry.Overlay, p []byte) error {
	var n int
	var big string
	fmt.Sscan(string(p), &n, &big)
	for i := range n {
		k := fmt.Sprintf("k%d", i)
		if big != "" {
			k = fmt.Sprintf("%0100d", i)
		}
		_, _ = st.Get([]byte(k))
	}
	st.Set([]byte("done"), p)
	return nil
}

// TestCheckTxReadsBound: a check that reads more than MaxReadKeys keys,
// or more than MaxReadBytes of keys, reports nothing (the mempool then
// checks its transaction again after every block), and repeated reads of
// one key count once.
func TestCheckTxReadsBound(t *testing.T) {
	store, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	chain, err := registry.OpenChain(store, registrytest.Genesis(), registry.NewMachine(map[registry.TxType]registry.Handler{registry.TxDIDOperation: readsN{}}))
	if err != nil {
		t.Fatal(err)
	}
	now := registrytest.Genesis().GenesisTime
	for _, tc := range []struct {
		payload string
		keys    int
		ok      bool
	}{
		{"0", 0, true},
		{"16", 16, true},
		{"17", 0, false},
		{"1000000", 0, false},
		{"10 big", 10, true},
		{"11 big", 0, false},
	} {
		rs, ok, err := chain.CheckTxReads(registry.Tx{Type: registry.TxDIDOperation, Payload: []byte(tc.payload)}, now)
		if err != nil || ok != tc.ok || rs.Len() != tc.keys {
			t.Errorf("%q: %d keys, ok %v, %v; want %d, %v", tc.payload, rs.Len(), ok, err, tc.keys, tc.ok)
		}
	}
}
