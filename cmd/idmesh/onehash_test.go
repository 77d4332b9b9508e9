package main

import (
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
)

// TestOneHashPerOperation is the attack of a third party who sees an
// operation before it commits and submits a changed copy, through the
// real binary: the same operation (same versionId) under a second
// transaction hash, which, committed first, would make the submitter's
// own transaction fail. The copy with the other ECDSA signature (r, n-s)
// of a P-256 proof is refused with 400 invalid-operation, and so is an
// operation with a proof it does not need (the one a third party could
// drop); the submitter's operations commit.
func TestOneHashPerOperation(t *testing.T) {
	n := startDevNode(t)
	chainID := status(t, n.url).ChainID
	gen := func(typ keys.Type, seed byte) keys.PrivateKey {
		var s [32]byte
		s[0] = seed
		k, err := keys.Generate(typ, rand.NewChaCha8(s))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	encode := func(op *idmesh.Operation) []byte {
		b, err := op.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	refused := func(what string, r httpResult, detail string) {
		t.Helper()
		var p api.Problem
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatalf("%s: %d %s", what, r.status, r.body)
		}
		if r.status != http.StatusBadRequest || r.contentType != "application/problem+json" || p.Type != api.ProblemInvalidOperation || !strings.Contains(p.Detail, detail) {
			t.Fatalf("%s: got %d %s %s %q, want 400 %s %q", what, r.status, r.contentType, p.Type, p.Detail, api.ProblemInvalidOperation, detail)
		}
	}
	committed := func(what string, r httpResult) {
		t.Helper()
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", what, r.status, r.body)
		}
	}

	// 1. A P-256 create; the attacker's copy, with (r, n-s), goes first.
	k := gen(keys.P256, 7)
	op, err := idmesh.NewCreate(chainID, k)
	if err != nil {
		t.Fatal(err)
	}
	real := encode(op)
	enc := op.Proof[0].Signature
	sig, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		t.Fatal(err)
	}
	s := new(big.Int).SetBytes(sig[32:])
	s.Sub(elliptic.P256().Params().N, s)
	other := append(append([]byte{}, sig[:32]...), s.FillBytes(make([]byte, 32))...)
	copied := strings.Replace(string(real), enc, base64.RawURLEncoding.EncodeToString(other), 1)
	refused("the copy with a high S", post(t, n.url+"/v1/operations?wait=10s", []byte(copied)), "low S")
	committed("the submitter's create", post(t, n.url+"/v1/operations?wait=10s", real))

	// 2. Two did:key controllers, either of which may sign: signed by
	// both, a third party could drop one proof; refused. Signed by one,
	// it commits.
	own, ctlA, ctlB := gen(keys.Ed25519, 8), gen(keys.Ed25519, 9), gen(keys.P256, 10)
	vm := func(k keys.PrivateKey) string {
		doc, err := key.Document(key.New(k.Public()))
		if err != nil {
			t.Fatal(err)
		}
		return doc.CapabilityInvocation[0].Reference
	}
	ref := []did.Relationship{did.Ref("#key-1")}
	doc := &did.Document{
		Context:            []any{did.ContextV1, did.ContextMultikey},
		Controller:         did.StringSet{key.New(ctlA.Public()), key.New(ctlB.Public())},
		VerificationMethod: []did.VerificationMethod{did.NewMultikey("#key-1", "", own.Public())},
		Authentication:     ref,
	}
	signed := func(s ...idmesh.Signer) []byte {
		op := &idmesh.Operation{Type: idmesh.Create, Document: doc}
		if err := op.SignAll(chainID, s...); err != nil {
			t.Fatal(err)
		}
		return encode(op)
	}
	both := signed(idmesh.Signer{VM: vm(ctlA), Key: ctlA}, idmesh.Signer{VM: vm(ctlB), Key: ctlB}, idmesh.Signer{VM: "#key-1", Key: own})
	refused("signed by both controllers", post(t, n.url+"/v1/operations?wait=10s", both), "is not needed")
	committed("signed by one controller", post(t, n.url+"/v1/operations?wait=10s",
		signed(idmesh.Signer{VM: vm(ctlB), Key: ctlB}, idmesh.Signer{VM: "#key-1", Key: own})))
}
