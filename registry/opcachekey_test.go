package registry_test

import (
	"strings"
	"testing"

	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
	"github.com/idmesh/idmesh/registry/smt"
)

// TestDIDHandlerKeysByTxHash: the DID handler looks operations up by the
// transaction's hash that the machine passes; one that is not the
// payload's is a bug that test binaries stop at (review R22), and a
// handler called without a hash still decodes the payload it is given.
func TestDIDHandlerKeysByTxHash(t *testing.T) {
	tx, _, err := registrytest.CreateOp(7)
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := registrytest.CreateOp(8)
	if err != nil {
		t.Fatal(err)
	}
	h := registry.DIDHandler{Ops: idmesh.NewOpCache(16)}
	ctx := registry.TxContext{ChainID: registrytest.ChainID, TxHash: tx.Hash()}
	if err := h.CheckOnly(ctx, registry.NewOverlay(noState{}), tx.Payload); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(r.(string), "transaction hash") {
				t.Fatalf("another transaction's hash: recovered %v", r)
			}
		}()
		_ = h.CheckOnly(ctx, registry.NewOverlay(noState{}), other.Payload)
	}()
	// Without a hash: the payload's own operation, not the cached one.
	before := h.Ops.Decodes()
	if err := h.CheckOnly(registry.TxContext{ChainID: registrytest.ChainID}, registry.NewOverlay(noState{}), other.Payload); err != nil {
		t.Fatal(err)
	}
	if h.Ops.Decodes() != before+1 {
		t.Fatalf("%d decodings for a new payload without a hash, want 1", h.Ops.Decodes()-before)
	}
}

// noState is an empty state.
type noState struct{}

func (noState) Get([]byte) ([]byte, error)    { return nil, registry.ErrNotFound }
func (noState) Node(smt.Hash) ([]byte, error) { return nil, smt.ErrMissingNode }
