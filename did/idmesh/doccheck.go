package idmesh

import (
	"sync/atomic"

	"github.com/idmesh/idmesh/did"
)

// docCheck remembers the DID for which a decoded operation's document
// passed the checks of prepareDocument that read no state (the document
// made absolute for that DID, did.Document.Validate), and, for a create
// whose document names no other controller, the chain on which its
// proofs passed authorize: they depend on the operation, the DID and the
// chain only, and a decoded operation is never modified, so the
// mempool's check, the proposal and the block's execution of one
// operation validate its document and verify its create's proofs once.
// Only a pass is remembered: a document that fails is validated again
// each time, as before, and costs no memory. A pointer in Operation, so
// that copying an Operation copies no atomic value.
type docCheck struct {
	// owner, doc and proof are the operation decode made, its document
	// and its proofs: the memos answer only for that object with those
	// parts, so that a shallow copy of a decoded operation, or one whose
	// document or proofs were replaced (which no caller does: a decoded
	// operation is never modified), is checked in full (review R19).
	owner *Operation
	doc   *did.Document
	proof []Proof

	validFor atomic.Pointer[string]
	// authorized holds the chain for which a create's proofs passed
	// authorize, when that read no state (see createAuthorized).
	authorized atomic.Pointer[authorizedCreate]
	// signed holds the signing input for the last chain asked
	// (signingInput).
	signed atomic.Pointer[signingInputFor]
}

// signingInputFor is an operation's signing input on one chain.
type signingInputFor struct {
	chainID string
	input   []byte
}

// authorizedCreate names what a create's authorization depended on: the
// DID its document was made absolute for and the chain whose ID its
// signing input holds.
type authorizedCreate struct{ subject, chainID string }

// newDocCheck returns the memos of op, just decoded.
func newDocCheck(op *Operation) *docCheck {
	return &docCheck{owner: op, doc: op.Document, proof: op.Proof}
}

// sameSlice reports whether a and b are the same slice: the same length
// and, if not empty, the same first element.
func sameSlice(a, b []Proof) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// memos returns op's memos if op is the operation they were made for,
// with the same document and proofs, else nil.
func (op *Operation) memos() *docCheck {
	c := op.checked
	if c == nil || c.owner != op || c.doc != op.Document || !sameSlice(c.proof, op.Proof) {
		return nil
	}
	return c
}

// createAuthorizedFor reports whether op, a create, passed authorize for
// subject on chain chainID before, with a document that names no
// controller but subject (never for an operation that was not decoded).
func (op *Operation) createAuthorizedFor(subject, chainID string) bool {
	c := op.memos()
	if c == nil {
		return false
	}
	a := c.authorized.Load()
	return a != nil && a.subject == subject && a.chainID == chainID
}

// createAuthorized records that op, a create of subject on chain chainID,
// passed authorize with doc, its document made absolute, if that check
// read no state: every controller doc names is subject, so the keys that
// may sign are doc's own, and the check (the proofs' keys and
// references, a proof for every added key, no proof more than needed,
// the signatures) depends on op, subject and the signing input alone. A
// create whose document names another controller reads that
// controller's current document, which a block may change, and is not
// recorded.
func (op *Operation) createAuthorized(subject, chainID string, doc *did.Document) {
	c := op.memos()
	if c == nil || op.Type != Create {
		return
	}
	for _, ctl := range doc.ControllerDIDs() {
		if ctl != subject {
			return
		}
	}
	c.authorized.Store(&authorizedCreate{subject: subject, chainID: chainID})
}

// documentValidFor reports whether op's document passed the checks for
// subject before (never for an operation that was not decoded).
func (op *Operation) documentValidFor(subject string) bool {
	c := op.memos()
	if c == nil {
		return false
	}
	p := c.validFor.Load()
	return p != nil && *p == subject
}

// documentValid records that op's document passed the checks for subject.
func (op *Operation) documentValid(subject string) {
	if c := op.memos(); c != nil {
		c.validFor.Store(&subject)
	}
}
