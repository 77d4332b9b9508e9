package idmesh_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/gowebpki/jcs"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/jwk"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
)

// relabel returns the canonical operation b with the verificationMethod
// of its proof naming from rewritten to to: what anybody can do, as the
// reference is not signed.
func relabel(t testing.TB, b []byte, from, to string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range m["proof"].([]any) {
		p := p.(map[string]any)
		if p["verificationMethod"] == from {
			p["verificationMethod"] = to
			found = true
		}
	}
	if !found {
		t.Fatalf("no proof by %s in %s", from, b)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if out, err = jcs.Transform(out); err != nil {
		t.Fatal(err)
	}
	return out
}

// cloneKV returns a copy of kv, so that two encodings apply on one state.
func cloneKV(kv mapKV) mapKV {
	out := make(mapKV, len(kv))
	for k, v := range kv {
		out[k] = v
	}
	return out
}

// capInvRef returns the capabilityInvocation reference of a did:key.
func capInvRef(t testing.TB, d string) string {
	t.Helper()
	doc, err := key.Document(d)
	if err != nil {
		t.Fatal(err)
	}
	return doc.CapabilityInvocation[0].Reference
}

// TestProofNamesCanonicalReference: a proof's verificationMethod is not
// signed, so where one key sits under two method ids that could each
// serve the proof, a third party could move the proof from one id to the
// other: the same operation under a second hash, which, committed first,
// makes the real submitter's transaction fail. A proof must name the first
// (byte order of the normalised reference) authorizing method holding its
// key, or, for a key no authorizing method holds, the first method of the
// new document holding it; the other spelling is refused.
func TestProofNamesCanonicalReference(t *testing.T) {
	own, other := genKey(t, keys.Ed25519, 1), genKey(t, keys.P256, 2)
	ctlDID := key.New(own.Public())
	ctlRef := capInvRef(t, ctlDID)

	// Prior state: a DID whose only key sits under two capabilityInvocation ids.
	twoCapInv := withKey(template(own.Public()), "#key-2", own.Public(), did.RelCapabilityInvocation)
	createTwo := &idmesh.Operation{Type: idmesh.Create, Document: twoCapInv.Clone()}
	if err := createTwo.Sign(chainID, "#key-1", own); err != nil {
		t.Fatal(err)
	}
	dTwo, vTwo := mustSubject(t, createTwo), opVersionID(t, createTwo)
	withTwo := newEnv(t)
	if err := withTwo.apply(createTwo); err != nil {
		t.Fatal(err)
	}
	changed := twoCapInv.Clone()
	changed.AlsoKnownAs = []string{"https://example.com/a"}

	// Prior state: a DID controlled by itself and by the did:key of its own key.
	shared := newEnv(t)
	createOne := &idmesh.Operation{Type: idmesh.Create, Document: template(own.Public())}
	if err := createOne.Sign(chainID, "#key-1", own); err != nil {
		t.Fatal(err)
	}
	dOne := mustSubject(t, createOne)
	if err := shared.apply(createOne); err != nil {
		t.Fatal(err)
	}
	both := template(own.Public())
	both.Controller = did.StringSet{dOne, ctlDID}
	name := update(dOne, opVersionID(t, createOne), both.Clone(), "#key-1", own, chainID)
	if err := shared.apply(name); err != nil {
		t.Fatalf("name the did:key controller: %v", err)
	}
	both.AlsoKnownAs = []string{"https://example.com/b"}

	// Prior state: a plain DID, to which an update adds a key under two ids.
	plain := newEnv(t)
	if err := plain.apply(createOne); err != nil {
		t.Fatal(err)
	}
	addTwo := withKey(withKey(template(own.Public()), "#k2", other.Public(), did.RelAssertionMethod), "#k3", other.Public(), "")

	// A create controlled only by the did:key of the key it lists.
	byCtl := template(own.Public())
	byCtl.Controller = did.StringSet{ctlDID}
	createByCtl := &idmesh.Operation{Type: idmesh.Create, Document: byCtl}
	if err := createByCtl.Sign(chainID, ctlRef, own); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		kv    mapKV
		op    *idmesh.Operation // signed with the canonical reference
		canon string
		other string
	}{
		{"create: one key under two capabilityInvocation ids", mapKV{}, createTwo, "#key-1", "#key-2"},
		{"update: one key under two capabilityInvocation ids", withTwo.kv,
			update(dTwo, vTwo, changed.Clone(), "#key-1", own, chainID), "#key-1", "#key-2"},
		{"update: the subject and its did:key controller share a key", shared.kv,
			update(dOne, opVersionID(t, name), both.Clone(), "#key-1", own, chainID), "#key-1", ctlRef},
		{"update: an added key under two ids", plain.kv,
			update(dOne, opVersionID(t, createOne), addTwo.Clone(), "#key-1", own, chainID, idmesh.Signer{VM: "#k2", Key: other}), "#k2", "#k3"},
		{"create: an authorizing id wins over a smaller id that only proves possession", mapKV{}, createByCtl, ctlRef, "#key-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			good, err := tc.op.Encode()
			if err != nil {
				t.Fatal(err)
			}
			bad := relabel(t, good, tc.canon, tc.other)
			dec, err := idmesh.Decode(bad)
			if err != nil {
				t.Fatalf("decode the relabelled operation: %v", err)
			}
			if opVersionID(t, dec) != opVersionID(t, tc.op) {
				t.Fatal("the relabelled operation is another operation")
			}
			err = applyRaw(cloneKV(tc.kv), 9, bad)
			want := "proof by " + tc.other + " must name " + tc.canon + ", the first method holding its key"
			if !errors.Is(err, idmesh.ErrInvalidOperation) || !strings.Contains(err.Error(), want) {
				t.Fatalf("proof by %s: %v, want invalid: %q", tc.other, err, want)
			}
			if err := applyRaw(cloneKV(tc.kv), 9, good); err != nil {
				t.Fatalf("proof by %s: %v", tc.canon, err)
			}
		})
	}
}

func mustSubject(t testing.TB, op *idmesh.Operation) string {
	t.Helper()
	d, err := op.SubjectDID()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// sameKeyIDs returns, for a create, every method id of its document and
// of its did:key and did:jwk controllers, by the multibase of its key.
func sameKeyIDs(op *idmesh.Operation) map[string][]string {
	out := make(map[string][]string)
	if op.Document == nil {
		return out
	}
	add := func(doc *did.Document) {
		for _, vm := range doc.AllMethods() {
			if pub, err := vm.PublicKey(); err == nil {
				out[pub.Multibase()] = append(out[pub.Multibase()], vm.ID)
			}
		}
	}
	add(op.Document)
	for _, c := range op.Document.Controller {
		var doc *did.Document
		var err error
		switch {
		case strings.HasPrefix(c, "did:key:"):
			doc, err = key.Document(c)
		case strings.HasPrefix(c, "did:jwk:"):
			doc, err = jwk.Document(c)
		default:
			continue
		}
		if err == nil {
			add(doc)
		}
	}
	return out
}
