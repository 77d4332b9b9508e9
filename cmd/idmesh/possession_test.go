package main

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
)

// TestProofOfPossession is the attack that proof of possession closes,
// through the real binary: an attacker who does not hold an issuer's
// private key lists the issuer's public key in a did:idmesh document (a
// create, or an update of its own DID), to mark it compromised after and
// so void everything the issuer signed. Both operations are refused with
// 403 problem+json unauthorized-operation naming the key; the key cannot
// be marked; the issuers' credentials still verify. The issuers are the
// node's own did:idmesh issuer and a did:key.
func TestProofOfPossession(t *testing.T) {
	n := startDevNode(t)
	chainID := status(t, n.url).ChainID
	gen := func(seed byte) keys.PrivateKey {
		var s [32]byte
		s[0] = seed
		k, err := keys.Generate(keys.Ed25519, rand.NewChaCha8(s))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}

	// The victims: the node's issuer (did:idmesh) and a did:key issuer.
	uni := n.createIssuer(t, "uni")
	uniVC := n.issue(t, degree(uni), nil)
	res, code := resolveResult(t, n.url, uni, nil)
	if code != http.StatusOK {
		t.Fatalf("resolve %s: %d", uni, code)
	}
	am := res.DIDDocument.Methods(did.RelAssertionMethod)
	if len(am) == 0 {
		t.Fatal("the issuer has no assertion key")
	}
	uniPub, err := am[0].PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	dkKey := gen(7)
	dk := key.New(dkKey.Public())
	dkVC, err := dataintegrity.Sign(context.Background(), degree(dk), credential.KeySigner{ID: dk + "#" + dkKey.Public().Multibase(), Key: dkKey},
		dataintegrity.SignOptions{Created: time.Now().Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	verifies := func(what string) {
		t.Helper()
		for name, vc := range map[string]map[string]any{"did:idmesh issuer": uniVC, "did:key issuer": dkVC} {
			if r, code := n.verify(t, vc, nil); code != http.StatusOK || !r.Verified {
				t.Fatalf("%s: %s: %d %+v", what, name, code, r.ProblemDetails)
			}
		}
	}
	verifies("before the attack")

	// The attacker holds only its own key.
	ka := gen(9)
	doc := func(victims bool) *did.Document {
		ref := []did.Relationship{did.Ref("#key-1")}
		d := &did.Document{
			Context:              []any{did.ContextV1, did.ContextMultikey},
			VerificationMethod:   []did.VerificationMethod{did.NewMultikey("#key-1", "", ka.Public())},
			Authentication:       ref,
			AssertionMethod:      ref,
			CapabilityInvocation: ref,
		}
		if victims {
			d.VerificationMethod = append(d.VerificationMethod, did.NewMultikey("#victim", "", uniPub), did.NewMultikey("#dk", "", dkKey.Public()))
			d.AssertionMethod = append(d.AssertionMethod, did.Ref("#victim"), did.Ref("#dk"))
		}
		return d
	}
	submit := func(op *idmesh.Operation) httpResult {
		t.Helper()
		if err := op.Sign(chainID, "#key-1", ka); err != nil {
			t.Fatal(err)
		}
		b, err := op.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return post(t, n.url+"/v1/operations?wait=10s", b)
	}
	refused := func(what string, r httpResult, status int, typ, detail string) {
		t.Helper()
		var p api.Problem
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatalf("%s: %d %s", what, r.status, r.body)
		}
		if r.status != status || r.contentType != "application/problem+json" || p.Type != typ || !strings.Contains(p.Detail, detail) {
			t.Fatalf("%s: got %d %s %s %q, want %d %s %q", what, r.status, r.contentType, p.Type, p.Detail, status, typ, detail)
		}
	}
	before := status(t, n.url)

	// 1. A create listing both victims' keys, signed by the attacker only.
	refused("create listing the victims' keys", submit(&idmesh.Operation{Type: idmesh.Create, Document: doc(true)}),
		http.StatusForbidden, api.ProblemUnauthorizedOp, "key #victim is added without a proof of possession")
	if after := status(t, n.url); after.StateRoot != before.StateRoot {
		t.Fatal("the refused create changed the state")
	}

	// 2. The attacker's own DID, then an update adding the victims' keys.
	create := &idmesh.Operation{Type: idmesh.Create, Document: doc(false)}
	if r := submit(create); r.status != http.StatusOK {
		t.Fatalf("the attacker's own create: %d %s", r.status, r.body)
	}
	a, _ := create.SubjectDID()
	v, _ := create.VersionID()
	refused("update adding the victims' keys", submit(&idmesh.Operation{Type: idmesh.Update, DID: a, Previous: v, Document: doc(true)}),
		http.StatusForbidden, api.ProblemUnauthorizedOp, "key #victim is added without a proof of possession")

	// 3. So the attacker's DID never held them and cannot mark them.
	refused("marking a key the DID never held", submit(&idmesh.Operation{Type: idmesh.Update, DID: a, Previous: v, Document: doc(false), Compromised: []string{"#victim"}}),
		http.StatusBadRequest, api.ProblemInvalidOperation, "names no key")

	verifies("after the attack")
}
