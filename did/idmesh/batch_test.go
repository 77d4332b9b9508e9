package idmesh_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
)

func decoded(t *testing.T, op *idmesh.Operation) *idmesh.Operation {
	t.Helper()
	b, err := op.Encode()
	if err != nil {
		t.Fatal(err)
	}
	dec, err := idmesh.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return dec
}

// TestExpectedSignatures: a create's proof is checked against the key of
// its own document, an update's proofs against the current document's
// authorizing key and the key it adds; a proof naming no key the two
// documents hold is left to Apply.
func TestExpectedSignatures(t *testing.T) {
	e := newEnv(t)
	k1, k2 := genKey(t, keys.Ed25519, 1), genKey(t, keys.Ed25519, 2)
	create := &idmesh.Operation{Type: idmesh.Create, Document: template(k1.Public())}
	if err := create.Sign(chainID, "#key-1", k1); err != nil {
		t.Fatal(err)
	}
	got := idmesh.ExpectedSignatures(e.kv, chainID, decoded(t, create))
	if len(got) != 1 || !got[0].Pub.Equal(k1.Public()) || !idmesh.VerifySignature(got[0].Pub, got[0].Msg, got[0].Sig) {
		t.Fatalf("create: %+v", got)
	}
	d, v := e.create(k1)
	doc := template(k1.Public())
	doc.VerificationMethod = append(doc.VerificationMethod, did.NewMultikey("#key-2", "", k2.Public()))
	doc.CapabilityInvocation = append(doc.CapabilityInvocation, did.Ref("#key-2"))
	up := decoded(t, update(d, v, doc, "#key-1", k1, chainID, idmesh.Signer{VM: "#key-2", Key: k2}))
	got = idmesh.ExpectedSignatures(e.kv, chainID, up)
	if len(got) != 2 {
		t.Fatalf("update: %d checks, want 2", len(got))
	}
	for _, c := range got {
		if !idmesh.VerifySignature(c.Pub, c.Msg, c.Sig) {
			t.Errorf("update: check by %s does not verify", c.Pub)
		}
	}
	up.Proof[0].VerificationMethod = "#nowhere"
	if got := idmesh.ExpectedSignatures(e.kv, chainID, up); len(got) != 1 {
		t.Errorf("a proof naming no key: %d checks, want 1", len(got))
	}
	if idmesh.ExpectedSignatures(e.kv, chainID, nil) != nil {
		t.Error("nil operation")
	}
}

// TestVerifyBatch: valid checks are remembered, in chunks; a chunk with a
// forged signature remembers nothing (Apply checks its signatures alone);
// checks already in the cache are skipped; P-256 checks are left alone.
func TestVerifyBatch(t *testing.T) {
	var checks []idmesh.SignatureCheck
	for i := range 100 {
		k := genKey(t, keys.Ed25519, uint64(i))
		msg := []byte{byte(i)}
		sig, err := k.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		checks = append(checks, idmesh.SignatureCheck{Pub: k.Public(), Msg: msg, Sig: sig})
	}
	c := idmesh.NewSigCache(1000)
	c.VerifyBatch(checks, seeded(9))
	if c.Len() != 100 {
		t.Fatalf("%d remembered, want 100", c.Len())
	}
	c = idmesh.NewSigCache(1000)
	forged := append([]idmesh.SignatureCheck(nil), checks...)
	bad := append([]byte(nil), forged[10].Sig...)
	bad[1] ^= 1
	forged[10].Sig = bad
	c.VerifyBatch(forged, nil)
	if c.Len() != 100-64 {
		t.Fatalf("%d remembered with a forged signature in the first chunk, want 36", c.Len())
	}
	if c.Verify(forged[10].Pub, forged[10].Msg, forged[10].Sig) {
		t.Fatal("forged signature verifies")
	}
	for _, ch := range checks {
		if !c.Verify(ch.Pub, ch.Msg, ch.Sig) {
			t.Fatal("valid signature refused")
		}
	}
	p := genKey(t, keys.P256, 1)
	sig, _ := p.Sign([]byte("x"))
	c = idmesh.NewSigCache(10)
	c.VerifyBatch([]idmesh.SignatureCheck{{Pub: p.Public(), Msg: []byte("x"), Sig: sig}}, nil)
	if c.Len() != 0 {
		t.Error("P-256 check remembered by the Ed25519 batch")
	}
}

// TestVerifyBatchParallel: with 1 to 4 workers, the same checks are
// remembered (every chunk but the one with a forged signature), with a
// shared seeded source of coefficients; and DecodeAll on several workers
// gives each payload Decode's operation, nil for one that does not
// decode.
func TestVerifyBatchParallel(t *testing.T) {
	var checks []idmesh.SignatureCheck
	for i := range 300 {
		k := genKey(t, keys.Ed25519, uint64(i))
		msg := []byte{byte(i), byte(i >> 8)}
		sig, err := k.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		checks = append(checks, idmesh.SignatureCheck{Pub: k.Public(), Msg: msg, Sig: sig})
	}
	bad := append([]byte(nil), checks[130].Sig...)
	bad[1] ^= 1
	checks[130].Sig = bad // the third chunk of 64
	for workers := 1; workers <= 4; workers++ {
		c := idmesh.NewSigCache(1000)
		c.VerifyBatchParallel(checks, seeded(uint64(workers)), workers)
		if c.Len() != 300-64 {
			t.Fatalf("%d workers: %d remembered, want %d", workers, c.Len(), 300-64)
		}
	}
	var payloads [][]byte
	for i := range 70 {
		op, err := idmesh.NewCreate(chainID, genKey(t, keys.Ed25519, uint64(i)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := op.Encode()
		if i%9 == 0 {
			b = []byte(`{"type":"create"}`)
		}
		payloads = append(payloads, b)
	}
	ops := idmesh.NewOpCache(100).DecodeAll(nil, payloads, 3)
	for i, b := range payloads {
		want, err := idmesh.Decode(b)
		if (err != nil) != (ops[i] == nil) || err == nil && !reflect.DeepEqual(ops[i], want) {
			t.Fatalf("payload %d: DecodeAll %v, Decode %v (%v)", i, ops[i], want, err)
		}
	}
}

// TestAdmissionSignatures: AdmissionSignatures gives ExpectedSignatures's
// checks for an operation that passes the check's rules before its
// signatures and carries at most MaxAdmissionProofs proofs, and nothing
// for one refused for the state (a create of a DID that exists, a change
// of a DID nobody created, of a deactivated one or of a version that is
// not the latest, a controller nobody created), one with three proofs
// (valid though it is), one that is not well formed, or none.
func TestAdmissionSignatures(t *testing.T) {
	e := newEnv(t)
	k1, k2, k3 := genKey(t, keys.Ed25519, 1), genKey(t, keys.Ed25519, 2), genKey(t, keys.Ed25519, 3)
	d, v := e.create(k1)
	gone, gv := e.create(k3)
	deact := &idmesh.Operation{Type: idmesh.Deactivate, DID: gone, Previous: gv}
	if err := deact.Sign(chainID, "#key-1", k3); err != nil {
		t.Fatal(err)
	}
	if err := e.apply(deact); err != nil {
		t.Fatal(err)
	}
	gv, _ = deact.VersionID()
	signed := func(op *idmesh.Operation, k keys.PrivateKey) *idmesh.Operation {
		if err := op.Sign(chainID, "#key-1", k); err != nil {
			t.Fatal(err)
		}
		return decoded(t, op)
	}
	newCreate := signed(&idmesh.Operation{Type: idmesh.Create, Document: template(k2.Public())}, k2)
	existing := signed(&idmesh.Operation{Type: idmesh.Create, Document: template(k1.Public())}, k1)
	nobody := genKey(t, keys.Ed25519, 4)
	ghost, err := signed(&idmesh.Operation{Type: idmesh.Create, Document: template(nobody.Public())}, nobody).SubjectDID()
	if err != nil {
		t.Fatal(err)
	}
	ghostDoc := template(k2.Public())
	ghostDoc.Controller = did.StringSet{ghost}
	ghostCtl := signed(&idmesh.Operation{Type: idmesh.Create, Document: ghostDoc}, k2)
	addKey := template(k1.Public())
	addKey.VerificationMethod = append(addKey.VerificationMethod, did.NewMultikey("#key-2", "", k2.Public()))
	addKey.CapabilityInvocation = append(addKey.CapabilityInvocation, did.Ref("#key-2"))
	two := decoded(t, update(d, v, addKey, "#key-1", k1, chainID, idmesh.Signer{VM: "#key-2", Key: k2}))
	addTwo := addKey.Clone()
	addTwo.VerificationMethod = append(addTwo.VerificationMethod, did.NewMultikey("#key-3", "", k3.Public()))
	three := decoded(t, update(d, v, addTwo, "#key-1", k1, chainID, idmesh.Signer{VM: "#key-2", Key: k2}, idmesh.Signer{VM: "#key-3", Key: k3}))
	if err := idmesh.Check(e.kv, idmesh.Env{ChainID: chainID, Time: e.now}, three); err != nil {
		t.Fatalf("the update with three proofs is refused: %v", err)
	}
	for _, tc := range []struct {
		name string
		op   *idmesh.Operation
		want int
	}{
		{"create of a new DID", newCreate, 1},
		{"update with two proofs", two, 2},
		{"update at the latest version", decoded(t, update(d, v, template(k1.Public()), "#key-1", k1, chainID)), 1},
		{"create of a DID that exists", existing, 0},
		{"create naming a controller nobody created", ghostCtl, 0},
		{"update of a DID nobody created", decoded(t, update(ghost, v, template(nobody.Public()), "#key-1", nobody, chainID)), 0},
		{"update of a deactivated DID", decoded(t, update(gone, gv, template(k3.Public()), "#key-1", k3, chainID)), 0},
		{"update of a version not the latest", decoded(t, update(d, strings.Repeat("ab", 32), template(k1.Public()), "#key-1", k1, chainID)), 0},
		{"update with three proofs", three, 0},
		{"no operation", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := idmesh.AdmissionSignatures(e.kv, chainID, tc.op)
			if len(got) != tc.want {
				t.Fatalf("%d checks, want %d", len(got), tc.want)
			}
			if want := idmesh.ExpectedSignatures(e.kv, chainID, tc.op); tc.want > 0 && !reflect.DeepEqual(got, want) {
				t.Fatalf("checks %v, ExpectedSignatures %v", got, want)
			}
		})
	}
}
