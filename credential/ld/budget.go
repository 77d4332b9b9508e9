package ld

import (
	"sync"

	"github.com/idmesh/idmesh/credential"
)

// Budget is JSON-LD work shared by several [Canonicalize] calls, so that
// the work of one request (a presentation and every credential it
// carries) is bounded as a whole, not per document: each call's bounds
// on quads and values, blank nodes, node-map comparisons and N-degree
// hashing steps are at most what remains of the budget, and what the
// call spent (or would have spent past the bound) is taken from it. Once
// a budget is spent, Canonicalize refuses every further document before
// any JSON-LD work (LimitExceededError wrapping [ErrTooMuchWork]). A
// Budget is safe for concurrent use.
type Budget struct {
	mu                                      sync.Mutex
	quads, blanks, work, nodeMapWork, bytes int // remaining
	used                                    Spent
}

// DefaultMaxCanonicalBytes bounds the canonical bytes that the documents
// sharing a [Budget] may produce in all (see [Budget.TakeBytes]): 1 MiB,
// four times the largest request body, so that an honest presentation
// canonicalized once for its own proof and once per credential fits,
// while proof chains that canonicalize one document again for each of
// their proofs do not multiply the work.
const DefaultMaxCanonicalBytes = 1 << 20

// Spent is the work taken from a [Budget].
type Spent struct {
	// Documents is the number of Canonicalize calls that used the budget.
	Documents int
	// Quads counts the values and list items of expanded documents (each
	// makes at least one quad), BlankNodes the blank nodes canonicalized,
	// NodeMapWork the comparisons of node map generation, Work the steps
	// of the N-degree hashing, Bytes the canonical bytes produced by
	// canonicalizations that take no JSON-LD work (JCS).
	Quads, BlankNodes, NodeMapWork, Work, Bytes int
}

// NewBudget returns a budget of one document's bounds as opts gives them
// (zero fields: the package defaults, as [Canonicalize] uses them).
func NewBudget(opts Options) *Budget {
	lim := opts.limits()
	return &Budget{quads: lim.quads, blanks: lim.blanks, work: lim.work, nodeMapWork: lim.nodeMapWork, bytes: DefaultMaxCanonicalBytes}
}

// TakeBytes charges n canonical bytes to b (a canonicalization that does
// no JSON-LD work, such as JCS); an error once b's bytes are spent
// (LimitExceededError wrapping [ErrTooMuchWork]). A nil Budget takes
// anything.
func (b *Budget) TakeBytes(n int) error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.bytes -= n
	b.used.Bytes += n
	if b.bytes < 0 {
		return errTooManyBytes()
	}
	return nil
}

// CheckBytes returns TakeBytes's error if b's bytes are spent already,
// so that a caller refuses before it canonicalizes anything.
func (b *Budget) CheckBytes() error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bytes <= 0 {
		return errTooManyBytes()
	}
	return nil
}

func errTooManyBytes() error {
	return credential.Errorf(credential.LimitExceededError, "%w: more than %d canonical bytes in one request", ErrTooMuchWork, DefaultMaxCanonicalBytes)
}

// Spent returns the work taken from b so far.
func (b *Budget) Spent() Spent {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// clamp lowers lim to what remains of b; false when b is spent.
func (b *Budget) clamp(lim *bounds) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used.Documents++
	if b.quads <= 0 || b.blanks <= 0 || b.work <= 0 || b.nodeMapWork <= 0 {
		return false
	}
	lim.quads, lim.blanks = min(lim.quads, b.quads), min(lim.blanks, b.blanks)
	lim.work, lim.nodeMapWork = min(lim.work, b.work), min(lim.nodeMapWork, b.nodeMapWork)
	return true
}

// take charges a call's work to b.
func (b *Budget) take(s Spent) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.takeLocked(s)
}

// takeLocked is take with b.mu held.
func (b *Budget) takeLocked(s Spent) {
	b.quads -= s.Quads
	b.blanks -= s.BlankNodes
	b.work -= s.Work
	b.nodeMapWork -= s.NodeMapWork
	b.used.Quads += s.Quads
	b.used.BlankNodes += s.BlankNodes
	b.used.Work += s.Work
	b.used.NodeMapWork += s.NodeMapWork
}

// takeIfCovers charges s to b as a Canonicalize call that spent it
// would (one more document), if b's remains cover s within lim (the
// bounds of the call's options, which Canonicalize clamps to b); false,
// charging nothing, when they do not (Canonicalize then decides).
func (b *Budget) takeIfCovers(s Spent, lim bounds) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.quads <= 0 || b.blanks <= 0 || b.work <= 0 || b.nodeMapWork <= 0 ||
		s.Quads > min(lim.quads, b.quads) || s.BlankNodes > min(lim.blanks, b.blanks) ||
		s.Work > min(lim.work, b.work) || s.NodeMapWork > min(lim.nodeMapWork, b.nodeMapWork) {
		return false
	}
	// The check and the charge under one lock, so that two callers
	// cannot both pass the check and overdraw b.
	b.used.Documents++
	b.takeLocked(s)
	return true
}
