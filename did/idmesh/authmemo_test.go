package idmesh_test

import (
	"errors"
	"testing"
	"time"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
)

// TestCreateAuthorizationRemembered: a decoded create's authorization,
// remembered after its first pass, answers as a fresh check would: a
// self-controlled create applies the same after Check, whatever the
// signature cache; on another chain its signature is over another input
// and it is refused; and a create whose document names a did:idmesh
// controller is authorized against the controller's current keys every
// time, so that after the controller rotates its key, the same decoded
// create is refused.
func TestCreateAuthorizationRemembered(t *testing.T) {
	e := newEnv(t)
	envAt := func(chain string) idmesh.Env {
		return idmesh.Env{ChainID: chain, Height: 1, Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Sigs: idmesh.NewSigCache(16)}
	}

	t.Run("self-controlled", func(t *testing.T) {
		k := genKey(t, keys.Ed25519, 41)
		op := &idmesh.Operation{Type: idmesh.Create, Document: template(k.Public())}
		if err := op.Sign(chainID, "#key-1", k); err != nil {
			t.Fatal(err)
		}
		dec := decoded(t, op)
		if err := idmesh.Check(mapKV{}, envAt(chainID), dec); err != nil {
			t.Fatal(err)
		}
		// Applied after the check, and applied fresh: the same writes.
		after, fresh := mapKV{}, mapKV{}
		if err := idmesh.Apply(after, envAt(chainID), dec); err != nil {
			t.Fatal(err)
		}
		if err := idmesh.Apply(fresh, envAt(chainID), decoded(t, op)); err != nil {
			t.Fatal(err)
		}
		if len(after) != len(fresh) {
			t.Fatalf("%d writes after the check, %d fresh", len(after), len(fresh))
		}
		for key, v := range fresh {
			if string(after[key]) != string(v) {
				t.Fatalf("key %q differs after the check", key)
			}
		}
		// The pass on chainID says nothing of another chain.
		if err := idmesh.Check(mapKV{}, envAt("other-chain"), dec); !errors.Is(err, idmesh.ErrUnauthorized) {
			t.Fatalf("the create on another chain: %v, want unauthorized", err)
		}
		if err := idmesh.Check(mapKV{}, envAt(chainID), dec); err != nil {
			t.Fatalf("on its own chain again: %v", err)
		}
	})

	t.Run("did:idmesh controller", func(t *testing.T) {
		owner := genKey(t, keys.Ed25519, 42)
		ctrl, ctrlVersion := e.create(owner)
		subjectKey := genKey(t, keys.Ed25519, 43)
		doc := template(subjectKey.Public())
		doc.Controller = did.StringSet{ctrl}
		op := &idmesh.Operation{Type: idmesh.Create, Document: doc}
		if err := op.SignAll(chainID, idmesh.Signer{VM: ctrl + "#key-1", Key: owner}, idmesh.Signer{VM: "#key-1", Key: subjectKey}); err != nil {
			t.Fatal(err)
		}
		dec := decoded(t, op)
		if err := idmesh.Check(e.kv, envAt(chainID), dec); err != nil {
			t.Fatalf("before the rotation: %v", err)
		}
		// The controller replaces key-1 by a new key: owner no longer
		// controls it, nor the DID the create would make.
		next := genKey(t, keys.Ed25519, 44)
		rotated := template(next.Public())
		rotated.VerificationMethod[0].ID = "#key-2"
		rotated.Authentication = []did.Relationship{did.Ref("#key-2")}
		rotated.AssertionMethod = rotated.Authentication
		rotated.CapabilityInvocation = rotated.Authentication
		if err := e.apply(update(ctrl, ctrlVersion, rotated, "#key-1", owner, chainID, idmesh.Signer{VM: "#key-2", Key: next})); err != nil {
			t.Fatalf("rotate the controller's key: %v", err)
		}
		if err := idmesh.Check(e.kv, envAt(chainID), dec); !errors.Is(err, idmesh.ErrUnauthorized) {
			t.Fatalf("after the rotation, the same decoded create: %v, want unauthorized", err)
		}
		if err := idmesh.Apply(e.kv, envAt(chainID), dec); !errors.Is(err, idmesh.ErrUnauthorized) {
			t.Fatalf("after the rotation, applied: %v, want unauthorized", err)
		}
	})
}
