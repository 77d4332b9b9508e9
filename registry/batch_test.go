package registry_test

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// oneByOne is DIDHandler without its block preparation: every signature
// is verified alone by Apply, as before batches.
type oneByOne struct{ h registry.DIDHandler }

func (o oneByOne) DeliverTx(ctx registry.TxContext, st *registry.Overlay, p []byte) error {
	return o.h.DeliverTx(ctx, st, p)
}

type chacha struct{ r *rand.ChaCha8 }

func (c chacha) Read(p []byte) (int, error) { return c.r.Read(p) }

// forge changes one character of the first proof's signature.
func forge(t *testing.T, tx registry.Tx) registry.Tx {
	t.Helper()
	i := bytes.Index(tx.Payload, []byte(`"signature":"`))
	if i < 0 {
		t.Fatal("no signature in the payload")
	}
	p := bytes.Clone(tx.Payload)
	j := i + len(`"signature":"`) + 5
	if p[j] == 'A' {
		p[j] = 'B'
	} else {
		p[j] = 'A'
	}
	return registry.Tx{Type: tx.Type, Payload: p}
}

// TestExecuteBatchSameResults: a block executed with batch verification
// (DIDHandler's PrepareBlock) gives every transaction the result, and the
// block the writes and state root, that one-by-one verification gives:
// with valid creates only, with forged signatures in some chunks, with
// the same operation twice, with and without the node's caches.
func TestExecuteBatchSameResults(t *testing.T) {
	c, err := registrytest.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Fill(0, 20, 20, nil); err != nil {
		t.Fatal(err)
	}
	st := c.State()
	ctx := registry.TxContext{ChainID: st.ChainID, Height: st.Height + 1, Time: st.LastBlockTime.Add(time.Second), Validators: st.Validators}
	valid, _, err := registrytest.CreateOps(1000, 150)
	if err != nil {
		t.Fatal(err)
	}
	mixed := append([]registry.Tx(nil), valid...)
	for _, i := range []int{3, 70, 71, 149} {
		mixed[i] = forge(t, mixed[i])
	}
	mixed = append(mixed, valid[5], mixed[3]) // a replay and a forged replay
	blocks := map[string][]registry.Tx{"valid": valid, "forged": mixed, "empty": nil}
	for name, txs := range blocks {
		for _, caches := range []bool{false, true} {
			h := registry.DIDHandler{Rand: chacha{rand.NewChaCha8([32]byte{7})}}
			if caches {
				h.Sigs, h.Ops = idmesh.NewSigCache(1000), idmesh.NewOpCache(1000)
			}
			batched := registry.NewMachine(map[registry.TxType]registry.Handler{registry.TxDIDOperation: h})
			single := registry.NewMachine(map[registry.TxType]registry.Handler{registry.TxDIDOperation: oneByOne{registry.DIDHandler{}}})
			a, err := batched.Execute(c.Store, st.StateRoot, ctx, txs)
			if err != nil {
				t.Fatal(err)
			}
			b, err := single.Execute(c.Store, st.StateRoot, ctx, txs)
			if err != nil {
				t.Fatal(err)
			}
			if a.StateRoot != b.StateRoot || len(a.Writes) != len(b.Writes) {
				t.Fatalf("%s (caches %v): batched root %x, one by one %x", name, caches, a.StateRoot, b.StateRoot)
			}
			ok := 0
			for i := range a.Results {
				if a.Results[i] != b.Results[i] {
					t.Errorf("%s (caches %v): tx %d: batched %+v, one by one %+v", name, caches, i, a.Results[i], b.Results[i])
				}
				if a.Results[i].OK() {
					ok++
				}
			}
			if name == "forged" && ok != 146 {
				t.Errorf("%s: %d transactions succeed, want 146", name, ok)
			}
		}
	}
}

// TestNodeCacheSameRoots: a machine that executed earlier blocks (and
// keeps the tree nodes it read and made) computes, block after block,
// the writes and state root a fresh machine computes.
func TestNodeCacheSameRoots(t *testing.T) {
	c, err := registrytest.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	warm := registry.NewMachineDefault()
	for i := range uint64(4) {
		st := c.State()
		txs, _, err := registrytest.CreateOps(100*i, 60)
		if err != nil {
			t.Fatal(err)
		}
		ctx := registry.TxContext{ChainID: st.ChainID, Height: st.Height + 1, Time: st.LastBlockTime.Add(time.Second), Validators: st.Validators}
		for range 2 {
			a, err := warm.Execute(c.Store, st.StateRoot, ctx, txs)
			if err != nil {
				t.Fatal(err)
			}
			b, err := registry.NewMachineDefault().Execute(c.Store, st.StateRoot, ctx, txs)
			if err != nil {
				t.Fatal(err)
			}
			if a.StateRoot != b.StateRoot || len(a.Nodes) != len(b.Nodes) || len(a.Writes) != len(b.Writes) {
				t.Fatalf("block %d: warm machine root %x, fresh %x", ctx.Height, a.StateRoot, b.StateRoot)
			}
		}
		if _, err := c.CommitBlock(txs); err != nil {
			t.Fatal(err)
		}
	}
}
