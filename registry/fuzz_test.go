package registry_test

import (
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry"
)

// FuzzDeliver delivers any transaction, of any type, on a ledger that
// holds a DID issuer with a status list: it never panics; a rejected
// transaction leaves the state exactly as it was; and an accepted one,
// delivered again on top of its own writes, is rejected (no replay).
func FuzzDeliver(f *testing.F) {
	vs, vkeys := testValidators(f, 4)
	l := mustLedger(f, vs)
	a := l.mustDIDIssuer(f, 1)
	rev := registry.StatusListOwner(a.DID) + "rev"
	l.mustDeliver(f, statusTx(signedList(f, listSpec{ID: rev, Set: []int{1}, ValidFrom: blockTime.Add(-time.Hour)}, a)))

	create, _ := createTx(f, lifecycleChainID, 2)
	seeds := []registry.Tx{
		create,
		statusTx(signedList(f, listSpec{ID: rev, Set: []int{1, 2}, ValidFrom: blockTime.Add(-time.Minute)}, a)),
		schemaTx(signedSchema(f, degreeSchema, a.DID, a)),
		mustTrustTx(f, trustChange(f, lifecycleChainID, 0, "add", a.DID, []string{"UniversityDegreeCredential"}, vkeys[:3]...)),
	}
	for _, tx := range seeds {
		if err := l.try(tx); err != nil {
			f.Fatalf("seed %s rejected: %v", tx.Type, err)
		}
		f.Add(uint8(tx.Type), tx.Payload)
	}
	for typ := range uint8(8) {
		f.Add(typ, []byte(`{}`))
		f.Add(typ, []byte{})
	}
	f.Fuzz(func(t *testing.T, typ uint8, payload []byte) {
		tx := registry.Tx{Type: registry.TxType(typ), Payload: payload}
		ov := registry.NewOverlay(l.st)
		if err := l.m.Check(l.ctx, ov, tx); err != nil {
			if w := ov.Writes(); len(w) != 0 {
				t.Fatalf("rejected %s (%v) wrote %d keys", tx.Type, err, len(w))
			}
			return
		}
		if err := l.m.Check(l.ctx, ov, tx); err == nil {
			t.Fatalf("accepted %s twice", tx.Type)
		}
	})
}
