package registry_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// countingReader counts the reads of a batch's coefficients: a batch
// verification ran when it read.
type countingReader struct {
	r     io.Reader
	reads atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads.Add(1)
	return c.r.Read(p)
}

// prepareCases returns transactions for the admission checks of a chain
// that committed committed: creates that pass, replays of committed
// ones, forged signatures (a flipped bit; another operation's signature),
// updates of committed DIDs (a good one, and one signed by a key the DID
// does not hold), a payload that does not decode, a repeated
// transaction and one of another type.
func prepareCases(t *testing.T) (committed, cases []registry.Tx) {
	t.Helper()
	txs, _, err := registrytest.CreateOps(0, 40)
	if err != nil {
		t.Fatal(err)
	}
	committed = txs[:4]
	cases = append(cases, txs[:6]...) // 4 replays, 2 fresh
	mutated := func(i uint64, mutate func(op *idmesh.Operation)) registry.Tx {
		op, _, err := registrytest.NewCreate(registrytest.ChainID, i)
		if err != nil {
			t.Fatal(err)
		}
		mutate(op)
		tx, err := registry.DIDTx(op)
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	cases = append(cases, mutated(100, func(op *idmesh.Operation) {
		s := []byte(op.Proof[0].Signature)
		s[5] ^= 2
		op.Proof[0].Signature = string(s)
	}))
	other, _, err := registrytest.NewCreate(registrytest.ChainID, 101)
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, mutated(102, func(op *idmesh.Operation) { op.Proof[0].Signature = other.Proof[0].Signature }))
	// Updates of the committed DIDs 0 and 1: by the DID's key, and by
	// another key under the DID's method id.
	for i, signer := range []uint64{2, 103} {
		op, k, err := registrytest.NewCreate(registrytest.ChainID, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		subject, _ := op.SubjectDID()
		vid, _ := op.VersionID()
		_, sk, err := registrytest.NewCreate(registrytest.ChainID, signer)
		if err != nil {
			t.Fatal(err)
		}
		if signer < 100 {
			sk = k
		}
		doc := op.Document.Clone()
		doc.Service = []did.Service{{ID: "#hub", Type: did.StringSet{"LinkedDomains"}, ServiceEndpoint: []byte(`"https://example.com/"`)}}
		up := &idmesh.Operation{Type: idmesh.Update, DID: subject, Previous: vid, Document: doc}
		if err := up.Sign(registrytest.ChainID, "#key-1", sk); err != nil {
			t.Fatal(err)
		}
		tx, err := registry.DIDTx(up)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, tx)
	}
	cases = append(cases, registry.Tx{Type: registry.TxDIDOperation, Payload: []byte(`{"type":"create"`)}, txs[5], registry.Tx{Type: registry.TxSchema, Payload: []byte(`{}`)})
	cases = append(cases, txs[6:]...) // enough good ones for whole chunks
	return committed, cases
}

// TestPrepareChecksSameVerdict: admission checks after PrepareChecks (the
// batch of a burst of gossiped transactions) give exactly the verdicts,
// codes and read sets of checks without it, over good creates and
// updates, replays, forged signatures (which make their chunk fail, so
// its good signatures are verified alone), a key the DID does not hold,
// a payload that does not decode, a repeat and another type; the batch
// ran (it read coefficients); and the chains then commit the same block
// to the same root.
func TestPrepareChecksSameVerdict(t *testing.T) {
	committed, cases := prepareCases(t)
	rnd := &countingReader{r: rand.NewChaCha8([32]byte{1})}
	batched := registry.DIDHandler{Sigs: idmesh.NewSigCache(1000), Ops: idmesh.NewOpCache(1000), Rand: rnd}
	single := registry.DIDHandler{Sigs: idmesh.NewSigCache(1000), Ops: idmesh.NewOpCache(1000)}
	chains := []*registry.Chain{openDIDChain(t, batched), openDIDChain(t, single)}
	for _, c := range chains {
		commitTxs(t, c, committed...)
	}
	chains[0].PrepareChecks(cases)
	if rnd.reads.Load() == 0 {
		t.Fatal("PrepareChecks verified no batch")
	}
	now := registrytest.Genesis().GenesisTime
	var pass []registry.Tx
	seen := make(map[registry.Hash]bool)
	for i, tx := range cases {
		var got [2]string
		for j, c := range chains {
			rs, ok, err := c.CheckTxReads(tx, now)
			got[j] = fmt.Sprintf("%v code %d ok %v reads %d at %d; CheckTx %v", err, registry.CodeOf(err), ok, rs.Len(), rs.Height, c.CheckTx(tx, now))
			if j == 0 && err == nil && !seen[tx.Hash()] {
				seen[tx.Hash()] = true
				pass = append(pass, tx)
			}
		}
		if got[0] != got[1] {
			t.Fatalf("case %d: after PrepareChecks %s, without %s", i, got[0], got[1])
		}
	}
	if len(pass) < 30 {
		t.Fatalf("only %d cases pass", len(pass))
	}
	for _, c := range chains {
		commitTxs(t, c, pass...)
	}
	if a, b := chains[0].State(), chains[1].State(); a.StateRoot != b.StateRoot || a.Height != b.Height {
		t.Fatalf("the chains disagree: %x at %d, %x at %d", a.StateRoot, a.Height, b.StateRoot, b.Height)
	}
}

// TestPrepareChecksBounded: PrepareChecks looks at no more than
// MaxPrepareChecks transactions, skips committed ones, makes no batch
// (which reads randomness) for fewer than two signatures, verifying a
// single one alone into the cache, and does nothing without the DID
// handler's caches.
func TestPrepareChecksBounded(t *testing.T) {
	txs, _, err := registrytest.CreateOps(0, registry.MaxPrepareChecks+3)
	if err != nil {
		t.Fatal(err)
	}
	batches := func(h registry.DIDHandler, commit []registry.Tx, in []registry.Tx) (decodes uint64, ran bool) {
		rnd := &countingReader{r: rand.NewChaCha8([32]byte{2})}
		h.Rand = rnd
		c := openDIDChain(t, h)
		if len(commit) > 0 {
			commitTxs(t, c, commit...)
		}
		before := c.OperationDecodes()
		c.PrepareChecks(in)
		return c.OperationDecodes() - before, rnd.reads.Load() > 0
	}
	fresh := func() registry.DIDHandler {
		return registry.DIDHandler{Sigs: idmesh.NewSigCache(1000), Ops: idmesh.NewOpCache(1000)}
	}
	if n, ran := batches(fresh(), nil, txs); n != registry.MaxPrepareChecks || !ran {
		t.Errorf("%d transactions: %d decoded (batch %v), want %d", len(txs), n, ran, registry.MaxPrepareChecks)
	}
	if n, ran := batches(fresh(), nil, txs[:1]); ran || n != 1 {
		t.Errorf("one signature: %d decoded, batch %v; want 1 and none", n, ran)
	}
	// The one signature is in the cache: the check finds it there.
	h := fresh()
	batches(h, nil, txs[:1])
	if got := h.Sigs.Len(); got != 1 {
		t.Errorf("one signature: %d signatures cached, want 1", got)
	}
	if n, ran := batches(fresh(), txs[:2], txs[:3]); ran || n != 1 {
		t.Errorf("two committed of three: %d decoded, batch %v; want 1 and none", n, ran)
	}
	if _, ran := batches(registry.DIDHandler{}, nil, txs[:10]); ran {
		t.Error("a batch without the handler's caches")
	}
}
