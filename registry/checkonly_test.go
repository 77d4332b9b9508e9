package registry_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// applyingDID is DIDHandler as it was before CheckOnly: its mempool check
// applies the operation and builds the records it then discards.
type applyingDID struct{ h registry.DIDHandler }

func (a applyingDID) DeliverTx(ctx registry.TxContext, st *registry.Overlay, p []byte) error {
	return a.h.DeliverTx(ctx, st, p)
}
func (a applyingDID) Admit(ctx registry.TxContext, p []byte) error { return a.h.Admit(ctx, p) }
func (applyingDID) StateOnly()                                     {}

func openDIDChain(t testing.TB, h registry.Handler) *registry.Chain {
	t.Helper()
	store, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	chain, err := registry.OpenChain(store, registrytest.Genesis(), registry.NewMachine(map[registry.TxType]registry.Handler{registry.TxDIDOperation: h}))
	if err != nil {
		t.Fatal(err)
	}
	return chain
}

// TestCheckTxSkipsRecordsSameVerdict: the mempool's check of did:idmesh
// operations (CheckOnly, which builds no records) gives the verdict, the
// result code and the read set the check that applied them gave, for
// creates that pass, replays of committed ones, forged signatures,
// operations whose controller does not exist, and payloads that are not
// canonical; and the chains that committed the same blocks agree.
func TestCheckTxSkipsRecordsSameVerdict(t *testing.T) {
	newDID := registry.DIDHandler{Sigs: idmesh.NewSigCache(1000), Ops: idmesh.NewOpCache(1000)}
	oldDID := applyingDID{registry.DIDHandler{Sigs: idmesh.NewSigCache(1000), Ops: idmesh.NewOpCache(1000)}}
	chains := []*registry.Chain{openDIDChain(t, newDID), openDIDChain(t, oldDID)}
	txs, _, err := registrytest.CreateOps(0, 6)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range chains {
		commitTxs(t, c, txs[0], txs[1])
	}
	cases := []registry.Tx{txs[0], txs[1], txs[2], txs[3]}
	// A forged signature, and a controller that does not exist, each in
	// canonical form.
	for i, mutate := range []func(op *idmesh.Operation){
		func(op *idmesh.Operation) {
			s := []byte(op.Proof[0].Signature)
			s[3] ^= 1
			op.Proof[0].Signature = string(s)
		},
		func(op *idmesh.Operation) {
			op.Document.Controller = append(op.Document.Controller, "did:idmesh:zNoSuchDID")
		},
	} {
		var op idmesh.Operation
		if err := json.Unmarshal(txs[4+i].Payload, &op); err != nil {
			t.Fatal(err)
		}
		mutate(&op)
		b, err := op.Encode()
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, registry.Tx{Type: registry.TxDIDOperation, Payload: b})
	}
	cases = append(cases, registry.Tx{Type: registry.TxDIDOperation, Payload: append([]byte(" "), txs[5].Payload...)})
	now := registrytest.Genesis().GenesisTime
	for i, tx := range cases {
		var got [2]string
		for j, c := range chains {
			rs, ok, err := c.CheckTxReads(tx, now)
			got[j] = fmt.Sprintf("%v code %d ok %v reads %d at %d; CheckTx %v", err, registry.CodeOf(err), ok, rs.Len(), rs.Height, c.CheckTx(tx, now))
		}
		if got[0] != got[1] {
			t.Fatalf("case %d: without records %s, applying %s", i, got[0], got[1])
		}
		t.Logf("case %d: %s", i, got[0])
	}
	for _, c := range chains {
		commitTxs(t, c, txs[2], txs[3])
	}
	if a, b := chains[0].State(), chains[1].State(); a.StateRoot != b.StateRoot || a.Height != b.Height {
		t.Fatalf("the chains disagree: %x at %d, %x at %d", a.StateRoot, a.Height, b.StateRoot, b.Height)
	}
}

// BenchmarkCheckTxDID measures the mempool's check of a did:idmesh create
// (decoding, the signature, the rules; no caches) with the records built
// and discarded as before (records) and without them (verdict), in the
// same run; compare cpu-µs/op of the two (the machine may be loaded).
func BenchmarkCheckTxDID(b *testing.B) {
	txs, _, err := registrytest.CreateOps(0, 512)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		h    registry.Handler
	}{{"records", applyingDID{}}, {"verdict", registry.DIDHandler{}}} {
		b.Run("check="+c.name, func(b *testing.B) {
			store, err := leveldb.OpenMemory()
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			chain, err := registry.OpenChain(store, registrytest.Genesis(), registry.NewMachine(map[registry.TxType]registry.Handler{registry.TxDIDOperation: c.h}))
			if err != nil {
				b.Fatal(err)
			}
			now := registrytest.Genesis().GenesisTime
			i := 0
			cpu := cpuTime()
			for b.Loop() {
				if _, _, err := chain.CheckTxReads(txs[i%len(txs)], now); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}
