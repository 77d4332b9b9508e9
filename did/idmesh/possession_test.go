package idmesh_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
)

// signers is shorthand for a list of idmesh.Signer.
func signers(pairs ...any) []idmesh.Signer {
	var out []idmesh.Signer
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, idmesh.Signer{VM: pairs[i].(string), Key: pairs[i+1].(keys.PrivateKey)})
	}
	return out
}

// withKey returns doc with a Multikey method id for pub, listed in rel
// (none when rel is "").
func withKey(doc *did.Document, id string, pub keys.PublicKey, rel string) *did.Document {
	doc = doc.Clone()
	doc.VerificationMethod = append(doc.VerificationMethod, did.NewMultikey(id, "", pub))
	switch rel {
	case did.RelAssertionMethod:
		doc.AssertionMethod = append(doc.AssertionMethod, did.Ref(id))
	case did.RelKeyAgreement:
		doc.KeyAgreement = append(doc.KeyAgreement, did.Ref(id))
	case did.RelCapabilityInvocation:
		doc.CapabilityInvocation = append(doc.CapabilityInvocation, did.Ref(id))
	}
	return doc
}

// TestCreateProofOfPossession: a create must carry, besides the proof by
// its capabilityInvocation key, a proof by every signing key its document
// lists. Without it anyone could list a victim's public key, then mark it
// compromised and void everything the victim signed.
func TestCreateProofOfPossession(t *testing.T) {
	own, victim := genKey(t, keys.Ed25519, 1), genKey(t, keys.Ed25519, 2)
	victimP256 := genKey(t, keys.P256, 3)
	x, err := genKey(t, keys.Ed25519, 4).Public().X25519()
	if err != nil {
		t.Fatal(err)
	}
	embedded := template(own.Public())
	embedded.AssertionMethod = append(embedded.AssertionMethod, did.Relationship{Embedded: &did.VerificationMethod{
		ID: "#emb", Type: did.TypeMultikey, PublicKeyMultibase: victim.Public().Multibase()}})
	tests := []struct {
		name    string
		doc     *did.Document
		signers []idmesh.Signer
		err     error
		reason  string
	}{
		{"a foreign Ed25519 key without its proof", withKey(template(own.Public()), "#k2", victim.Public(), did.RelAssertionMethod),
			signers("#key-1", own), idmesh.ErrUnauthorized, "key #k2 is added without a proof of possession"},
		{"a foreign Ed25519 key with its proof", withKey(template(own.Public()), "#k2", victim.Public(), did.RelAssertionMethod),
			signers("#key-1", own, "#k2", victim), nil, ""},
		{"a foreign key in no relationship", withKey(template(own.Public()), "#k2", victim.Public(), ""),
			signers("#key-1", own), idmesh.ErrUnauthorized, "key #k2 is added without a proof of possession"},
		{"a foreign P-256 key without its proof", withKey(template(own.Public()), "#p", victimP256.Public(), did.RelAssertionMethod),
			signers("#key-1", own), idmesh.ErrUnauthorized, "key #p is added without a proof of possession"},
		{"a foreign P-256 key with its proof", withKey(template(own.Public()), "#p", victimP256.Public(), did.RelAssertionMethod),
			signers("#key-1", own, "#p", victimP256), nil, ""},
		{"an embedded foreign key without its proof", embedded,
			signers("#key-1", own), idmesh.ErrUnauthorized, "key #emb is added without a proof of possession"},
		{"an embedded foreign key with its proof", embedded,
			signers("#key-1", own, "#emb", victim), nil, ""},
		{"an X25519 keyAgreement key needs no proof", withKey(template(own.Public()), "#ka", x, did.RelKeyAgreement),
			signers("#key-1", own), nil, ""},
		{"a proof by the wrong key for an added key", withKey(template(own.Public()), "#k2", victim.Public(), did.RelAssertionMethod),
			signers("#key-1", own, "#k2", own), idmesh.ErrUnauthorized, "bad signature by"},
		{"one proof per key material, by its first id", withKey(withKey(template(own.Public()), "#k2", victim.Public(), did.RelAssertionMethod), "#k3", victim.Public(), ""),
			signers("#key-1", own, "#k2", victim), nil, ""},
		{"one proof per key material, not by its other id", withKey(withKey(template(own.Public()), "#k2", victim.Public(), did.RelAssertionMethod), "#k3", victim.Public(), ""),
			signers("#key-1", own, "#k3", victim), idmesh.ErrInvalidOperation, "proof by #k3 must name #k2"},
		{"the added key alone does not authorize", withKey(template(own.Public()), "#k2", victim.Public(), did.RelAssertionMethod),
			signers("#k2", victim), idmesh.ErrUnauthorized, "no proof by a capabilityInvocation key"},
		{"a proof by a key the document does not hold", template(own.Public()),
			signers("#key-1", own, "#nope", victim), idmesh.ErrUnauthorized, "nor a key the operation adds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			op := &idmesh.Operation{Type: idmesh.Create, Document: tt.doc}
			if err := op.SignAll(chainID, tt.signers...); err != nil {
				t.Fatal(err)
			}
			err := e.apply(op)
			if !errors.Is(err, tt.err) || (tt.err != nil && !strings.Contains(err.Error(), tt.reason)) {
				t.Fatalf("error %v, want %v (%s)", err, tt.err, tt.reason)
			}
			if tt.err != nil && len(e.kv) != 0 {
				t.Fatal("a rejected operation wrote state")
			}
		})
	}
}

// TestUpdateProofOfPossession: an update needs a proof by every signing
// key it adds, besides the authorization by the current version; keys
// carried over need nothing new; proofs by added keys authorize nothing.
func TestUpdateProofOfPossession(t *testing.T) {
	k1, k2, victim := genKey(t, keys.Ed25519, 1), genKey(t, keys.Ed25519, 2), genKey(t, keys.P256, 3)
	x, err := genKey(t, keys.Ed25519, 4).Public().X25519()
	if err != nil {
		t.Fatal(err)
	}
	// The current version holds #key-1 (k1) and #key-2 (k2, assertion).
	base := withKey(template(k1.Public()), "#key-2", k2.Public(), did.RelAssertionMethod)
	renamed := base.Clone()
	renamed.VerificationMethod[1].ID = "#renamed"
	renamed.AssertionMethod[1] = did.Ref("#renamed")
	inPlace := base.Clone()
	inPlace.VerificationMethod[0] = did.NewMultikey("#key-1", "", victim.Public())
	tests := []struct {
		name    string
		doc     *did.Document
		signers []idmesh.Signer
		err     error
		reason  string
	}{
		{"adding a foreign key without its proof", withKey(base, "#v", victim.Public(), did.RelAssertionMethod),
			signers("#key-1", k1), idmesh.ErrUnauthorized, "key #v is added without a proof of possession"},
		{"adding a foreign key with its proof", withKey(base, "#v", victim.Public(), did.RelAssertionMethod),
			signers("#key-1", k1, "#v", victim), nil, ""},
		{"the added key's proof alone does not authorize", withKey(base, "#v", victim.Public(), did.RelCapabilityInvocation),
			signers("#v", victim), idmesh.ErrUnauthorized, "no proof by a capabilityInvocation key"},
		{"an assertion key of the DID does not authorize", base,
			signers("#key-2", k2), idmesh.ErrUnauthorized, "is not a capabilityInvocation key"},
		{"carried-over keys and an added X25519 key need no proof", withKey(base, "#ka", x, did.RelKeyAgreement),
			signers("#key-1", k1), nil, ""},
		{"a carried-over key under a new id needs no new proof", renamed,
			signers("#key-1", k1), nil, ""},
		{"new material under an authorizing key's id is checked as the current key", inPlace,
			signers("#key-1", k1), idmesh.ErrUnauthorized, "key #key-1 is added without a proof of possession"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			create := &idmesh.Operation{Type: idmesh.Create, Document: base}
			if err := create.SignAll(chainID, signers("#key-1", k1, "#key-2", k2)...); err != nil {
				t.Fatal(err)
			}
			if err := e.apply(create); err != nil {
				t.Fatal(err)
			}
			d, _ := create.SubjectDID()
			v, _ := create.VersionID()
			before := len(e.kv)
			op := &idmesh.Operation{Type: idmesh.Update, DID: d, Previous: v, Document: tt.doc}
			if err := op.SignAll(chainID, tt.signers...); err != nil {
				t.Fatal(err)
			}
			err := e.apply(op)
			if !errors.Is(err, tt.err) || (tt.err != nil && !strings.Contains(err.Error(), tt.reason)) {
				t.Fatalf("error %v, want %v (%s)", err, tt.err, tt.reason)
			}
			if tt.err != nil && len(e.kv) != before {
				t.Fatal("a rejected operation wrote state")
			}
		})
	}
}

// TestCompromiseMarkNeedsPossession: the attack that proof of possession
// closes. An attacker who lists a victim's key cannot get it into a
// version, so cannot mark it compromised; the victim's key stays clean.
func TestCompromiseMarkNeedsPossession(t *testing.T) {
	e := newEnv(t)
	victim, attacker := genKey(t, keys.Ed25519, 1), genKey(t, keys.Ed25519, 2)
	e.create(victim)
	a, va := e.create(attacker)
	steal := withKey(e.resolve(a, did.Options{}).DIDDocument, "#stolen", victim.Public(), did.RelAssertionMethod)
	if err := e.apply(update(a, va, steal, "#key-1", attacker, chainID)); !errors.Is(err, idmesh.ErrUnauthorized) {
		t.Fatalf("listing the victim's key: %v", err)
	}
	if _, err := e.mark(a, va, "#key-1", attacker, "#stolen"); !errors.Is(err, idmesh.ErrInvalidOperation) {
		t.Fatalf("marking a key the DID never held: %v", err)
	}
	if s := keyStatus(t, e, victim.Public()); s != nil {
		t.Fatalf("the victim's key was marked: %+v", s)
	}
}

// TestMaxProofsBoundary: an operation may carry a proof for each key a
// document can list (did.MaxVerificationMethods) plus the authorizing
// one, within MaxOperationBytes; one more proof is refused.
func TestMaxProofsBoundary(t *testing.T) {
	if idmesh.MaxProofs != 1+did.MaxVerificationMethods {
		t.Fatalf("MaxProofs = %d", idmesh.MaxProofs)
	}
	e := newEnv(t)
	k1 := genKey(t, keys.P256, 1)
	d, v := e.create(k1)
	// An update that replaces #key-1 by MaxVerificationMethods new P-256
	// keys (the larger signatures): one authorizing proof and one each.
	doc := template(genKey(t, keys.P256, 2).Public())
	doc.VerificationMethod = nil
	all := signers("#key-1", k1)
	for i := range did.MaxVerificationMethods {
		k := genKey(t, keys.P256, uint64(100+i))
		id := fmt.Sprintf("#n%d", i)
		doc.VerificationMethod = append(doc.VerificationMethod, did.NewMultikey(id, "", k.Public()))
		all = append(all, idmesh.Signer{VM: id, Key: k})
	}
	doc.Authentication, doc.AssertionMethod, doc.CapabilityInvocation = []did.Relationship{did.Ref("#n0")}, []did.Relationship{did.Ref("#n0")}, []did.Relationship{did.Ref("#n0")}
	op := &idmesh.Operation{Type: idmesh.Update, DID: d, Previous: v, Document: doc}
	if err := op.SignAll(chainID, all...); err != nil {
		t.Fatal(err)
	}
	if len(op.Proof) != idmesh.MaxProofs {
		t.Fatalf("%d proofs", len(op.Proof))
	}
	b, err := op.Encode()
	if err != nil || len(b) > idmesh.MaxOperationBytes {
		t.Fatalf("%d bytes: %v", len(b), err)
	}
	// One proof short: the last added key is unproven.
	short := &idmesh.Operation{Type: idmesh.Update, DID: d, Previous: v, Document: doc}
	if err := short.SignAll(chainID, all[:len(all)-1]...); err != nil {
		t.Fatal(err)
	}
	if err := e.apply(short); !errors.Is(err, idmesh.ErrUnauthorized) || !strings.Contains(err.Error(), fmt.Sprintf("key #n%d is added without a proof of possession", did.MaxVerificationMethods-1)) {
		t.Fatalf("one proof short: %v", err)
	}
	// One proof too many is refused before any signature is checked.
	over := &idmesh.Operation{Type: idmesh.Update, DID: d, Previous: v, Document: doc}
	if err := over.SignAll(chainID, append(all, idmesh.Signer{VM: "#extra", Key: k1})...); err != nil {
		t.Fatal(err)
	}
	ob, _ := over.Encode()
	if _, err := idmesh.Decode(ob); !errors.Is(err, idmesh.ErrInvalidOperation) || !strings.Contains(err.Error(), fmt.Sprintf("at most %d", idmesh.MaxProofs)) {
		t.Fatalf("%d proofs: %v", idmesh.MaxProofs+1, err)
	}
	if err := e.apply(op); err != nil {
		t.Fatalf("%d proofs: %v", idmesh.MaxProofs, err)
	}
}

// TestProofOrderOneEncoding: proofs are a set: whatever order they are
// made or sent in, an operation has one encoding (one transaction hash).
func TestProofOrderOneEncoding(t *testing.T) {
	k1, k2 := genKey(t, keys.Ed25519, 1), genKey(t, keys.Ed25519, 2)
	doc := withKey(template(k1.Public()), "#a", k2.Public(), did.RelAssertionMethod)
	ab := &idmesh.Operation{Type: idmesh.Create, Document: doc}
	ba := &idmesh.Operation{Type: idmesh.Create, Document: doc}
	if err := ab.SignAll(chainID, signers("#key-1", k1, "#a", k2)...); err != nil {
		t.Fatal(err)
	}
	if err := ba.SignAll(chainID, signers("#a", k2, "#key-1", k1)...); err != nil {
		t.Fatal(err)
	}
	x, _ := ab.Encode()
	y, _ := ba.Encode()
	if string(x) != string(y) {
		t.Fatalf("two encodings:\n%s\n%s", x, y)
	}
	// Sent in another order, it decodes to the same encoding.
	ab.Proof[0], ab.Proof[1] = ab.Proof[1], ab.Proof[0]
	raw, _ := ab.Encode()
	if string(raw) == string(x) {
		t.Fatal("the swap did not change the bytes sent")
	}
	dec, err := idmesh.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	z, _ := dec.Encode()
	if string(z) != string(x) {
		t.Fatalf("decoded to another encoding:\n%s\n%s", z, x)
	}
}

// BenchmarkApplyPossession measures applying a create whose document
// holds 1 and did.MaxVerificationMethods signing keys, each with its
// proof (no signature cache): the cost grows with the proofs, one
// verification each, and per byte of operation it stays alike.
//
//	go test -run '^$' -bench ApplyPossession ./did/idmesh/
func BenchmarkApplyPossession(b *testing.B) {
	for _, n := range []int{1, did.MaxVerificationMethods} {
		k1 := genKey(b, keys.Ed25519, 1)
		doc := template(k1.Public())
		all := signers("#key-1", k1)
		for i := 1; i < n; i++ {
			k := genKey(b, keys.Ed25519, uint64(100+i))
			id := fmt.Sprintf("#n%d", i)
			doc.VerificationMethod = append(doc.VerificationMethod, did.NewMultikey(id, "", k.Public()))
			all = append(all, idmesh.Signer{VM: id, Key: k})
		}
		op := &idmesh.Operation{Type: idmesh.Create, Document: doc}
		if err := op.SignAll(chainID, all...); err != nil {
			b.Fatal(err)
		}
		raw, err := op.Encode()
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("keys-%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			env := idmesh.Env{ChainID: chainID, Height: 1}
			for b.Loop() {
				dec, err := idmesh.Decode(raw)
				if err != nil {
					b.Fatal(err)
				}
				if err := idmesh.Apply(mapKV{}, env, dec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
