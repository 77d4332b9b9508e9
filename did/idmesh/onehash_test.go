package idmesh_test

import (
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gowebpki/jcs"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
)

// p256N is the order of the P-256 group.
var p256N = elliptic.P256().Params().N

// otherS returns the signature r||(n-s) of the 64-byte r||s signature
// sig: the second valid ECDSA signature of the same message.
func otherS(sig []byte) []byte {
	s := new(big.Int).SetBytes(sig[32:])
	s.Sub(p256N, s)
	out := append([]byte{}, sig[:32]...)
	return append(out, s.FillBytes(make([]byte, 32))...)
}

// isHighS reports whether the r||s signature sig has s > n/2.
func isHighS(sig []byte) bool {
	return new(big.Int).SetBytes(sig[32:]).Cmp(new(big.Int).Rsh(p256N, 1)) > 0
}

// highLow returns the canonical encoding of op with its proof i signed
// with a high S and with a low S, whichever of the two op holds.
func highLow(t testing.TB, op *idmesh.Operation, i int) (high, low []byte) {
	t.Helper()
	b, err := op.Encode()
	if err != nil {
		t.Fatal(err)
	}
	enc := op.Proof[i].Signature
	sig, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(sig) != keys.SignatureSize {
		t.Fatalf("signature %q: %v", enc, err)
	}
	other := []byte(strings.Replace(string(b), enc, base64.RawURLEncoding.EncodeToString(otherS(sig)), 1))
	if isHighS(sig) {
		return b, other
	}
	return other, b
}

// applyRaw decodes b and applies it on kv at height h.
func applyRaw(kv mapKV, h uint64, b []byte) error {
	op, err := idmesh.Decode(b)
	if err != nil {
		return err
	}
	return idmesh.Apply(kv, idmesh.Env{ChainID: chainID, Height: h, Time: time.Date(2026, 1, 1, 0, 0, int(h), 0, time.UTC)}, op)
}

// TestP256HighSRefused: ECDSA is malleable, (r, n-s) verifies whenever
// (r, s) does. A third party who sees an operation signed with P-256 could
// otherwise submit the other signature: the same operation (body,
// versionId) under a second transaction hash, which, committed first,
// makes the real submitter's transaction fail. Only the low-S form is
// valid, for create, update and deactivate.
func TestP256HighSRefused(t *testing.T) {
	k := genKey(t, keys.P256, 7)
	create := &idmesh.Operation{Type: idmesh.Create, Document: template(k.Public())}
	if err := create.Sign(chainID, "#key-1", k); err != nil {
		t.Fatal(err)
	}
	d, _ := create.SubjectDID()
	v, _ := create.VersionID()
	k2 := genKey(t, keys.P256, 8)
	upd := update(d, v, withKey(template(k.Public()), "#key-2", k2.Public(), did.RelAssertionMethod), "#key-1", k, chainID, idmesh.Signer{VM: "#key-2", Key: k2})
	v2, _ := upd.VersionID()
	deact := &idmesh.Operation{Type: idmesh.Deactivate, DID: d, Previous: v2}
	if err := deact.Sign(chainID, "#key-1", k); err != nil {
		t.Fatal(err)
	}
	kv := mapKV{}
	steps := []struct {
		name  string
		op    *idmesh.Operation
		proof int
	}{
		{"create", create, 0},
		{"update, the authorizing proof", upd, 0},
		{"update, the proof of possession", upd, 1},
		{"deactivate", deact, 0},
	}
	for i, s := range steps {
		high, low := highLow(t, s.op, s.proof)
		// Both forms decode (Decode does not know the key type) and have
		// the same body.
		for _, b := range [][]byte{high, low} {
			op, err := idmesh.Decode(b)
			if err != nil {
				t.Fatalf("%s: decode: %v", s.name, err)
			}
			if got, _ := op.VersionID(); got != opVersionID(t, s.op) {
				t.Fatalf("%s: versionId changed", s.name)
			}
		}
		err := applyRaw(kv, uint64(i+1), high)
		if !errors.Is(err, idmesh.ErrInvalidOperation) || !strings.Contains(err.Error(), "low S") {
			t.Fatalf("%s with a high S: %v, want invalid (low S)", s.name, err)
		}
		if s.op == upd && s.proof == 0 {
			continue // the low form is applied with the next step's
		}
		if err := applyRaw(kv, uint64(i+1), low); err != nil {
			t.Fatalf("%s with a low S: %v", s.name, err)
		}
	}
}

func opVersionID(t testing.TB, op *idmesh.Operation) string {
	t.Helper()
	v, err := op.VersionID()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestOperationSignLowS: every P-256 proof that Sign makes is low-S, so a signer
// never makes an operation that the ledger refuses.
func TestOperationSignLowS(t *testing.T) {
	k := genKey(t, keys.P256, 9)
	for i := range 64 {
		op := &idmesh.Operation{Type: idmesh.Create, Document: template(k.Public())}
		op.Document.AlsoKnownAs = []string{"https://example.com/" + string(rune('a'+i%26)) + strings.Repeat("x", i)}
		if err := op.Sign(chainID, "#key-1", k); err != nil {
			t.Fatal(err)
		}
		sig, _ := base64.RawURLEncoding.DecodeString(op.Proof[0].Signature)
		if isHighS(sig) {
			t.Fatalf("signature %d has a high S", i)
		}
	}
}

// removeProof returns the canonical operation b without its proof i.
func removeProof(t testing.TB, b []byte, i int) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	ps := m["proof"].([]any)
	m["proof"] = append(append([]any{}, ps[:i]...), ps[i+1:]...)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if out, err = jcs.Transform(out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestUnneededProofRefused: an operation carries only the proofs it
// needs (one authorizing proof, one proof of possession per added key,
// one proof doing both where one key is both). Otherwise anyone could drop
// an extra proof and submit the same operation under a second hash.
func TestUnneededProofRefused(t *testing.T) {
	own, second := genKey(t, keys.Ed25519, 1), genKey(t, keys.P256, 2)
	victim := genKey(t, keys.Ed25519, 3)
	ctlA, ctlB := genKey(t, keys.Ed25519, 4), genKey(t, keys.P256, 5)
	didA, didB := key.New(ctlA.Public()), key.New(ctlB.Public())
	vmOf := func(d string) string {
		doc, err := key.Document(d)
		if err != nil {
			t.Fatal(err)
		}
		return doc.CapabilityInvocation[0].Reference
	}
	vmA, vmB := vmOf(didA), vmOf(didB)

	// Two controllers (did:key, offline): either may sign, not both.
	twoCtl := template(own.Public())
	twoCtl.Controller = did.StringSet{didA, didB}
	// Two capabilityInvocation keys, both added: both proofs are needed.
	twoKeys := withKey(template(own.Public()), "#key-2", second.Public(), did.RelCapabilityInvocation)
	// One added key under two ids: one proof of possession.
	twoIDs := withKey(withKey(template(own.Public()), "#k2", victim.Public(), did.RelAssertionMethod), "#k3", victim.Public(), "")

	tests := []struct {
		name    string
		doc     *did.Document
		signers []idmesh.Signer
		extra   string // the proof that is not needed; "" if every one is
	}{
		{"two controllers both sign", twoCtl, signers(vmA, ctlA, vmB, ctlB, "#key-1", own), vmA},
		{"one controller signs", twoCtl, signers(vmB, ctlB, "#key-1", own), ""},
		{"the other controller signs", twoCtl, signers(vmA, ctlA, "#key-1", own), ""},
		{"two added capabilityInvocation keys", twoKeys, signers("#key-1", own, "#key-2", second), ""},
		{"two proofs of one added key", twoIDs, signers("#key-1", own, "#k2", victim, "#k3", victim), "#k3"},
		{"one proof of one added key", twoIDs, signers("#key-1", own, "#k2", victim), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op := &idmesh.Operation{Type: idmesh.Create, Document: tc.doc.Clone()}
			if err := op.SignAll(chainID, tc.signers...); err != nil {
				t.Fatal(err)
			}
			err := newEnv(t).apply(op)
			if tc.extra == "" {
				if err != nil {
					t.Fatalf("minimal proofs: %v", err)
				}
				return
			}
			want := "proof by " + tc.extra + " is not needed"
			if tc.name == "two proofs of one added key" {
				want = "proof by #k3 must name #k2" // the other id of a key is refused first
			}
			if !errors.Is(err, idmesh.ErrInvalidOperation) || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v, want invalid: %q", err, want)
			}
			// Without the extra proof, the same operation applies.
			b, _ := op.Encode()
			for i, p := range op.Proof {
				if p.VerificationMethod == tc.extra {
					b = removeProof(t, b, i)
				}
			}
			if err := applyRaw(mapKV{}, 1, b); err != nil {
				t.Fatalf("without %s: %v", tc.extra, err)
			}
		})
	}
}

// TestUnneededProofRefusedOnUpdate: an update signed by two
// capabilityInvocation keys of the current version, one of which
// suffices, is refused; signed by one, it applies.
func TestUnneededProofRefusedOnUpdate(t *testing.T) {
	own, second := genKey(t, keys.Ed25519, 1), genKey(t, keys.P256, 2)
	e := newEnv(t)
	create := &idmesh.Operation{Type: idmesh.Create, Document: withKey(template(own.Public()), "#key-2", second.Public(), did.RelCapabilityInvocation)}
	if err := create.SignAll(chainID, signers("#key-1", own, "#key-2", second)...); err != nil {
		t.Fatal(err)
	}
	if err := e.apply(create); err != nil {
		t.Fatal(err)
	}
	d, _ := create.SubjectDID()
	v, _ := create.VersionID()
	doc := e.resolve(d, did.Options{}).DIDDocument
	doc.AlsoKnownAs = []string{"https://example.com/a"}
	both := update(d, v, doc.Clone(), "#key-1", own, chainID, idmesh.Signer{VM: d + "#key-2", Key: second})
	err := e.apply(both)
	if !errors.Is(err, idmesh.ErrInvalidOperation) || !strings.Contains(err.Error(), "proof by #key-1 is not needed") {
		t.Fatalf("update by both keys: %v", err)
	}
	one := update(d, v, doc.Clone(), "#key-2", second, chainID)
	if err := e.apply(one); err != nil {
		t.Fatalf("update by one key: %v", err)
	}
	// The DID and a did:key both control it: a proof by the DID's key and
	// one by the did:key's, where either suffices.
	ctl := genKey(t, keys.Ed25519, 4)
	ctlDID := key.New(ctl.Public())
	kd, err := key.Document(ctlDID)
	if err != nil {
		t.Fatal(err)
	}
	vm := kd.CapabilityInvocation[0].Reference
	doc.AlsoKnownAs = nil
	doc.Controller = did.StringSet{d, ctlDID}
	v = opVersionID(t, one)
	named := update(d, v, doc.Clone(), "#key-1", own, chainID)
	if err := e.apply(named); err != nil {
		t.Fatalf("name a did:key controller: %v", err)
	}
	v = opVersionID(t, named)
	doc.Service = []did.Service{{ID: "#s", Type: did.StringSet{"LinkedDomains"}, ServiceEndpoint: json.RawMessage(`"https://example.com"`)}}
	err = e.apply(update(d, v, doc.Clone(), "#key-1", own, chainID, idmesh.Signer{VM: vm, Key: ctl}))
	if !errors.Is(err, idmesh.ErrInvalidOperation) || !strings.Contains(err.Error(), "proof by #key-1 is not needed") {
		t.Fatalf("update by the DID's key and its did:key controller: %v", err)
	}
	if err := e.apply(update(d, v, doc.Clone(), vm, ctl, chainID)); err != nil {
		t.Fatalf("update by the did:key controller alone: %v", err)
	}
}

// oneEncodingSeeds returns operations for FuzzOneEncoding and FuzzDecode:
// a P-256 create with a high and with a low S, a create by two
// controllers with both their proofs and with one, and creates holding
// one key under two ids.
func oneEncodingSeeds(tb testing.TB) [][]byte {
	k, _ := keys.Generate(keys.P256, seeded(7))
	p := &idmesh.Operation{Type: idmesh.Create, Document: template(k.Public())}
	if err := p.Sign(chainID, "#key-1", k); err != nil {
		tb.Fatal(err)
	}
	high, low := highLow(tb, p, 0)
	own, _ := keys.Generate(keys.Ed25519, seeded(1))
	ctlA, _ := keys.Generate(keys.Ed25519, seeded(4))
	ctlB, _ := keys.Generate(keys.P256, seeded(5))
	didA, didB := key.New(ctlA.Public()), key.New(ctlB.Public())
	docA, _ := key.Document(didA)
	docB, _ := key.Document(didB)
	doc := template(own.Public())
	doc.Controller = did.StringSet{didA, didB}
	two := &idmesh.Operation{Type: idmesh.Create, Document: doc}
	if err := two.SignAll(chainID, signers(docA.CapabilityInvocation[0].Reference, ctlA, docB.CapabilityInvocation[0].Reference, ctlB, "#key-1", own)...); err != nil {
		tb.Fatal(err)
	}
	extra, _ := two.Encode()
	one := &idmesh.Operation{Type: idmesh.Create, Document: doc}
	if err := one.SignAll(chainID, signers(docB.CapabilityInvocation[0].Reference, ctlB, "#key-1", own)...); err != nil {
		tb.Fatal(err)
	}
	minimal, _ := one.Encode()
	// One key under two capabilityInvocation ids; an added key under two ids.
	twoIDs := &idmesh.Operation{Type: idmesh.Create, Document: withKey(template(own.Public()), "#key-2", own.Public(), did.RelCapabilityInvocation)}
	if err := twoIDs.Sign(chainID, "#key-1", own); err != nil {
		tb.Fatal(err)
	}
	sameKey, _ := twoIDs.Encode()
	added := &idmesh.Operation{Type: idmesh.Create, Document: withKey(withKey(template(own.Public()), "#k2", k.Public(), did.RelAssertionMethod), "#k3", k.Public(), "")}
	if err := added.SignAll(chainID, signers("#key-1", own, "#k2", k)...); err != nil {
		tb.Fatal(err)
	}
	addedTwice, _ := added.Encode()
	return [][]byte{high, low, extra, minimal, sameKey, addedTwice}
}

// FuzzOneEncoding: an operation that applies has no second encoding that
// a third party could make from it: without any one of its proofs it does
// not apply, nor with any signature s replaced by n-s, nor with any
// proof's verificationMethod rewritten to another id holding its key.
func FuzzOneEncoding(f *testing.F) {
	for _, b := range oneEncodingSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		op, err := idmesh.Decode(b)
		if err != nil {
			return
		}
		canon, _ := op.Encode()
		if applyRaw(mapKV{}, 1, canon) != nil {
			return
		}
		subject := mustSubject(t, op)
		norm := func(id string) string {
			if frag, ok := strings.CutPrefix(id, subject+"#"); ok {
				return "#" + frag
			}
			return id
		}
		held := sameKeyIDs(op)
		for i, p := range op.Proof {
			for _, ids := range held {
				if !slices.ContainsFunc(ids, func(id string) bool { return norm(id) == p.VerificationMethod }) {
					continue
				}
				for _, id := range ids {
					if norm(id) == p.VerificationMethod {
						continue
					}
					if err := applyRaw(mapKV{}, 1, relabel(t, canon, p.VerificationMethod, id)); err == nil {
						t.Fatalf("applies with its proof by %s relabelled %s", p.VerificationMethod, id)
					}
				}
			}
			if len(op.Proof) > 1 {
				if err := applyRaw(mapKV{}, 1, removeProof(t, canon, i)); err == nil {
					t.Fatalf("applies without its proof by %s", p.VerificationMethod)
				}
			}
			sig, err := base64.RawURLEncoding.DecodeString(p.Signature)
			if err != nil || len(sig) != keys.SignatureSize {
				continue
			}
			other := strings.Replace(string(canon), p.Signature, base64.RawURLEncoding.EncodeToString(otherS(sig)), 1)
			if err := applyRaw(mapKV{}, 1, []byte(other)); err == nil {
				t.Fatalf("applies with the other S of the proof by %s", p.VerificationMethod)
			}
		}
	})
}

// TestDoomedOperationCostsNoVerification: an operation that the checks
// needing no signature refuse (three good signatures, one of them not
// needed) is refused before any signature is verified: the cache of
// verified signatures stays empty. The same operation without the extra
// proof verifies each remaining proof once.
func TestDoomedOperationCostsNoVerification(t *testing.T) {
	own, a, b := genKey(t, keys.Ed25519, 1), genKey(t, keys.Ed25519, 2), genKey(t, keys.Ed25519, 3)
	didA, didB := key.New(a.Public()), key.New(b.Public())
	vm := func(d string) string {
		doc, err := key.Document(d)
		if err != nil {
			t.Fatal(err)
		}
		return doc.CapabilityInvocation[0].Reference
	}
	doc := template(own.Public())
	doc.Controller = did.StringSet{didA, didB}
	op := &idmesh.Operation{Type: idmesh.Create, Document: doc}
	if err := op.SignAll(chainID, signers(vm(didA), a, vm(didB), b, "#key-1", own)...); err != nil {
		t.Fatal(err)
	}
	enc, err := op.Encode()
	if err != nil {
		t.Fatal(err)
	}
	dec, err := idmesh.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	sigs := idmesh.NewSigCache(64)
	env := idmesh.Env{ChainID: chainID, Height: 1, Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Sigs: sigs}
	err = idmesh.Apply(mapKV{}, env, dec)
	if !errors.Is(err, idmesh.ErrInvalidOperation) || !strings.Contains(err.Error(), "is not needed") {
		t.Fatalf("err = %v, want a proof not needed", err)
	}
	if n := sigs.Len(); n != 0 {
		t.Fatalf("%d signatures verified for an operation refused without any", n)
	}
	for i, p := range op.Proof {
		if p.VerificationMethod == vm(didA) {
			enc = removeProof(t, enc, i)
		}
	}
	if dec, err = idmesh.Decode(enc); err != nil {
		t.Fatal(err)
	}
	if err := idmesh.Apply(mapKV{}, env, dec); err != nil {
		t.Fatalf("without the extra proof: %v", err)
	}
	if n := sigs.Len(); n != 2 {
		t.Fatalf("%d signatures verified, want the 2 remaining proofs", n)
	}
}
