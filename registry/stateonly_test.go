package registry_test

import (
	"testing"
	"time"

	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// TestDIDCheckIgnoresContext holds DIDHandler to its registry.StateOnly
// promise (security review R2): the same operations against the same
// state give the same outcome whatever the block's time, height and
// validators, so a mempool recheck may be skipped when no block wrote a
// key the check read. A rule that reads the block's time or height would
// fail here and must drop the StateOnly declaration.
func TestDIDCheckIgnoresContext(t *testing.T) {
	store, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	chain, err := registry.OpenChain(store, registrytest.Genesis(), registry.NewMachineDefault())
	if err != nil {
		t.Fatal(err)
	}
	toTx := func(op *idmesh.Operation) registry.Tx {
		tx, err := registry.DIDTx(op)
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	op, k, err := registrytest.NewCreate(registrytest.ChainID, 104)
	if err != nil {
		t.Fatal(err)
	}
	commitTxs(t, chain, toTx(op))
	d, err := op.SubjectDID()
	if err != nil {
		t.Fatal(err)
	}
	v, err := op.VersionID()
	if err != nil {
		t.Fatal(err)
	}
	good := &idmesh.Operation{Type: idmesh.Deactivate, DID: d, Previous: v}
	if err := good.Sign(registrytest.ChainID, "#key-1", k); err != nil {
		t.Fatal(err)
	}
	stale := &idmesh.Operation{Type: idmesh.Deactivate, DID: d, Previous: "zzz"}
	if err := stale.Sign(registrytest.ChainID, "#key-1", k); err != nil {
		t.Fatal(err)
	}
	other, _, _ := registrytest.CreateOp(105)
	txs := []registry.Tx{toTx(good), toTx(stale), toTx(op), other}
	m := registry.NewMachineDefault()
	st := chain.State()
	ctxs := []registry.TxContext{
		{ChainID: st.ChainID, Height: st.Height + 1, Time: st.LastBlockTime.Add(time.Second), Validators: st.Validators, NextValidators: st.NextValidators},
		{ChainID: st.ChainID, Height: 1 << 40, Time: time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)},
		{ChainID: st.ChainID, Height: 0, Time: time.Time{}},
	}
	outcomes := map[bool]int{}
	for i, tx := range txs {
		var first error
		for j, c := range ctxs {
			err := m.Check(c, registry.NewOverlay(chain.Store()), tx)
			if j == 0 {
				first = err
				outcomes[err == nil]++
				continue
			}
			if (err == nil) != (first == nil) || (err != nil && registry.CodeOf(err) != registry.CodeOf(first)) {
				t.Errorf("tx %d: context %d gives %v, context 0 %v", i, j, err, first)
			}
		}
	}
	if outcomes[true] == 0 || outcomes[false] == 0 {
		t.Fatalf("the cases must include passing and failing checks: %v", outcomes)
	}
}
