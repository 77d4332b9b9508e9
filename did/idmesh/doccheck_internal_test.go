package idmesh

import (
	"reflect"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/keys"
)

// newTestCreate returns a create signed on chain "c" by a new Ed25519
// key, and the key.
func newTestCreate(t *testing.T) (*Operation, keys.PrivateKey) {
	t.Helper()
	k, err := keys.Generate(keys.Ed25519, nil)
	if err != nil {
		t.Fatal(err)
	}
	create, err := NewCreate("c", k)
	if err != nil {
		t.Fatal(err)
	}
	return create, k
}

// decodedCreate returns create as the mempool holds it: decoded from its
// encoding.
func decodedCreate(t *testing.T, create *Operation) *Operation {
	t.Helper()
	b, err := create.Encode()
	if err != nil {
		t.Fatal(err)
	}
	op, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return op
}

// TestDocumentCheckedOnce: a decoded operation's document passes
// prepareDocument's state-free checks once for its DID; later calls get
// equal, separate documents (Apply rewrites its own in place), a DID the
// document is not valid for is still refused, an operation that was not
// decoded is validated every time, and Sign forgets the pass.
func TestDocumentCheckedOnce(t *testing.T) {
	create, k := newTestCreate(t)
	op := decodedCreate(t, create)
	subject, _ := op.SubjectDID()
	r := memKV{}
	first, err := prepareDocument(r, op, subject)
	if err != nil || !op.documentValidFor(subject) {
		t.Fatalf("%v, remembered %v", err, op.documentValidFor(subject))
	}
	again, err := prepareDocument(r, op, subject)
	if err != nil || again == first || !reflect.DeepEqual(first, again) {
		t.Fatalf("second: %v, same pointer %v", err, again == first)
	}
	// A DID of did.MaxStringLength bytes, which WithID accepts, makes
	// the ids of the document's keys too long: the pass for subject says
	// nothing of it.
	long := "did:idmesh:" + strings.Repeat("z", did.MaxStringLength-len("did:idmesh:"))
	if _, err := prepareDocument(r, op, long); err == nil || !strings.Contains(err.Error(), "verificationMethod[0].id") {
		t.Fatalf("a key id too long: %v", err)
	}
	if _, err := prepareDocument(r, op, subject); err != nil {
		t.Fatal(err)
	}
	if _, err := prepareDocument(r, create, subject); err != nil || create.documentValidFor(subject) {
		t.Fatalf("an operation not decoded: %v, remembered %v", err, create.documentValidFor(subject))
	}
	if err := op.Sign("c", "#key-1", k); err != nil {
		t.Fatal(err)
	}
	if op.documentValidFor(subject) {
		t.Fatal("Sign kept the pass")
	}
}

// TestDocumentInvalidCheckedEveryTime: a decoded operation whose document
// fails the checks (a key that does not parse) fails them at every
// check, with the same error, and nothing is remembered.
func TestDocumentInvalidCheckedEveryTime(t *testing.T) {
	create, k := newTestCreate(t)
	create.Document.VerificationMethod = append(create.Document.VerificationMethod, did.VerificationMethod{ID: "#bad", Type: "Multikey", PublicKeyMultibase: "zBAD"})
	create.Proof = nil
	if err := create.Sign("c", "#key-1", k); err != nil {
		t.Fatal(err)
	}
	op := decodedCreate(t, create)
	subject, _ := op.SubjectDID()
	var first error
	for i := range 3 {
		err := Check(memKV{}, Env{ChainID: "c"}, op)
		if err == nil {
			t.Fatalf("check %d passed", i)
		}
		if i == 0 {
			first = err
		} else if err.Error() != first.Error() {
			t.Fatalf("check %d: %v, first %v", i, err, first)
		}
	}
	if op.documentValidFor(subject) {
		t.Fatal("a failing document was remembered")
	}
}

// TestMemosAnswerForTheirOperation: the memos of a decoded create answer
// only for that object with its own document and proofs. A shallow copy
// (which shares the memos) and an operation whose document or proofs
// were replaced are checked in full, so a changed document or a bogus
// proof is refused even after the original passed (review R19).
func TestMemosAnswerForTheirOperation(t *testing.T) {
	create, _ := newTestCreate(t)
	op := decodedCreate(t, create)
	subject, _ := op.SubjectDID()
	env := Env{ChainID: "c", Sigs: NewSigCache(16)}
	if err := Check(memKV{}, env, op); err != nil {
		t.Fatal(err)
	}
	if !op.createAuthorizedFor(subject, "c") || !op.documentValidFor(subject) {
		t.Fatal("the decoded create's pass was not remembered")
	}
	copied := *op
	if copied.createAuthorizedFor(subject, "c") || copied.documentValidFor(subject) {
		t.Fatal("a shallow copy answers from the original's memos")
	}
	other, _ := newTestCreate(t)
	swapped := *op
	swapped.Document = other.Document // another key: the proof does not verify under it
	if err := Check(memKV{}, env, &swapped); err == nil {
		t.Fatal("a copy with another document passes")
	}
	bogus := *op
	bogus.Proof = []Proof{{VerificationMethod: "#key-1", Signature: "AAAA"}}
	if err := Check(memKV{}, env, &bogus); err == nil {
		t.Fatal("a copy with a bogus proof passes")
	}
	// In place, as no caller does: the memos no longer answer either.
	doc := op.Document
	op.Document = other.Document
	if op.createAuthorizedFor(subject, "c") || op.documentValidFor(subject) {
		t.Fatal("the memos answer after the document was replaced")
	}
	op.Document = doc
	op.Proof = bogus.Proof
	if op.createAuthorizedFor(subject, "c") {
		t.Fatal("the memo answers after the proofs were replaced")
	}
	if err := Check(memKV{}, env, op); err == nil {
		t.Fatal("the operation with its proofs replaced passes")
	}
}

// TestSigningInputRemembered: a decoded operation's signing input is made
// once per chain and equals SigningInput's; another chain gets its own;
// an operation that was not decoded gets a fresh one every time.
func TestSigningInputRemembered(t *testing.T) {
	create, _ := newTestCreate(t)
	op := decodedCreate(t, create)
	for _, chain := range []string{"c", "other", "c"} {
		want, err := op.SigningInput(chain)
		if err != nil {
			t.Fatal(err)
		}
		first, err := op.signingInput(chain)
		if err != nil || string(first) != string(want) {
			t.Fatalf("chain %s: %v, %q, want %q", chain, err, first, want)
		}
		again, _ := op.signingInput(chain)
		if &again[0] != &first[0] {
			t.Errorf("chain %s: made twice", chain)
		}
	}
	a, _ := create.signingInput("c")
	b, _ := create.signingInput("c")
	if &a[0] == &b[0] {
		t.Error("an operation that was not decoded shares its signing input")
	}
}
