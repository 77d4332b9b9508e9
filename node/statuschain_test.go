package node_test

import (
	"errors"
	"testing"

	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/registry"
)

// The node implements the issuer service's view of the chain.
var _ issuer.Chain = node.StatusChain{}

// TestStatusChain checks the adapter's own logic: it names lists by the
// registry's rules (an ID under the issuer's prefix, at a URL the
// registry parses back to that ID), reads a missing list as
// registry.ErrNotFound, and hands back the node's refusal of a version.
// Publishing and reading real lists is covered end to end by api and
// cmd/idmesh (issuance with status, revocation, suspension).
func TestStatusChain(t *testing.T) {
	tn := mustNet(t, registry.NewMachineDefault())
	c := node.StatusChain{Node: mustNode(t, tn.mustChain(t), node.Options{})}

	const issuerDID = "did:idmesh:test:z6MkExample"
	id := c.ListIDPrefix(issuerDID) + "00ff"
	if want := registry.StatusListOwner(issuerDID); c.ListIDPrefix(issuerDID) != want {
		t.Fatalf("prefix %q, want the registry's %q", c.ListIDPrefix(issuerDID), want)
	}
	if got, ok := registry.StatusListID("https://node.example" + c.ListPath(id)); !ok || got != id {
		t.Fatalf("the registry reads list %q (%v) from %s", got, ok, c.ListPath(id))
	}

	if _, err := c.StatusList(id); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("missing list: %v, want ErrNotFound", err)
	}
	if h := c.Height(); h != 0 {
		t.Fatalf("height %d before any block", h)
	}
	if _, err := c.PublishStatusList(t.Context(), []byte(`{"not":"a list credential"}`)); !errors.Is(err, node.ErrRejected) {
		t.Fatalf("a malformed version: %v, want ErrRejected", err)
	}
	if n := c.Node.Mempool.Len(); n != 0 {
		t.Fatalf("%d transactions pending after a refused version", n)
	}
}
