package idmesh_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
)

// rotateTo replaces every key of d by a new Multikey "#key-<n>" for k,
// signed by signer, and returns the new versionId.
func (e *env) rotateTo(d, prev string, n int, k keys.PrivateKey, signerID string, signer keys.PrivateKey, compromised ...string) (string, error) {
	e.t.Helper()
	id := "#key-" + itoa(n)
	doc := rotatedTemplate(n, k.Public())
	op := &idmesh.Operation{Type: idmesh.Update, DID: d, Previous: prev, Document: doc, Compromised: compromised}
	if err := op.SignAll(chainID, idmesh.Signer{VM: signerID, Key: signer}, idmesh.Signer{VM: id, Key: k}); err != nil {
		e.t.Fatal(err)
	}
	v, _ := op.VersionID()
	return v, e.apply(op)
}

// rotatedTemplate is template with the key named "#key-<n>".
func rotatedTemplate(n int, pub keys.PublicKey) *did.Document {
	id := "#key-" + itoa(n)
	doc := template(pub)
	doc.VerificationMethod[0].ID = id
	ref := []did.Relationship{did.Ref(id)}
	doc.Authentication, doc.AssertionMethod, doc.CapabilityInvocation = ref, ref, ref
	return doc
}

// mark submits an update that keeps d's current document and marks ids
// compromised.
func (e *env) mark(d, prev, signerID string, signer keys.PrivateKey, ids ...string) (string, error) {
	e.t.Helper()
	doc := e.resolve(d, did.Options{}).DIDDocument.Clone()
	op := &idmesh.Operation{Type: idmesh.Update, DID: d, Previous: prev, Document: doc, Compromised: ids}
	if err := op.Sign(chainID, signerID, signer); err != nil {
		e.t.Fatal(err)
	}
	v, _ := op.VersionID()
	return v, e.apply(op)
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func keyStatus(t *testing.T, e *env, pub keys.PublicKey) *idmesh.KeyStatus {
	t.Helper()
	s, err := idmesh.LoadKeyStatus(e.kv, pub)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCompromiseEarlierKey: a key retired in a rotation can later be
// marked compromised, by its relative or absolute id, with the document
// otherwise unchanged; the index then says compromised.
func TestCompromiseEarlierKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   func(d string) string
	}{
		{"relative", func(string) string { return "#key-1" }},
		{"absolute", func(d string) string { return d + "#key-1" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			k1, k2 := genKey(t, keys.Ed25519, 1), genKey(t, keys.Ed25519, 2)
			d, v1 := e.create(k1)
			v2, err := e.rotateTo(d, v1, 2, k2, "#key-1", k1)
			if err != nil {
				t.Fatal(err)
			}
			st := keyStatus(t, e, k1.Public())
			if st == nil || st.Status != idmesh.KeyRetired || st.First.DID != d || st.First.ID != d+"#key-1" || st.First.Version != 2 || st.Events != 1 {
				t.Fatalf("after the rotation: %+v", st)
			}
			rotatedAt := st.First.Time
			v3, err := e.mark(d, v2, "#key-2", k2, tc.id(d))
			if err != nil {
				t.Fatalf("compromise of the retired key: %v", err)
			}
			st = keyStatus(t, e, k1.Public())
			if !st.IsCompromised() || st.Compromised.DID != d || st.Compromised.ID != d+"#key-1" || st.Compromised.Version != 3 ||
				st.Compromised.VersionID != v3 || !st.First.Time.Equal(rotatedAt) || st.Events != 2 {
				t.Fatalf("after the mark: %+v", st)
			}
			// The removal record keeps the time of the rotation.
			rm, err := idmesh.LoadRemovedMethod(e.kv, d, d+"#key-1")
			if err != nil || rm == nil || rm.Version != 2 || !rm.Time.Equal(rotatedAt) || rm.PublicKeyMultibase != k1.Public().Multibase() {
				t.Fatalf("removed method: %+v %v", rm, err)
			}
			md := e.resolve(d, did.Options{}).DIDDocumentMetadata
			events, _ := md.Extra["rotatedKeys"].([]idmesh.KeyEvent)
			if len(events) != 2 || events[1].Status != idmesh.KeyCompromised || events[1].ID != d+"#key-1" || md.Extra["rotatedKeysTotal"] != uint64(2) {
				t.Fatalf("metadata %+v", md.Extra)
			}
			// The document is unchanged, and k1 may never come back.
			back := e.resolve(d, did.Options{}).DIDDocument.Clone()
			back.VerificationMethod = append(back.VerificationMethod, did.NewMultikey(d+"#key-9", d, k1.Public()))
			if err := e.apply(update(d, v3, back, "#key-2", k2, chainID, idmesh.Signer{VM: "#key-9", Key: k1})); !errors.Is(err, idmesh.ErrInvalidOperation) {
				t.Fatalf("re-adding the compromised key: %v", err)
			}
		})
	}
}

// TestCompromiseUnknownKey: compromised must name a key that a version of
// this DID held.
func TestCompromiseUnknownKey(t *testing.T) {
	e := newEnv(t)
	k1, k2, k3 := genKey(t, keys.Ed25519, 1), genKey(t, keys.Ed25519, 2), genKey(t, keys.Ed25519, 3)
	d, v1 := e.create(k1)
	v2, err := e.rotateTo(d, v1, 2, k2, "#key-1", k1)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := e.create(k3)
	for _, id := range []string{"#key-7", d + "#key-7", other + "#key-1", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"} {
		if _, err := e.mark(d, v2, "#key-2", k2, id); !errors.Is(err, idmesh.ErrInvalidOperation) || !strings.Contains(err.Error(), "names no key") {
			t.Errorf("compromised %s: %v", id, err)
		}
	}
	if s := keyStatus(t, e, k3.Public()); s != nil {
		t.Fatalf("another DID's key was marked: %+v", s)
	}
}

// TestCompromiseFollowsKeyMaterial: a key that one DID retired and
// another holds under another id is compromised for both once the other
// marks it; and a mark by the first DID holds for the second.
func TestCompromiseFollowsKeyMaterial(t *testing.T) {
	e := newEnv(t)
	ka, kb, kc, shared := genKey(t, keys.Ed25519, 1), genKey(t, keys.Ed25519, 2), genKey(t, keys.Ed25519, 3), genKey(t, keys.Ed25519, 4)
	// A holds shared as #key-1, then retires it.
	a, va1 := e.create(shared)
	va2, err := e.rotateTo(a, va1, 2, ka, "#key-1", shared)
	if err != nil {
		t.Fatal(err)
	}
	// B adds shared under another id, then marks it compromised (a rotation).
	b, vb1 := e.create(kb)
	doc := e.resolve(b, did.Options{}).DIDDocument.Clone()
	doc.VerificationMethod = append(doc.VerificationMethod, did.NewMultikey(b+"#other", b, shared.Public()))
	doc.AssertionMethod = append(doc.AssertionMethod, did.Ref(b+"#other"))
	op := update(b, vb1, doc, "#key-1", kb, chainID, idmesh.Signer{VM: "#other", Key: shared})
	if err := e.apply(op); err != nil {
		t.Fatal(err)
	}
	vb2, _ := op.VersionID()
	if st := keyStatus(t, e, shared.Public()); st.IsCompromised() {
		t.Fatalf("compromised too early: %+v", st)
	}
	drop := e.resolve(b, did.Options{}).DIDDocument.Clone()
	drop.VerificationMethod = drop.VerificationMethod[:1]
	drop.AssertionMethod = drop.AssertionMethod[:1]
	op = update(b, vb2, drop, "#key-1", kb, chainID)
	op.Compromised = []string{"#other"}
	op.Proof = nil
	if err := op.Sign(chainID, "#key-1", kb); err != nil {
		t.Fatal(err)
	}
	if err := e.apply(op); err != nil {
		t.Fatal(err)
	}
	st := keyStatus(t, e, shared.Public())
	if !st.IsCompromised() || st.Compromised.DID != b || st.Compromised.ID != b+"#other" || st.First.DID != a || st.First.ID != a+"#key-1" {
		t.Fatalf("index %+v", st)
	}
	// A can mark it too (idempotent), and can never add it again.
	if _, err := e.mark(a, va2, "#key-2", ka, "#key-1"); err != nil {
		t.Fatalf("A marks its old key: %v", err)
	}
	if st2 := keyStatus(t, e, shared.Public()); *st2.Compromised != *st.Compromised || st2.Events != 3 {
		t.Fatalf("the first mark must stay: %+v", st2)
	}
	// Every mark is kept, in order.
	for i, want := range []struct{ did, id, status string }{
		{a, a + "#key-1", idmesh.KeyRetired}, {b, b + "#other", idmesh.KeyCompromised}, {a, a + "#key-1", idmesh.KeyCompromised},
	} {
		m, err := idmesh.LoadKeyMark(e.kv, shared.Public(), uint64(i))
		if err != nil || m.DID != want.did || m.ID != want.id || m.Status != want.status {
			t.Fatalf("mark %d: %+v %v, want %+v", i, m, err, want)
		}
	}
	// C may not add it either.
	c, vc1 := e.create(kc)
	add := e.resolve(c, did.Options{}).DIDDocument.Clone()
	add.VerificationMethod = append(add.VerificationMethod, did.NewMultikey(c+"#x", c, shared.Public()))
	if err := e.apply(update(c, vc1, add, "#key-1", kc, chainID, idmesh.Signer{VM: "#x", Key: shared})); !errors.Is(err, idmesh.ErrInvalidOperation) || !strings.Contains(err.Error(), "compromised") {
		t.Fatalf("adding a key compromised elsewhere: %v", err)
	}
}

// TestKeyHistoryBounded: resolution lists the newest 64 key events and
// the total, and the record every resolution decodes (with the latest
// document) does not grow with the history.
func TestKeyHistoryBounded(t *testing.T) {
	e := newEnv(t)
	k := genKey(t, keys.Ed25519, 1)
	d, v := e.create(k)
	var sizeAfter10 int
	for i := 2; i <= 201; i++ {
		next := genKey(t, keys.Ed25519, uint64(i))
		var err error
		if v, err = e.rotateTo(d, v, i, next, "#key-"+itoa(i-1), k); err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
		k = next
		if i == 11 {
			sizeAfter10 = len(e.kv[string(idmesh.RecordKey(d))])
		}
	}
	md := e.resolve(d, did.Options{}).DIDDocumentMetadata
	events, _ := md.Extra["rotatedKeys"].([]idmesh.KeyEvent)
	if len(events) != idmesh.MaxListedRotatedKeys || md.Extra["rotatedKeysTotal"] != uint64(200) {
		t.Fatalf("%d events listed, total %v", len(events), md.Extra["rotatedKeysTotal"])
	}
	if events[0].ID != d+"#key-137" || events[63].ID != d+"#key-200" || events[63].Version != 201 {
		t.Fatalf("not the newest, oldest first: %s .. %s", events[0].ID, events[63].ID)
	}
	rec := e.kv[string(idmesh.RecordKey(d))]
	if len(rec) > 1024 || len(rec) > sizeAfter10+8 {
		t.Fatalf("record of %d bytes after 200 updates (%d after 10)", len(rec), sizeAfter10)
	}
	// An earlier version lists the events up to it.
	old := e.resolve(d, did.Options{VersionID: mustVersionID(t, e, d, 11)}).DIDDocumentMetadata
	if ev, _ := old.Extra["rotatedKeys"].([]idmesh.KeyEvent); len(ev) != 10 || old.Extra["rotatedKeysTotal"] != uint64(10) {
		t.Fatalf("version 11: %d events, total %v", len(ev), old.Extra["rotatedKeysTotal"])
	}
}

func mustVersionID(t *testing.T, e *env, d string, n uint64) string {
	t.Helper()
	v, err := idmesh.LoadVersion(e.kv, d, n)
	if err != nil {
		t.Fatal(err)
	}
	return v.VersionID
}

// TestOperationHashOneSpelling: a proof's reference to a key of the
// operation's own DID, absolute or relative, gives one encoding (so one
// transaction hash); both are accepted, and both at once are two proofs
// by one key.
func TestOperationHashOneSpelling(t *testing.T) {
	e := newEnv(t)
	k1, k2 := genKey(t, keys.Ed25519, 1), genKey(t, keys.Ed25519, 2)
	d, v1 := e.create(k1)
	doc := rotatedTemplate(2, k2.Public())
	enc := func(signer string) []byte {
		op := update(d, v1, doc, signer, k1, chainID, idmesh.Signer{VM: "#key-2", Key: k2})
		b, err := op.Encode()
		if err != nil {
			t.Fatal(err)
		}
		dec, err := idmesh.Decode(b)
		if err != nil {
			t.Fatalf("decode with %s: %v", signer, err)
		}
		c, err := dec.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	rel, abs := enc("#key-1"), enc(d+"#key-1")
	if !bytes.Equal(rel, abs) {
		t.Fatalf("two encodings of one operation:\n%s\n%s", rel, abs)
	}
	if !bytes.Contains(rel, []byte(`"verificationMethod":"#key-1"`)) {
		t.Fatalf("not the relative form: %s", rel)
	}
	// A create names its own DID only once it is signed: the same holds.
	create := func(signer string) []byte {
		op := &idmesh.Operation{Type: idmesh.Create, Document: template(k2.Public())}
		sub, _ := op.SubjectDID()
		if err := op.Sign(chainID, strings.ReplaceAll(signer, "DID", sub), k2); err != nil {
			t.Fatal(err)
		}
		b, _ := op.Encode()
		dec, err := idmesh.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := dec.Encode()
		return c
	}
	if a, b := create("#key-1"), create("DID#key-1"); !bytes.Equal(a, b) {
		t.Fatalf("create: two encodings:\n%s\n%s", a, b)
	}
	// The absolute spelling applies like the relative one.
	if err := e.apply(update(d, v1, doc, d+"#key-1", k1, chainID, idmesh.Signer{VM: d + "#key-2", Key: k2})); err != nil {
		t.Fatalf("absolute reference: %v", err)
	}
	// Both spellings in one operation are two proofs by one key.
	two := update(d, v1, doc, "#key-1", k1, chainID, idmesh.Signer{VM: "#key-2", Key: k2})
	if err := two.Sign(chainID, d+"#key-1", k1); err != nil {
		t.Fatal(err)
	}
	b, _ := two.Encode()
	if _, err := idmesh.Decode(b); !errors.Is(err, idmesh.ErrInvalidOperation) || !strings.Contains(err.Error(), "two proofs") {
		t.Fatalf("both spellings: %v", err)
	}
}
