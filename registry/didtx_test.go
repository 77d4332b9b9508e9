package registry_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gowebpki/jcs"

	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// TestDIDTxOneHash: a third party cannot give an operation a second
// transaction hash by rewriting its proof's key reference to the absolute
// form (or by re-spacing its JSON): DIDTx encodes both spellings alike,
// and the mempool check refuses a payload that is not canonical; a block
// that holds one (made before the rule) still executes.
func TestDIDTxOneHash(t *testing.T) {
	c, err := registrytest.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	op, k, err := registrytest.NewCreate(registrytest.ChainID, 1)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := op.SubjectDID()
	canon, err := registry.DIDTx(op)
	if err != nil {
		t.Fatal(err)
	}
	abs, _, _ := registrytest.NewCreate(registrytest.ChainID, 1)
	abs.Proof = nil
	if err := abs.Sign(registrytest.ChainID, d+"#key-1", k); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(abs)
	absPayload, err := jcs.Transform(b)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(absPayload), `"verificationMethod":"`+d+`#key-1"`) {
		t.Fatalf("not the absolute spelling: %s", absPayload)
	}
	// Decoded and wrapped (as the API does), the absolute spelling is the
	// canonical transaction.
	dec, err := idmesh.Decode(absPayload)
	if err != nil {
		t.Fatal(err)
	}
	viaAPI, err := registry.DIDTx(dec)
	if err != nil {
		t.Fatal(err)
	}
	if viaAPI.Hash() != canon.Hash() {
		t.Fatalf("two hashes for one operation: %s and %s", viaAPI.Hash(), canon.Hash())
	}
	now := c.State().LastBlockTime
	if err := c.CheckTx(canon, now); err != nil {
		t.Fatalf("canonical: %v", err)
	}
	for name, payload := range map[string][]byte{"absolute reference": absPayload, "whitespace": append([]byte(" "), canon.Payload...)} {
		err := c.CheckTx(registry.Tx{Type: registry.TxDIDOperation, Payload: payload}, now)
		if registry.CodeOf(err) != registry.CodeInvalid || !strings.Contains(err.Error(), "canonical form") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A committed block may hold the other spelling: it still applies.
	st := c.State()
	ex, err := registry.NewMachineDefault().Execute(c.Store, st.StateRoot,
		registry.TxContext{ChainID: st.ChainID, Height: st.Height + 1, Time: now.Add(1)}, []registry.Tx{{Type: registry.TxDIDOperation, Payload: absPayload}})
	if err != nil || ex.Results[0].Code != registry.CodeOK {
		t.Fatalf("execute the absolute spelling: %v %+v", err, ex)
	}
}
