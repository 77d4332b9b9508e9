package registry

import (
	"encoding/json"
	"errors"
	"fmt"
)

// MaxEvidenceAge is how many heights old the votes of a piece of evidence
// may be: a block at height H accepts evidence of votes at heights from
// H-MaxEvidenceAge on. Older evidence is refused, so that nodes need not
// keep what proves it forever.
const MaxEvidenceAge = 100

// Evidence errors.
var (
	// ErrEvidenceTooOld reports evidence of votes older than
	// MaxEvidenceAge heights.
	ErrEvidenceTooOld = errors.New("evidence too old")
	// ErrEvidenceRecorded reports evidence of an offence, one validator's
	// votes of one type at one height and round, that is already
	// recorded (or already pending): one offence, one piece of evidence.
	ErrEvidenceRecorded = errors.New("evidence already recorded")
	// ErrEvidencePardoned reports evidence of an offence committed before
	// governance readmitted the validator: readmission pardons them.
	ErrEvidencePardoned = errors.New("offence pardoned by the validator's readmission")
)

// JailRecord is what the state holds of a validator jailed for an
// offence (under JailKey).
type JailRecord struct {
	// Height is the height of the block that recorded the evidence.
	Height uint64 `json:"height"`
	// Evidence is the state key of the evidence (EvidenceKey).
	Evidence []byte `json:"evidence"`
	// RemovedFrom is the first height the validator no longer decides
	// (Height+2), or 0 if the removal was skipped.
	RemovedFrom uint64 `json:"removed_from,omitempty"`
	// Skipped says why the validator was not removed, if it was not.
	Skipped string `json:"skipped,omitempty"`
}

// JailKey is the state key of a validator's JailRecord.
func JailKey(v Address) []byte { return append([]byte("jail\x00"), v[:]...) }

// PardonKey is the state key of the height at which governance last
// readmitted a jailed validator (8 bytes, big-endian): evidence of its
// votes at or below it is refused.
func PardonKey(v Address) []byte { return append([]byte("pardon\x00"), v[:]...) }

// EvidenceOffence returns the offence a transaction is evidence of, as
// its state key (EvidenceKey), or false if t is not well-formed evidence.
// The mempool keeps one piece of evidence per offence.
func EvidenceOffence(t Tx) ([]byte, bool) {
	if t.Type != TxEvidence {
		return nil, false
	}
	var ev DuplicateVoteEvidence
	if err := decodeStrict(t.Payload, &ev); err != nil {
		return nil, false
	}
	return EvidenceKey(ev.A.Validator, ev.A.Height, ev.A.Round, ev.A.Type), true
}

// jail removes v from the validator set that decides from ctx.Height+2
// on (the set of ctx.Height+1 is already fixed), and records why in the
// state under JailKey. A removal that would leave no validator is
// skipped, and the record says so. If v is not in that set (jailed
// already, or removed by governance) nothing changes. Jailing counts as
// a validator-set change: it advances the governance sequence, so that a
// change signed before the offence cannot let v back in by accident.
func jail(ctx TxContext, st *Overlay, v Address, evKey []byte) error {
	base := ctx.NextValidators
	if base == nil {
		base = ctx.Validators
	}
	// A change (or another jailing) earlier in this block has already
	// replaced the set of ctx.Height+2.
	if b, err := st.Get(keyGovNextVals); err == nil {
		var vs ValidatorSet
		if err := json.Unmarshal(b, &vs); err != nil {
			return Reject(CodeInternal, fmt.Errorf("jail: decode scheduled validator set: %w", err))
		}
		base = &vs
	}
	if base == nil {
		return Reject(CodeInternal, errors.New("jail: no validator set"))
	}
	if _, ok := base.ByAddress(v); !ok {
		return nil
	}
	rec := JailRecord{Height: ctx.Height, Evidence: evKey}
	rest := make([]Validator, 0, len(base.Validators))
	for _, val := range base.Validators {
		if val.Address() != v {
			rest = append(rest, val)
		}
	}
	next, err := NewValidatorSet(rest)
	if err != nil {
		// A fixed text: state must not depend on an error's wording.
		rec.Skipped = "removal skipped: the validator set would be left without a validator able to decide"
	} else {
		if err := scheduleSet(st, next); err != nil {
			return err
		}
		rec.RemovedFrom = ctx.Height + 2
	}
	enc, err := json.Marshal(rec)
	if err != nil {
		return Reject(CodeInternal, err)
	}
	st.Set(JailKey(v), enc)
	return nil
}
