package registry

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"sort"
	"time"

	"github.com/idmesh/idmesh/registry/smt"
)

// Result codes. The set is append-only; clients may switch on them.
const (
	CodeOK           uint32 = 0
	CodeInvalid      uint32 = 1 // malformed, or breaks a rule of its type
	CodeUnauthorized uint32 = 2 // not signed by a key allowed to make it
	CodeConflict     uint32 = 3 // stale version, replay, or already exists
	CodeNotFound     uint32 = 4 // names something that does not exist
	CodeInternal     uint32 = 5 // the node failed, not the transaction
)

// TxError is a transaction's failure with the code it is recorded under.
type TxError struct {
	Code uint32
	Err  error
}

func (e *TxError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *TxError) Unwrap() error { return e.Err }

// Reject wraps err with a result code.
func Reject(code uint32, err error) error { return &TxError{Code: code, Err: err} }

// CodeOf returns the result code of a transaction error.
func CodeOf(err error) uint32 {
	if err == nil {
		return CodeOK
	}
	var te *TxError
	if errors.As(err, &te) {
		return te.Code
	}
	return CodeInvalid
}

// TxContext is what a handler may know of the block it runs in. Time is
// the block's time, never the wall clock.
type TxContext struct {
	ChainID string
	Height  uint64
	Time    time.Time
	TxHash  Hash
	// Validators is the set deciding this block.
	Validators *ValidatorSet
	// NextValidators is the set deciding the next block, already fixed;
	// nil means Validators.
	NextValidators *ValidatorSet
}

// Handler applies transactions of one type. DeliverTx must be
// deterministic: it reads and writes only st and uses only ctx for time.
// On error the machine discards whatever the handler wrote.
type Handler interface {
	DeliverTx(ctx TxContext, st *Overlay, payload []byte) error
}

// Admitter is a Handler with rules for new transactions only: Check (the
// mempool and the proposer) applies them, the execution of a block does
// not, so that blocks committed before a rule existed still execute. ctx
// is as for DeliverTx (ctx.TxHash is payload's transaction's hash).
type Admitter interface {
	Admit(ctx TxContext, payload []byte) error
}

// Checker is a Handler that can judge a transaction without building its
// writes, for a check whose writes are thrown away (Chain.CheckTx, the
// mempool's): CheckOnly must return the error DeliverTx would on the same
// state and read the same keys, so that nothing but the cost changes.
type Checker interface {
	CheckOnly(ctx TxContext, st *Overlay, payload []byte) error
}

// BlockPreparer is a Handler with work to do once per block before its
// transactions run, such as verifying all their signatures in one batch.
// Execute calls PrepareBlock with the state before the block and uses the
// handler it returns for that block's transactions; that handler must
// give every transaction the same result DeliverTx of the original would.
type BlockPreparer interface {
	PrepareBlock(ctx TxContext, r StateReader, txs []Tx) Handler
}

// CommitObserver is a Handler told, after a block is saved, of its
// transactions (all of them, of every type): a handler with caches of
// work for transactions in flight can drop what it kept for them. It must
// not change what any later call returns, only what it costs.
type CommitObserver interface {
	Committed(txs []Tx)
}

// Machine is the deterministic state machine: given the state after block
// H-1 and block H's transactions it computes every write, each
// transaction's result and the new state root. It has no clock,
// randomness or I/O of its own; it reads state through a StateReader.
type Machine struct {
	handlers map[TxType]Handler
	nodes    *nodeCache // state tree nodes, by hash
}

// committed tells the handlers that observe commits of a saved block's
// transactions.
func (m *Machine) committed(txs []Tx) {
	for _, h := range m.handlers {
		if o, ok := h.(CommitObserver); ok {
			o.Committed(txs)
		}
	}
}

// NewMachine returns a machine with the given handler per transaction type.
func NewMachine(handlers map[TxType]Handler) *Machine {
	m := &Machine{handlers: make(map[TxType]Handler, len(handlers)), nodes: newNodeCache()}
	for t, h := range handlers {
		m.handlers[t] = h
	}
	return m
}

// Execution is the outcome of executing a block's transactions.
type Execution struct {
	Results []Result
	Writes  []KV // sorted by key; each key once
	Nodes   []smt.Node
	// Stale are the tree nodes of the previous version that this one no
	// longer holds (smt.UpdateStale), journaled for pruning.
	Stale     []smt.Hash
	StateRoot Hash
}

// Execute runs txs in order on top of r, whose tree root is root.
func (m *Machine) Execute(r StateReader, root Hash, ctx TxContext, txs []Tx) (*Execution, error) {
	ov := NewOverlay(r)
	ex := &Execution{Results: make([]Result, len(txs))}
	handlers, cloned := m.handlers, false
	for typ, h := range m.handlers {
		if p, ok := h.(BlockPreparer); ok {
			if !cloned {
				handlers, cloned = maps.Clone(m.handlers), true
			}
			handlers[typ] = p.PrepareBlock(ctx, r, txs)
		}
	}
	for i, t := range txs {
		ctx.TxHash = t.Hash()
		if err := deliver(handlers, ctx, ov, t); err != nil {
			var fatal *fatalError
			if errors.As(err, &fatal) {
				return nil, fatal.err
			}
			ex.Results[i] = Result{Code: CodeOf(err), Log: err.Error()}
		}
	}
	if err := m.finish(r, root, ov, ex); err != nil {
		return nil, err
	}
	return ex, nil
}

// finish computes ex's writes, tree nodes and root from ov's writes.
func (m *Machine) finish(r StateReader, root Hash, ov *Overlay, ex *Execution) error {
	ex.Writes = ov.Writes()
	changes := make([]smt.Change, len(ex.Writes))
	for i, w := range ex.Writes {
		changes[i] = smt.Change{Key: smt.Hash(sha256.Sum256(w.Key))}
		if w.Value == nil {
			changes[i].Delete = true
		} else {
			changes[i].Value = smt.Hash(sha256.Sum256(w.Value))
		}
	}
	var nr smt.NodeReader = r
	if m.nodes != nil {
		nr = cachedNodes{r: r, c: m.nodes}
	}
	newRoot, nodes, stale, err := smt.UpdateStale(nr, smt.Hash(root), changes)
	if err != nil {
		return fmt.Errorf("update state tree: %w", err)
	}
	if m.nodes != nil {
		// The nodes the update made are cached already (cachedNodes.Made);
		// the ones it replaced leave the resident upper levels.
		m.nodes.unpin(stale)
	}
	ex.Nodes, ex.Stale, ex.StateRoot = nodes, stale, Hash(newRoot)
	return nil
}

// Check runs one transaction on top of ov without committing anything
// to the store, as the mempool and a block builder do. On success its
// writes stay in ov, so later checks see them.
func (m *Machine) Check(ctx TxContext, ov *Overlay, t Tx) error {
	return m.check(ctx, ov, t, false)
}

// checkDiscard is Check for a caller that throws ov away: a Checker
// handler judges t without building its writes, which ov does not get.
func (m *Machine) checkDiscard(ctx TxContext, ov *Overlay, t Tx) error {
	return m.check(ctx, ov, t, true)
}

func (m *Machine) check(ctx TxContext, ov *Overlay, t Tx, discard bool) error {
	ctx.TxHash = t.Hash()
	if a, ok := m.handlers[t.Type].(Admitter); ok {
		if err := a.Admit(ctx, t.Payload); err != nil {
			return err
		}
	}
	var err error
	if c, ok := m.handlers[t.Type].(Checker); ok && discard {
		err = checkOnly(c, ctx, ov, t)
	} else {
		err = deliver(m.handlers, ctx, ov, t)
	}
	var fatal *fatalError
	if errors.As(err, &fatal) {
		return fatal.err
	}
	return err
}

// fatalError is a failure of the node (a store read error), which must
// stop block execution rather than be recorded as the transaction's fault.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }

func deliver(handlers map[TxType]Handler, ctx TxContext, ov *Overlay, t Tx) (err error) {
	if err := t.ValidateBasic(); err != nil {
		return Reject(CodeInvalid, err)
	}
	h, ok := handlers[t.Type]
	if !ok {
		return Reject(CodeInvalid, fmt.Errorf("%w: %s", ErrUnknownTxType, t.Type))
	}
	child := NewOverlay(ov)
	if err := h.DeliverTx(ctx, child, t.Payload); err != nil {
		if child.readErr != nil {
			return &fatalError{err: child.readErr}
		}
		return err
	}
	if child.readErr != nil {
		return &fatalError{err: child.readErr}
	}
	child.mergeInto(ov)
	return nil
}

// checkOnly is deliver for a Checker whose writes are not wanted: the
// same basic validation and read-error handling, CheckOnly in place of
// DeliverTx, and nothing merged into ov.
func checkOnly(c Checker, ctx TxContext, ov *Overlay, t Tx) error {
	if err := t.ValidateBasic(); err != nil {
		return Reject(CodeInvalid, err)
	}
	child := NewOverlay(ov)
	err := c.CheckOnly(ctx, child, t.Payload)
	if child.readErr != nil {
		return &fatalError{err: child.readErr}
	}
	return err
}

// Overlay buffers writes over a StateReader. Reads see the overlay's own
// writes first. A read error other than not-found is remembered, and
// fails the block: a transaction must not be judged on a broken read.
type Overlay struct {
	parent  StateReader
	writes  map[string][]byte
	readErr error
}

var _ StateReader = (*Overlay)(nil)

// NewOverlay returns an empty overlay on r.
func NewOverlay(r StateReader) *Overlay {
	return &Overlay{parent: r, writes: make(map[string][]byte)}
}

// Get returns the value of key, or an error wrapping ErrNotFound.
func (o *Overlay) Get(key []byte) ([]byte, error) {
	if v, ok := o.writes[string(key)]; ok {
		if v == nil {
			return nil, fmt.Errorf("state key: %w", ErrNotFound)
		}
		return v, nil
	}
	v, err := o.parent.Get(key)
	if err != nil && !errors.Is(err, ErrNotFound) && o.readErr == nil {
		o.readErr = err
	}
	return v, err
}

// Node reads a tree node from the parent.
func (o *Overlay) Node(h smt.Hash) ([]byte, error) { return o.parent.Node(h) }

// Set writes value under key; a nil value deletes it.
func (o *Overlay) Set(key, value []byte) {
	if value != nil {
		value = bytes.Clone(value)
	}
	o.writes[string(key)] = value
}

func (o *Overlay) mergeInto(p *Overlay) {
	for k, v := range o.writes {
		p.writes[k] = v
	}
	if o.readErr != nil && p.readErr == nil {
		p.readErr = o.readErr
	}
}

// Writes returns the buffered writes sorted by key.
func (o *Overlay) Writes() []KV {
	kvs := make([]KV, 0, len(o.writes))
	for k, v := range o.writes {
		kvs = append(kvs, KV{Key: []byte(k), Value: v})
	}
	sort.Slice(kvs, func(i, j int) bool { return bytes.Compare(kvs[i].Key, kvs[j].Key) < 0 })
	return kvs
}
