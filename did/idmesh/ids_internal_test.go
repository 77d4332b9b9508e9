package idmesh

import (
	"testing"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/keys"
)

// sameIDs fails unless the digest, versionId and DID that decode kept for
// op are what Digest, VersionID and SubjectDID compute from its body
// without them.
func sameIDs(t *testing.T, op *Operation) {
	t.Helper()
	bare := *op
	bare.digest, bare.vid, bare.subject = nil, "", ""
	if op.digest == nil {
		t.Fatal("decode kept no digest")
	}
	d1, err1 := op.Digest()
	d2, err2 := bare.Digest()
	v1, _ := op.VersionID()
	v2, _ := bare.VersionID()
	s1, _ := op.SubjectDID()
	s2, _ := bare.SubjectDID()
	if d1 != d2 || (err1 == nil) != (err2 == nil) || v1 != v2 || s1 != s2 {
		t.Fatalf("kept %x %s %s (%v), computed %x %s %s (%v)", d1, v1, s1, err1, d2, v2, s2, err2)
	}
}

// TestDecodeKeepsIDs: for decoded creates and updates, the ids decode
// keeps are the ones computed from the body; Sign drops them with the
// body, so that a re-signed operation has its new ids.
func TestDecodeKeepsIDs(t *testing.T) {
	create, k := newTestCreate(t)
	subject, _ := create.SubjectDID()
	vid, _ := create.VersionID()
	up := &Operation{Type: Update, DID: subject, Previous: vid, Document: &did.Document{Context: []any{did.ContextV1}, AlsoKnownAs: []string{"https://example.com/"}}}
	if err := up.Sign("c", "#key-1", k); err != nil {
		t.Fatal(err)
	}
	for _, op := range []*Operation{create, up} {
		b, err := op.Encode()
		if err != nil {
			t.Fatal(err)
		}
		for _, fast := range []bool{true, false} {
			dec, err := decode(b, fast)
			if err != nil {
				t.Fatal(err)
			}
			sameIDs(t, dec)
		}
	}
	dec, err := Decode(func() []byte { b, _ := create.Encode(); return b }())
	if err != nil {
		t.Fatal(err)
	}
	dec.Document = dec.Document.Clone()
	dec.Document.AlsoKnownAs = []string{"https://example.org/"}
	dec.Proof = nil
	if err := dec.Sign("c", "#key-1", k); err != nil {
		t.Fatal(err)
	}
	if dec.digest != nil || dec.vid != "" || dec.subject != "" {
		t.Fatal("Sign kept the ids of the old body")
	}
	if got, _ := dec.VersionID(); got == vid {
		t.Fatal("a changed, re-signed operation has the old versionId")
	}
}

// FuzzDecodeKeepsIDs: whatever decodes keeps the ids computed from its
// body.
func FuzzDecodeKeepsIDs(f *testing.F) {
	k, _ := keys.Generate(keys.Ed25519, nil)
	op, _ := NewCreate("c", k)
	b, _ := op.Encode()
	f.Add(b)
	f.Add([]byte(`{"type":"update","did":"did:idmesh:x","previous":"00","proof":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if op, err := Decode(b); err == nil {
			sameIDs(t, op)
		}
	})
}
