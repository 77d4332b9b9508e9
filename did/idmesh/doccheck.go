package idmesh

import "sync/atomic"

// docCheck remembers the DID for which a decoded operation's document
// passed the checks of prepareDocument that read no state (the document
// made absolute for that DID, did.Document.Validate): they depend on the
// document and the DID only, and a decoded operation is never modified,
// so the mempool's check, the proposal and the block's execution of one
// operation validate its document once. Only a pass is remembered: a
// document that fails is validated again each time, as before, and
// costs no memory. A pointer in Operation, so that copying an Operation
// copies no atomic value.
type docCheck struct {
	validFor atomic.Pointer[string]
}

// documentValidFor reports whether op's document passed the checks for
// subject before (never for an operation that was not decoded).
func (op *Operation) documentValidFor(subject string) bool {
	if op.checked == nil {
		return false
	}
	p := op.checked.validFor.Load()
	return p != nil && *p == subject
}

// documentValid records that op's document passed the checks for subject.
func (op *Operation) documentValid(subject string) {
	if op.checked != nil {
		op.checked.validFor.Store(&subject)
	}
}
