package registry_test

import (
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gowebpki/jcs"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
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

// otherSPayload returns payload with the P-256 signature enc (r||s,
// base64url) replaced by r||(n-s), the other signature that verifies,
// and reports whether the result is the high-S one.
func otherSPayload(t *testing.T, payload []byte, enc string) ([]byte, bool) {
	t.Helper()
	sig, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature %q: %v", enc, err)
	}
	n := elliptic.P256().Params().N
	s := new(big.Int).SetBytes(sig[32:])
	s.Sub(n, s)
	other := append(append([]byte{}, sig[:32]...), s.FillBytes(make([]byte, 32))...)
	high := s.Cmp(new(big.Int).Rsh(n, 1)) > 0
	return []byte(strings.Replace(string(payload), enc, base64.RawURLEncoding.EncodeToString(other), 1)), high
}

// TestDIDTxOneHashSignatures: a third party cannot give an operation a
// second transaction hash by changing its proofs either: neither by
// replacing a P-256 signature (r, s) by (r, n-s), which verifies too, nor
// by dropping a proof the operation does not need. The mempool refuses
// the high-S form and an operation with an unneeded proof, and so does
// the execution of a block (a consensus rule, from genesis).
func TestDIDTxOneHashSignatures(t *testing.T) {
	c, err := registrytest.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	now := c.State().LastBlockTime
	var seed [32]byte
	seed[0] = 7
	k, err := keys.Generate(keys.P256, rand.NewChaCha8(seed))
	if err != nil {
		t.Fatal(err)
	}
	op, err := idmesh.NewCreate(registrytest.ChainID, k)
	if err != nil {
		t.Fatal(err)
	}
	low, err := registry.DIDTx(op)
	if err != nil {
		t.Fatal(err)
	}
	payload, isHigh := otherSPayload(t, low.Payload, op.Proof[0].Signature)
	if !isHigh {
		t.Fatal("Sign made a high-S signature")
	}
	high := registry.Tx{Type: registry.TxDIDOperation, Payload: payload}
	execute := func(tx registry.Tx) registry.Result {
		t.Helper()
		st := c.State()
		ex, err := registry.NewMachineDefault().Execute(c.Store, st.StateRoot,
			registry.TxContext{ChainID: st.ChainID, Height: st.Height + 1, Time: now.Add(1)}, []registry.Tx{tx})
		if err != nil {
			t.Fatal(err)
		}
		return ex.Results[0]
	}
	if err := c.CheckTx(high, now); registry.CodeOf(err) != registry.CodeInvalid || !strings.Contains(err.Error(), "low S") {
		t.Errorf("mempool, high S: %v", err)
	}
	if r := execute(high); r.Code != registry.CodeInvalid || !strings.Contains(r.Log, "low S") {
		t.Errorf("block, high S: %+v", r)
	}
	if err := c.CheckTx(low, now); err != nil {
		t.Errorf("mempool, low S: %v", err)
	}
	if r := execute(low); r.Code != registry.CodeOK {
		t.Errorf("block, low S: %+v", r)
	}

	// Two did:key controllers, either of which may sign: an operation
	// signed by both is refused, one signed by one is accepted.
	var own, ctlA, ctlB keys.PrivateKey
	for i, p := range []*keys.PrivateKey{&own, &ctlA, &ctlB} {
		seed[0] = byte(10 + i)
		if *p, err = keys.Generate(keys.Ed25519, rand.NewChaCha8(seed)); err != nil {
			t.Fatal(err)
		}
	}
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
	signed := func(s ...idmesh.Signer) registry.Tx {
		op := &idmesh.Operation{Type: idmesh.Create, Document: doc}
		if err := op.SignAll(registrytest.ChainID, s...); err != nil {
			t.Fatal(err)
		}
		tx, err := registry.DIDTx(op)
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	both := signed(idmesh.Signer{VM: vm(ctlA), Key: ctlA}, idmesh.Signer{VM: vm(ctlB), Key: ctlB}, idmesh.Signer{VM: "#key-1", Key: own})
	one := signed(idmesh.Signer{VM: vm(ctlB), Key: ctlB}, idmesh.Signer{VM: "#key-1", Key: own})
	if err := c.CheckTx(both, now); registry.CodeOf(err) != registry.CodeInvalid || !strings.Contains(err.Error(), "is not needed") {
		t.Errorf("mempool, both controllers: %v", err)
	}
	if r := execute(both); r.Code != registry.CodeInvalid || !strings.Contains(r.Log, "is not needed") {
		t.Errorf("block, both controllers: %+v", r)
	}
	if err := c.CheckTx(one, now); err != nil {
		t.Errorf("mempool, one controller: %v", err)
	}
}
