package consensus

import "fmt"

// Defaults of the future-height buffer's per-validator bounds.
const (
	// DefaultMaxFuturePerValidator bounds the messages kept for later
	// heights from one validator: its proposals and votes for up to 64
	// rounds ahead at the next height fit.
	DefaultMaxFuturePerValidator = 256
	// DefaultMaxFutureBytesPerValidator bounds their bytes: two maximal
	// proposals (7 MiB blocks) fit.
	DefaultMaxFutureBytesPerValidator = 16 << 20
)

// futureMsg is a message kept for a later height, with what it is
// charged to.
type futureMsg[B Block] struct {
	m     Message[B]
	owner Address // its signer; zero for a decided block
	key   Hash    // its identity for deduplication
	size  int
}

// futureBuf holds messages for heights after the current one (and for
// the current one while the engine waits for Advance after a decision:
// the decision moved it to the next height, which has not started), in
// arrival order, so that replay is deterministic. Only messages whose signatures verify against the
// validator set of their height are kept; each signer (and decided
// blocks, together) gets at most maxPer entries and maxBytes bytes, a
// message is kept once, and the whole buffer holds at most maxTotal.
type futureBuf[B Block] struct {
	msgs  []futureMsg[B]
	count map[Address]int
	bytes map[Address]int
	seen  map[Hash]bool

	// sched is the proposer schedule of the validator set whose hash is
	// schedOf: the set of the next height, in practice, which the buffer
	// asks for again and again. Computing a schedule costs the set's
	// total power times its size, so it is computed once per set.
	sched   schedule
	schedOf Hash
}

// reset empties the buffer and returns what it held.
func (f *futureBuf[B]) reset() []Message[B] {
	out := make([]Message[B], len(f.msgs))
	for i, fm := range f.msgs {
		out[i] = fm.m
	}
	*f = futureBuf[B]{sched: f.sched, schedOf: f.schedOf}
	return out
}

// len returns the number of messages held.
func (f *futureBuf[B]) len() int { return len(f.msgs) }

// keepFuture buffers m, a message for height h after the current one (or
// for the current one, not started yet), if its signature verifies
// against the validator set of h (asked of the App, which knows the set
// of the height after a decision as it knows later ones: e.vals is still
// the decided height's) and its signer's share has room. It returns an error
// for a message that fails verification; a message whose validator set
// is unknown, a duplicate, or one over the bounds is dropped silently.
func (e *Engine[B]) keepFuture(m Message[B], h uint64) error {
	f := &e.future
	if f.len() >= e.cfg.MaxFuture {
		return nil
	}
	vs, err := e.cfg.App.Validators(h)
	if err != nil || vs == nil {
		// Not verifiable now: dropped. The sender rebroadcasts, and a
		// node behind asks for what it lacks.
		return nil
	}
	fm := futureMsg[B]{m: m, size: messageBytes(m)}
	var signBytes, sig []byte
	switch {
	case m.Vote != nil:
		fm.owner, sig, signBytes = m.Vote.Validator, m.Vote.Signature, m.Vote.SignBytes(e.cfg.ChainID)
	case m.Proposal != nil:
		p := m.Proposal
		if want := f.proposer(e, vs, h, p.Round); p.Proposer != want {
			return fmt.Errorf("%w: %s is not the proposer of %d/%d", ErrInvalidMessage, p.Proposer, h, p.Round)
		}
		fm.owner, sig, signBytes = p.Proposer, p.Signature, p.SignBytes(e.cfg.ChainID)
	}
	switch {
	case sig != nil:
		val, ok := vs.ByAddress(fm.owner)
		if !ok {
			return fmt.Errorf("%w: %s at height %d", ErrNotValidator, fm.owner, h)
		}
		fm.key = Sum(sig)
		if f.seen[fm.key] || !f.room(e, vs, fm) {
			return nil
		}
		if !e.cfg.Verify(val.PubKey, signBytes, sig) {
			return fmt.Errorf("%w: message of height %d by %s", ErrBadSignature, h, fm.owner)
		}
	case m.Decided != nil:
		id := m.Decided.Block.ID()
		fm.key = Sum(append([]byte("decided\x00"), id[:]...))
		if f.seen[fm.key] || !f.room(e, vs, fm) {
			return nil
		}
		if err := VerifyCommitWith(e.cfg.Verify, e.cfg.ChainID, vs, h, id, m.Decided.Commit); err != nil {
			return fmt.Errorf("%w: decided block: %w", ErrInvalidMessage, err)
		}
	default:
		return nil
	}
	if f.seen == nil {
		f.count, f.bytes, f.seen = make(map[Address]int), make(map[Address]int), make(map[Hash]bool)
	}
	f.seen[fm.key] = true
	f.count[fm.owner]++
	f.bytes[fm.owner] += fm.size
	f.msgs = append(f.msgs, fm)
	return nil
}

// proposer returns the proposer of height h, round r under vs, the
// validator set of h: only that validator's proposal can ever be
// accepted, so only its proposal is worth a place in the buffer.
func (f *futureBuf[B]) proposer(e *Engine[B], vs *ValidatorSet, h uint64, r int32) Address {
	if vs == e.vals {
		return e.sched.proposer(h, r)
	}
	if hash := vs.Hash(); f.sched == nil || hash != f.schedOf {
		f.sched, f.schedOf = newSchedule(vs), hash
	}
	return f.sched.proposer(h, r)
}

// room reports whether fm's signer has room left for it, before its
// signature is checked: a signer over its share costs no verification.
// A signer's share of messages is MaxFuturePerValidator, or its fair part
// of MaxFuture if that is smaller (n validators of vs): so that the f
// Byzantine validators of a large set cannot fill the whole buffer.
func (f *futureBuf[B]) room(e *Engine[B], vs *ValidatorSet, fm futureMsg[B]) bool {
	share := min(e.cfg.MaxFuturePerValidator, max(1, e.cfg.MaxFuture/max(1, len(vs.Validators))))
	return f.count[fm.owner]+1 <= share && f.bytes[fm.owner]+fm.size <= e.cfg.MaxFutureBytesPerValidator
}

// sizer is a block that knows its encoded size (registry.Block does).
type sizer interface{ Size() int }

// messageBytes estimates what m takes in memory and on the wire: a fixed
// part for heights, rounds, addresses and a signature, plus a block's
// Size if its type has one, plus a commit's signatures.
func messageBytes[B Block](m Message[B]) int {
	const fixed = 160
	blockBytes := func(b B) int {
		if s, ok := any(b).(sizer); ok {
			return s.Size()
		}
		return 0
	}
	switch {
	case m.Proposal != nil:
		return fixed + blockBytes(m.Proposal.Block)
	case m.Decided != nil:
		n := fixed + blockBytes(m.Decided.Block)
		if c := m.Decided.Commit; c != nil {
			for _, s := range c.Signatures {
				n += len(s.Validator) + len(s.Signature) + 8
			}
		}
		return n
	}
	return fixed
}
