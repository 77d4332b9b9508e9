package registry

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/idmesh/idmesh/registry/smt"
)

// MaxTipReadBytes bounds the memory of a Chain's tip read cache: the
// keys, values and a fixed share per entry (tipReadEntryCost) of what
// it holds. A cache that is full keeps what it holds and reads the rest
// from the store; the next commit empties it.
const MaxTipReadBytes = 4 << 20

// MaxTipReadValue is the largest value the tip read cache keeps: larger
// ones (status lists) are read from the store every time.
const MaxTipReadValue = 4 << 10

// tipReadEntryCost is what one entry counts against MaxTipReadBytes
// besides its key, its value and the text of a kept error: the map
// entry, the string and slice headers, the error's own allocations and
// the allocations' rounding (measured: TestR8ATipReadsHoldWhatTheyCount).
const tipReadEntryCost = 160

// tipReads remembers the reads of the committed state made at one tip,
// values and absences alike, and the transactions found not committed
// there, so that the reads of one operation by the gossip gate
// (PrepareChecks), the mempool check (CheckTxReads), the proposal and
// the re-execution of its block go to the store once per block.
//
// A Chain makes a new one each time it commits a block, after the block
// is saved: everything a tipReads holds was read from the store after
// the commit of its tip, so for the goroutine that commits (Propose,
// Verify, Commit), which uses it only until it saves the next block, it
// holds exactly the state of its tip. A check on another goroutine that
// took it just before a commit may fill it with a value of the next
// state, as it would have read that value from the store: such a check
// sees its tip's state or a later one (ReadSet), as before.
//
// It is safe for concurrent use and bounded in bytes (MaxTipReadBytes).
type tipReads struct {
	// closed is set just before the block that ends this tip is saved:
	// from then on every read goes to the store and nothing is kept, so
	// that a check that starts once the store holds the next block reads
	// that block's state (review R8, L2).
	closed atomic.Bool

	mu    sync.Mutex
	vals  map[string]tipRead
	noTx  map[Hash]error // transactions not committed: the store's error
	bytes int            // counted against MaxTipReadBytes
}

// tipRead is one state read: the value, or the store's not-found error.
type tipRead struct {
	v   []byte
	err error
}

func newTipReads() *tipReads {
	return &tipReads{vals: make(map[string]tipRead), noTx: make(map[Hash]error)}
}

// room reports whether an entry of n bytes (besides its fixed cost)
// still fits; the caller holds t.mu.
func (t *tipReads) room(n int) bool {
	return t.bytes+n+tipReadEntryCost <= MaxTipReadBytes
}

// get returns what r.Get(key) returned at this tip, from the cache when
// it was read before. Only values (of at most MaxTipReadValue bytes) and
// absences are kept, never another error.
func (t *tipReads) get(r StateReader, key []byte) ([]byte, error) {
	if t.closed.Load() {
		return r.Get(key)
	}
	t.mu.Lock()
	e, hit := t.vals[string(key)]
	t.mu.Unlock()
	if hit {
		return e.v, e.err
	}
	v, err := r.Get(key)
	switch {
	case err == nil && len(v) <= MaxTipReadValue:
		e = tipRead{v: bytes.Clone(v)}
		if e.v == nil {
			e.v = []byte{}
		}
	case errors.Is(err, ErrNotFound):
		e = tipRead{err: err}
	default:
		return v, err
	}
	n := len(key) + len(e.v)
	if e.err != nil {
		n += len(e.err.Error())
	}
	t.mu.Lock()
	if _, dup := t.vals[string(key)]; !dup && !t.closed.Load() && t.room(n) {
		t.vals[string(key)] = e
		t.bytes += n + tipReadEntryCost
	}
	t.mu.Unlock()
	return v, err
}

// tx returns what s.Tx(h) returned at this tip, from the cache when h
// was found not committed before. Only absences are kept.
func (t *tipReads) tx(s Store, h Hash) (TxRecord, error) {
	if t.closed.Load() {
		return s.Tx(h)
	}
	t.mu.Lock()
	err, hit := t.noTx[h]
	t.mu.Unlock()
	if hit {
		return TxRecord{}, err
	}
	rec, err := s.Tx(h)
	if errors.Is(err, ErrNotFound) {
		n := len(h) + len(err.Error())
		t.mu.Lock()
		if _, dup := t.noTx[h]; !dup && !t.closed.Load() && t.room(n) {
			t.noTx[h] = err
			t.bytes += n + tipReadEntryCost
		}
		t.mu.Unlock()
	}
	return rec, err
}

// len returns the entries t holds and what they count against
// MaxTipReadBytes.
func (t *tipReads) len() (n, cost int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.vals) + len(t.noTx), t.bytes
}

// tipReader is a StateReader that reads state keys through a tipReads;
// tree nodes go to r.
type tipReader struct {
	r StateReader
	t *tipReads
}

func (r tipReader) Get(key []byte) ([]byte, error) { return r.t.get(r.r, key) }

func (r tipReader) Node(h smt.Hash) ([]byte, error) { return r.r.Node(h) }

// tip returns the chain's tip and a reader of its state through the tip
// read cache, both of one tip.
func (c *Chain) tip() (ChainState, StateReader) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.state, tipReader{r: c.store, t: c.reads}
}

// CommittedTx returns the record of transaction h if a committed block
// holds it (Store.Tx), or an error wrapping ErrNotFound. A transaction
// found not committed at the tip is not looked up in the store again
// before the next commit (the admission of a gossiped transaction asks
// twice: PrepareChecks, then the mempool).
func (c *Chain) CommittedTx(h Hash) (TxRecord, error) {
	c.mu.RLock()
	t := c.reads
	c.mu.RUnlock()
	return t.tx(c.store, h)
}

// TipReadStats returns the entries the tip read cache holds and what
// they count against MaxTipReadBytes (for tests and metrics).
func (c *Chain) TipReadStats() (entries, cost int) {
	c.mu.RLock()
	t := c.reads
	c.mu.RUnlock()
	return t.len()
}
