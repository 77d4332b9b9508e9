package node

import (
	"bytes"
	"testing"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// TestR8ARecheckDropsCommittedLateEntry (review R8): a transaction whose
// own block lands between its check and its entry into the mempool (the
// block's Remove came first: Node.submit's check, then Mempool.Add, race
// the consensus driver's Commit and Remove) is pending though committed.
// The recheck after the next block must drop it: since 692e79b it skips
// every pending transaction a committed block holds, so it stays in the
// mempool for good on a node that never proposes (a proposer's check
// drops it), holding a slot and its bytes.
func TestR8ARecheckDropsCommittedLateEntry(t *testing.T) {
	r := newRecheckRig(t, registry.NewMachine(map[registry.TxType]registry.Handler{registry.TxDIDOperation: stateOnlyToy{}}))
	tx := registrytest.ToyTx("setonce k 1")
	h := tx.Hash()
	// The node's check at tip 0 (Node.submit) ...
	rs, known, err := r.chain.CheckTxReads(tx, r.now)
	if err != nil {
		t.Fatal(err)
	}
	// ... a block holding tx commits, and its Remove runs ...
	r.commit(false, "setonce k 1")
	// ... before the node's Mempool.Add of tx.
	if err := r.n.Mempool.Add(h, tx); err != nil {
		t.Fatal(err)
	}
	r.n.Mempool.setReads(h, rs, known)
	for range 3 {
		r.commit(true, "set other 1")
	}
	if r.n.Mempool.Has(h) {
		t.Fatalf("a committed transaction stays pending after 3 rechecks (status %s)", r.status(h))
	}
}

// TestR8ASubmitOwnsPayload (review R8, M1): Node.Submit keeps its own
// copy of the payload it hashes, so a caller that reuses its buffer
// afterwards changes neither the pending transaction's bytes nor what
// its hash names.
func TestR8ASubmitOwnsPayload(t *testing.T) {
	r := newRecheckRig(t, registrytest.ToyMachine())
	tx := registrytest.ToyTx("set k 1")
	h, err := r.n.Submit(tx)
	if err != nil {
		t.Fatal(err)
	}
	tx.Payload[len(tx.Payload)-1] = '2' // the caller reuses its buffer
	hashes, txs := r.n.Mempool.pending()
	if len(txs) != 1 || hashes[0] != h {
		t.Fatalf("pending %v, want %s", hashes, h)
	}
	fresh := registry.Tx{Type: txs[0].Type, Payload: bytes.Clone(txs[0].Payload)}
	if fresh.Hash() != h || txs[0].Hash() != h {
		t.Fatalf("the pending transaction's bytes hash to %s, its hash is %s: the caller's write reached them", fresh.Hash(), h)
	}
}
