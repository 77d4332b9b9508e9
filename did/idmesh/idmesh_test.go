package idmesh_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
)

const chainID = "test-chain"

// mapKV is an in-memory KV.
type mapKV map[string][]byte

func (m mapKV) Get(k []byte) ([]byte, bool, error) { v, ok := m[string(k)]; return v, ok, nil }
func (m mapKV) Set(k, v []byte)                    { m[string(k)] = v }

// seeded returns a deterministic key source.
func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	return rand.NewChaCha8(s)
}

func genKey(t testing.TB, typ keys.Type, seed uint64) keys.PrivateKey {
	t.Helper()
	k, err := keys.Generate(typ, seeded(seed))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func template(pub keys.PublicKey) *did.Document {
	ref := []did.Relationship{did.Ref("#key-1")}
	return &did.Document{
		Context:              []any{did.ContextV1, did.ContextMultikey},
		VerificationMethod:   []did.VerificationMethod{did.NewMultikey("#key-1", "", pub)},
		Authentication:       ref,
		AssertionMethod:      ref,
		CapabilityInvocation: ref,
	}
}

type env struct {
	t   *testing.T
	kv  mapKV
	now time.Time
	h   uint64
}

func newEnv(t *testing.T) *env {
	return &env{t: t, kv: mapKV{}, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// apply round-trips op through its encoding, as the ledger does, and applies it.
func (e *env) apply(op *idmesh.Operation) error {
	e.t.Helper()
	b, err := op.Encode()
	if err != nil {
		e.t.Fatal(err)
	}
	dec, err := idmesh.Decode(b)
	if err != nil {
		return err
	}
	e.h++
	e.now = e.now.Add(time.Minute)
	return idmesh.Apply(e.kv, idmesh.Env{ChainID: chainID, Height: e.h, Time: e.now}, dec)
}

func (e *env) create(k keys.PrivateKey) (string, string) {
	e.t.Helper()
	op := &idmesh.Operation{Type: idmesh.Create, Document: template(k.Public())}
	if err := op.Sign(chainID, "#key-1", k); err != nil {
		e.t.Fatal(err)
	}
	if err := e.apply(op); err != nil {
		e.t.Fatalf("create: %v", err)
	}
	d, _ := op.SubjectDID()
	v, _ := op.VersionID()
	return d, v
}

func (e *env) resolve(d string, o did.Options) *did.ResolutionResult {
	e.t.Helper()
	r := &idmesh.Resolver{State: e.kv}
	res, err := r.Resolve(context.Background(), d, o)
	if err != nil {
		e.t.Fatalf("resolve %s: %v", d, err)
	}
	return res
}

// update returns an update of d signed by k (named signer) and by the
// added keys, for their proofs of possession.
func update(d, prev string, doc *did.Document, signer string, k keys.PrivateKey, chain string, added ...idmesh.Signer) *idmesh.Operation {
	op := &idmesh.Operation{Type: idmesh.Update, DID: d, Previous: prev, Document: doc}
	if err := op.SignAll(chain, append([]idmesh.Signer{{VM: signer, Key: k}}, added...)...); err != nil {
		panic(err)
	}
	return op
}

func TestCreateAndResolve(t *testing.T) {
	for _, typ := range []keys.Type{keys.Ed25519, keys.P256} {
		t.Run(string(typ), func(t *testing.T) {
			e := newEnv(t)
			k := genKey(t, typ, 1)
			d, v := e.create(k)
			if err := idmesh.ValidateDID(d); err != nil {
				t.Fatal(err)
			}
			res := e.resolve(d, did.Options{})
			if res.DIDDocument.ID != d || res.DIDDocumentMetadata.VersionID != v || res.DIDDocumentMetadata.Deactivated {
				t.Fatalf("result %+v", res.DIDDocumentMetadata)
			}
			vm, ok := res.DIDDocument.VerificationMethodByID(d + "#key-1")
			if !ok || vm.Controller != d {
				t.Fatalf("verification method %+v", vm)
			}
			pub, err := vm.PublicKey()
			if err != nil || !pub.Equal(k.Public()) {
				t.Fatal("resolved key differs")
			}
			if err := res.DIDDocument.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCreateRules(t *testing.T) {
	k, other := genKey(t, keys.Ed25519, 1), genKey(t, keys.Ed25519, 2)
	tests := []struct {
		name  string
		build func() *idmesh.Operation
		err   error
	}{
		{"unsigned", func() *idmesh.Operation {
			return &idmesh.Operation{Type: idmesh.Create, Document: template(k.Public())}
		}, idmesh.ErrInvalidOperation},
		{"signed by a key not in the document", func() *idmesh.Operation {
			op := &idmesh.Operation{Type: idmesh.Create, Document: template(k.Public())}
			_ = op.Sign(chainID, "#key-1", other)
			return op
		}, idmesh.ErrUnauthorized},
		{"signed for another chain", func() *idmesh.Operation {
			op := &idmesh.Operation{Type: idmesh.Create, Document: template(k.Public())}
			_ = op.Sign("other-chain", "#key-1", k)
			return op
		}, idmesh.ErrUnauthorized},
		{"names a signer that is not capabilityInvocation", func() *idmesh.Operation {
			doc := template(k.Public())
			doc.CapabilityInvocation = []did.Relationship{did.Ref("#key-2")}
			doc.VerificationMethod = append(doc.VerificationMethod, did.NewMultikey("#key-2", "", other.Public()))
			op := &idmesh.Operation{Type: idmesh.Create, Document: doc}
			_ = op.Sign(chainID, "#key-1", k)
			return op
		}, idmesh.ErrUnauthorized},
		{"document with an id", func() *idmesh.Operation {
			doc := template(k.Public())
			doc.ID = "did:idmesh:abc"
			op := &idmesh.Operation{Type: idmesh.Create, Document: doc}
			_ = op.Sign(chainID, "#key-1", k)
			return op
		}, idmesh.ErrInvalidOperation},
		{"web controller", func() *idmesh.Operation {
			doc := template(k.Public())
			doc.Controller = did.StringSet{"did:web:example.com"}
			op := &idmesh.Operation{Type: idmesh.Create, Document: doc}
			_ = op.Sign(chainID, "#key-1", k)
			return op
		}, idmesh.ErrInvalidOperation},
		{"no key that could ever change it", func() *idmesh.Operation {
			doc := template(k.Public())
			doc.CapabilityInvocation = nil
			op := &idmesh.Operation{Type: idmesh.Create, Document: doc}
			_ = op.Sign(chainID, "#key-1", k)
			return op
		}, idmesh.ErrInvalidOperation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			err := e.apply(tt.build())
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if len(e.kv) != 0 {
				t.Fatal("a rejected operation wrote state")
			}
		})
	}
}

func TestCreateReplayAndDeterminism(t *testing.T) {
	e := newEnv(t)
	k := genKey(t, keys.Ed25519, 1)
	op := &idmesh.Operation{Type: idmesh.Create, Document: template(k.Public())}
	if err := op.Sign(chainID, "#key-1", k); err != nil {
		t.Fatal(err)
	}
	if err := e.apply(op); err != nil {
		t.Fatal(err)
	}
	if err := e.apply(op); !errors.Is(err, idmesh.ErrConflict) {
		t.Fatalf("replayed create: %v", err)
	}
	// The same operation written with other whitespace and member order
	// decodes to the same canonical bytes, DID and version.
	b, _ := op.Encode()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	pretty, _ := json.MarshalIndent(m, "", "    ")
	dec, err := idmesh.Decode(pretty)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := dec.Encode()
	if !bytes.Equal(b, b2) {
		t.Fatal("canonical encoding depends on whitespace")
	}
	d1, _ := op.SubjectDID()
	d2, _ := dec.SubjectDID()
	if d1 != d2 {
		t.Fatal("DID depends on whitespace")
	}
}

func TestUpdateRotateDeactivate(t *testing.T) {
	e := newEnv(t)
	k1, k2, k3 := genKey(t, keys.Ed25519, 1), genKey(t, keys.P256, 2), genKey(t, keys.Ed25519, 3)
	d, v1 := e.create(k1)

	// Add a service.
	res := e.resolve(d, did.Options{})
	doc := res.DIDDocument.Clone()
	doc.Service = []did.Service{{ID: "#hub", Type: did.StringSet{"LinkedDomains"}, ServiceEndpoint: json.RawMessage(`"https://example.com"`)}}
	op := update(d, v1, doc, "#key-1", k1, chainID)
	if err := e.apply(op); err != nil {
		t.Fatal(err)
	}
	v2, _ := op.VersionID()

	// Replays and forks of the same previous version are rejected.
	if err := e.apply(op); !errors.Is(err, idmesh.ErrConflict) {
		t.Fatalf("replayed update: %v", err)
	}
	fork := update(d, v1, res.DIDDocument.Clone(), "#key-1", k1, chainID)
	if err := e.apply(fork); !errors.Is(err, idmesh.ErrConflict) {
		t.Fatalf("update naming a stale version: %v", err)
	}

	// Routine rotation: key-1 retired, key-2 (P-256) in.
	rot := e.resolve(d, did.Options{}).DIDDocument.Clone()
	ref := []did.Relationship{did.Ref("#key-2")}
	rot.VerificationMethod = []did.VerificationMethod{did.NewMultikey("#key-2", "", k2.Public())}
	rot.Authentication, rot.AssertionMethod, rot.CapabilityInvocation = ref, ref, ref
	op = update(d, v2, rot, "#key-1", k1, chainID, idmesh.Signer{VM: "#key-2", Key: k2})
	if err := e.apply(op); err != nil {
		t.Fatal(err)
	}
	v3, _ := op.VersionID()

	// The retired key can no longer change the DID.
	stale := update(d, v3, rot.Clone(), "#key-1", k1, chainID)
	if err := e.apply(stale); !errors.Is(err, idmesh.ErrUnauthorized) {
		t.Fatalf("update signed by a rotated-out key: %v", err)
	}

	// Rotation because key-2 is compromised.
	comp := rot.Clone()
	ref = []did.Relationship{did.Ref("#key-3")}
	comp.VerificationMethod = []did.VerificationMethod{did.NewMultikey("#key-3", "", k3.Public())}
	comp.Authentication, comp.AssertionMethod, comp.CapabilityInvocation = ref, ref, ref
	op = update(d, v3, comp, "#key-2", k2, chainID)
	op.Compromised = []string{"#key-2"}
	op.Proof = nil
	if err := op.SignAll(chainID, idmesh.Signer{VM: "#key-2", Key: k2}, idmesh.Signer{VM: "#key-3", Key: k3}); err != nil {
		t.Fatal(err)
	}
	if err := e.apply(op); err != nil {
		t.Fatal(err)
	}
	v4, _ := op.VersionID()

	// A compromised key may never come back.
	back := comp.Clone()
	back.VerificationMethod = append(back.VerificationMethod, did.NewMultikey("#key-2", "", k2.Public()))
	if err := e.apply(update(d, v4, back, "#key-3", k3, chainID, idmesh.Signer{VM: "#key-2", Key: k2})); !errors.Is(err, idmesh.ErrInvalidOperation) {
		t.Fatalf("re-adding a compromised key: %v", err)
	}

	latest := e.resolve(d, did.Options{})
	md := latest.DIDDocumentMetadata
	if md.VersionID != v4 || md.NextVersionID != "" || md.Updated == "" || md.Created == "" {
		t.Fatalf("metadata %+v", md)
	}
	events, ok := md.Extra["rotatedKeys"].([]idmesh.KeyEvent)
	if !ok || len(events) != 2 || events[0].Status != idmesh.KeyRetired || events[1].Status != idmesh.KeyCompromised ||
		events[0].ID != d+"#key-1" || events[1].PublicKeyMultibase != k2.Public().Multibase() {
		t.Fatalf("rotated keys %+v", md.Extra["rotatedKeys"])
	}

	// Old versions stay resolvable by versionId and versionTime.
	old := e.resolve(d, did.Options{VersionID: v1})
	if old.DIDDocumentMetadata.VersionID != v1 || old.DIDDocumentMetadata.NextVersionID != v2 || len(old.DIDDocument.Service) != 0 {
		t.Fatalf("version 1: %+v", old.DIDDocumentMetadata)
	}
	at := e.resolve(d, did.Options{VersionTime: time.Date(2026, 1, 1, 0, 2, 30, 0, time.UTC)})
	if at.DIDDocumentMetadata.VersionID != v2 {
		t.Fatalf("versionTime gave %s, want %s", at.DIDDocumentMetadata.VersionID, v2)
	}
	r := &idmesh.Resolver{State: e.kv}
	if _, err := r.Resolve(context.Background(), d, did.Options{VersionTime: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}); !errors.Is(err, did.ErrNotFound) {
		t.Fatalf("before creation: %v", err)
	}

	// Deactivate; then nothing changes it any more, and it still resolves.
	deact := &idmesh.Operation{Type: idmesh.Deactivate, DID: d, Previous: v4}
	if err := deact.Sign(chainID, "#key-3", k3); err != nil {
		t.Fatal(err)
	}
	if err := e.apply(deact); err != nil {
		t.Fatal(err)
	}
	v5, _ := deact.VersionID()
	if err := e.apply(update(d, v5, comp.Clone(), "#key-3", k3, chainID)); !errors.Is(err, idmesh.ErrDeactivated) {
		t.Fatalf("update after deactivate: %v", err)
	}
	gone := e.resolve(d, did.Options{})
	if !gone.DIDDocumentMetadata.Deactivated || len(gone.DIDDocument.VerificationMethod) != 0 {
		t.Fatalf("deactivated result %+v", gone.DIDDocumentMetadata)
	}
}

func TestControllers(t *testing.T) {
	e := newEnv(t)
	owner := genKey(t, keys.Ed25519, 7)
	ctrl, _ := e.create(owner)
	subjectKey := genKey(t, keys.Ed25519, 8)
	keyCtrl := genKey(t, keys.P256, 9)
	keyDID := key.New(keyCtrl.Public())

	doc := template(subjectKey.Public())
	doc.Controller = did.StringSet{ctrl, keyDID}
	op := &idmesh.Operation{Type: idmesh.Create, Document: doc}
	if err := op.SignAll(chainID, idmesh.Signer{VM: ctrl + "#key-1", Key: owner}, idmesh.Signer{VM: "#key-1", Key: subjectKey}); err != nil {
		t.Fatal(err)
	}
	if err := e.apply(op); err != nil {
		t.Fatalf("create signed by a did:idmesh controller: %v", err)
	}
	d, _ := op.SubjectDID()
	v, _ := op.VersionID()

	// The subject's own key is not a controller's key: refused.
	cur := e.resolve(d, did.Options{}).DIDDocument
	if err := e.apply(update(d, v, cur.Clone(), "#key-1", subjectKey, chainID)); !errors.Is(err, idmesh.ErrUnauthorized) {
		t.Fatalf("update by a non-controller key: %v", err)
	}
	// The did:key controller may update.
	kd, err := key.Document(keyDID)
	if err != nil {
		t.Fatal(err)
	}
	signer := kd.CapabilityInvocation[0].Reference
	if err := e.apply(update(d, v, cur.Clone(), signer, keyCtrl, chainID)); err != nil {
		t.Fatalf("update by a did:key controller: %v", err)
	}
}

func TestResolveErrors(t *testing.T) {
	r := &idmesh.Resolver{State: mapKV{}}
	tests := map[string]error{
		"did:idmesh:nope0OIl": did.ErrInvalidDID,
		"not a did":           did.ErrInvalidDID,
		"did:idmesh:11111111111111111111111111111111":            did.ErrNotFound,
		"did:idmesh:4vJ9JU1bJJE96FWSJKvHsmmFADCg4gpZQff4P3bkLKi": did.ErrNotFound,
	}
	for in, want := range tests {
		if _, err := r.Resolve(context.Background(), in, did.Options{}); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", in, err, want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	k, _ := keys.Generate(keys.Ed25519, seeded(1))
	op := &idmesh.Operation{Type: idmesh.Create, Document: template(k.Public())}
	_ = op.Sign(chainID, "#key-1", k)
	b, _ := op.Encode()
	f.Add(b)
	f.Add([]byte(`{"type":"update","did":"did:idmesh:x","previous":"00","proof":[]}`))
	// A proof naming its key in absolute form (normalised to "#key-1").
	d, _ := op.SubjectDID()
	v, _ := op.VersionID()
	abs := update(d, v, template(k.Public()), d+"#key-1", k, chainID)
	ab, _ := abs.Encode()
	f.Add(ab)
	f.Add([]byte(`{"type":"create","type":"update"}`))
	// A create with a second key and its proof of possession, proofs
	// sent out of order (sorted by Decode).
	k2, _ := keys.Generate(keys.Ed25519, seeded(2))
	two := &idmesh.Operation{Type: idmesh.Create, Document: withKey(template(k.Public()), "#a", k2.Public(), did.RelAssertionMethod)}
	_ = two.SignAll(chainID, idmesh.Signer{VM: "#key-1", Key: k}, idmesh.Signer{VM: "#a", Key: k2})
	two.Proof[0], two.Proof[1] = two.Proof[1], two.Proof[0]
	tb, _ := two.Encode()
	f.Add(tb)
	// A P-256 create with a high S and with a low S; a create by two
	// controllers with both proofs and with one (FuzzOneEncoding).
	for _, b := range oneEncodingSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		op, err := idmesh.Decode(data)
		if err != nil {
			return
		}
		enc, err := op.Encode()
		if err != nil {
			t.Fatal(err)
		}
		again, err := idmesh.Decode(enc)
		if err != nil {
			t.Fatalf("canonical form does not decode: %v", err)
		}
		enc2, _ := again.Encode()
		if !bytes.Equal(enc, enc2) {
			t.Fatal("canonical form is not stable")
		}
		fast, err1 := op.BodyFast()
		slow, err2 := op.BodySlow()
		if (err1 == nil) != (err2 == nil) || !bytes.Equal(fast, slow) {
			t.Fatalf("body: one pass %q (%v), decode and re-encode %q (%v)", fast, err1, slow, err2)
		}
		_ = idmesh.Apply(mapKV{}, idmesh.Env{ChainID: chainID, Height: 1, Time: time.Unix(0, 0)}, op)
	})
}

func TestDecodeKeepsWhatIsSigned(t *testing.T) {
	k := genKey(t, keys.Ed25519, 1)
	op := &idmesh.Operation{Type: idmesh.Create, Document: template(k.Public())}
	if err := op.Sign(chainID, "#key-1", k); err != nil {
		t.Fatal(err)
	}
	b, _ := op.Encode()
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	doc := m["document"].(map[string]any)
	// A lone string @context is JSON-LD's one-element array: accepted.
	doc["@context"] = did.ContextV1
	doc["verificationMethod"].([]any)[0].(map[string]any)["controller"] = ""
	// So are a one-element array where the model writes a string, and
	// empty members the model leaves out.
	doc["alsoKnownAs"] = []any{}
	doc["service"] = nil
	ok, _ := json.Marshal(m)
	if _, err := idmesh.Decode(ok); err != nil {
		t.Fatalf("equivalent form refused: %v", err)
	}
	ctl := &idmesh.Operation{Type: idmesh.Create, Document: template(k.Public())}
	ctl.Document.Controller = did.StringSet{"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"}
	cb, _ := json.Marshal(ctl)
	var cm map[string]any
	_ = json.Unmarshal(cb, &cm)
	cm["document"].(map[string]any)["controller"] = []any{"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"}
	cm["proof"] = []any{map[string]any{"verificationMethod": "#key-1", "signature": "AA"}}
	cb, _ = json.Marshal(cm)
	if _, err := idmesh.Decode(cb); err != nil {
		t.Fatalf("a one-element controller array refused: %v", err)
	}
	cm["proof"] = []any{map[string]any{"verificationMethod": "#key-1"}}
	cb, _ = json.Marshal(cm)
	if _, err := idmesh.Decode(cb); !errors.Is(err, idmesh.ErrInvalidOperation) {
		t.Fatalf("a proof without a signature: %v", err)
	}
	for name, mutate := range map[string]func(doc map[string]any){
		"unknown document member": func(doc map[string]any) { doc["extra"] = "x" },
		"unknown member in a verification method": func(doc map[string]any) {
			doc["verificationMethod"].([]any)[0].(map[string]any)["note"] = 1
		},
	} {
		t.Run(name, func(t *testing.T) {
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			mutate(m["document"].(map[string]any))
			bad, _ := json.Marshal(m)
			if _, err := idmesh.Decode(bad); !errors.Is(err, idmesh.ErrInvalidOperation) {
				t.Fatalf("error %v, want ErrInvalidOperation", err)
			}
		})
	}
}

func TestMoreRules(t *testing.T) {
	e := newEnv(t)
	k := genKey(t, keys.Ed25519, 1)
	d, v1 := e.create(k)

	upper := update(d, strings.ToUpper(v1), e.resolve(d, did.Options{}).DIDDocument.Clone(), "#key-1", k, chainID)
	if err := e.apply(upper); !errors.Is(err, idmesh.ErrInvalidOperation) {
		t.Fatalf("uppercase previous: %v", err)
	}

	// A document nobody could ever change again is refused.
	x := genKey(t, keys.Ed25519, 2)
	xpub, err := x.Public().X25519()
	if err != nil {
		t.Fatal(err)
	}
	frozen := template(k.Public())
	frozen.VerificationMethod = append(frozen.VerificationMethod, did.NewMultikey("#ka", "", xpub))
	frozen.CapabilityInvocation = []did.Relationship{did.Ref("#ka")}
	op := update(d, v1, frozen, "#key-1", k, chainID)
	if err := e.apply(op); !errors.Is(err, idmesh.ErrInvalidOperation) {
		t.Fatalf("X25519-only capabilityInvocation: %v", err)
	}
	ghost := template(k.Public())
	ghost.Controller = did.StringSet{"did:idmesh:11111111111111111111111111111111"}
	if err := e.apply(update(d, v1, ghost, "#key-1", k, chainID)); !errors.Is(err, idmesh.ErrInvalidOperation) {
		t.Fatalf("controller that does not exist: %v", err)
	}

	// Metadata: nextUpdate, versionTime at the reported second, and
	// deactivated on every version once deactivated.
	op = update(d, v1, e.resolve(d, did.Options{}).DIDDocument.Clone(), "#key-1", k, chainID)
	if err := e.apply(op); err != nil {
		t.Fatal(err)
	}
	v2, _ := op.VersionID()
	first := e.resolve(d, did.Options{VersionID: v1}).DIDDocumentMetadata
	if first.NextVersionID != v2 || first.NextUpdate == "" {
		t.Fatalf("version 1 metadata %+v", first)
	}
	created, err := time.Parse(time.RFC3339, first.Created)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.resolve(d, did.Options{VersionTime: created}).DIDDocumentMetadata.VersionID; got != v1 {
		t.Fatalf("versionTime = created gives %s, want %s", got, v1)
	}
	deact := &idmesh.Operation{Type: idmesh.Deactivate, DID: d, Previous: v2}
	if err := deact.Sign(chainID, "#key-1", k); err != nil {
		t.Fatal(err)
	}
	if err := e.apply(deact); err != nil {
		t.Fatal(err)
	}
	if !e.resolve(d, did.Options{VersionID: v1}).DIDDocumentMetadata.Deactivated {
		t.Fatal("an old version of a deactivated DID does not say deactivated")
	}
}
