package node_test

import (
	"errors"
	"testing"

	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/registry"
)

// The node keeps token status lists for the issuer service.
var _ issuer.TokenChain = node.StatusChain{}

// TestStatusChainTokens checks the adapter's token side: the path it
// names a token by is one the registry reads back to the list ID, a
// missing token reads as registry.ErrNotFound, and a refused version is
// handed back without entering the mempool. Publishing and reading real
// tokens is covered end to end by node/daemon and cmd/idmesh.
func TestStatusChainTokens(t *testing.T) {
	tn := mustNet(t, registry.NewMachineDefault())
	c := node.StatusChain{Node: mustNode(t, tn.mustChain(t), node.Options{})}
	id := c.ListIDPrefix("did:key:z6MkExample") + "00ff"
	if got, ok := registry.TokenStatusListID("https://node.example" + c.TokenPath(id)); !ok || got != id {
		t.Fatalf("the registry reads list %q (%v) from %s", got, ok, c.TokenPath(id))
	}
	if _, err := c.TokenStatusList(id); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("missing token: %v, want ErrNotFound", err)
	}
	if _, err := c.PublishTokenStatusList(t.Context(), []byte("not.a.token")); !errors.Is(err, node.ErrRejected) {
		t.Fatalf("a malformed token: %v, want ErrRejected", err)
	}
	if n := c.Node.Mempool.Len(); n != 0 {
		t.Fatalf("%d transactions pending after a refused token", n)
	}
}
