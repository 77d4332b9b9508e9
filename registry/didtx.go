package registry

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/idmesh/idmesh/did/idmesh"
)

// DIDHandler applies did:idmesh operations (TxDIDOperation).
type DIDHandler struct {
	// Sigs caches verified signatures across the mempool check, the
	// proposal and the commit; nil verifies every time.
	Sigs *idmesh.SigCache
	// Ops caches decoded operations the same way; nil decodes every time.
	Ops *idmesh.OpCache
	// Rand supplies the coefficients of batch signature verification
	// (PrepareBlock, Chain.PrepareChecks); nil means crypto/rand. A batch
	// is sound only if whoever signed its signatures cannot predict the
	// coefficients: with a reader they can foresee, a forged signature
	// can pass a batch and enter Sigs. So it must stay nil (or be another
	// unpredictable source) outside tests; never a seeded reader.
	Rand io.Reader
}

var (
	_ Handler        = DIDHandler{}
	_ BlockPreparer  = DIDHandler{}
	_ Checker        = DIDHandler{}
	_ CommitObserver = DIDHandler{}
)

// PrepareBlock decodes the block's operations once and verifies their
// Ed25519 signatures in ZIP-215 batches (idmesh.ExpectedSignatures,
// SigCache.VerifyBatchParallel) before they run; signatures the node
// verified already (its mempool fills Sigs) are not verified again. The
// decoding and the batches run on every core (GOMAXPROCS): they only fill
// caches, which never change a result; the state is read on this
// goroutine only. The handler it returns finds the valid ones in its
// cache; a signature the batch did not cover, or found invalid, is
// verified (and refused) by Apply as before, so no result changes.
// Without caches of its own the handler gets caches for this block.
func (h DIDHandler) PrepareBlock(ctx TxContext, r StateReader, txs []Tx) Handler {
	var payloads [][]byte
	var keys [][32]byte
	for _, t := range txs {
		if t.Type == TxDIDOperation {
			payloads = append(payloads, t.Payload)
			keys = append(keys, t.Hash())
		}
	}
	if len(payloads) == 0 {
		return h
	}
	if h.Ops == nil {
		h.Ops = idmesh.NewOpCache(len(payloads))
	}
	if h.Sigs == nil {
		h.Sigs = idmesh.NewSigCache(len(payloads) * idmesh.MaxProofs)
	}
	workers := runtime.GOMAXPROCS(0)
	rd := ReaderOf(r)
	var checks []idmesh.SignatureCheck
	for _, op := range h.Ops.DecodeAll(keys, payloads, workers) {
		if op != nil {
			checks = append(checks, idmesh.ExpectedSignatures(rd, ctx.ChainID, op)...)
		}
	}
	h.Sigs.VerifyBatchParallel(checks, h.Rand, workers)
	return h
}

// decode decodes payload through the handler's cache, keyed by its
// transaction's hash (ctx.TxHash, which the machine sets for payload):
// the payload is not hashed again; without that hash it is. The cache
// answers only for the bytes it decoded, so a wrong hash costs a
// decoding, never another operation; in test binaries it panics, as the
// bug it is.
func (h DIDHandler) decode(ctx TxContext, payload []byte) (*idmesh.Operation, error) {
	key := ctx.TxHash
	if key == (Hash{}) {
		key = Tx{Type: TxDIDOperation, Payload: payload}.Hash()
	} else if verifyTxMemo {
		if want := (Tx{Type: TxDIDOperation, Payload: payload}).Hash(); key != want {
			panic(fmt.Sprintf("registry: transaction hash %s for a payload whose hash is %s", key, want))
		}
	}
	return h.Ops.DecodeKeyed(key, payload)
}

// Committed drops the committed operations from the handler's cache of
// decoded operations (idmesh.OpCache.Forget): a node keeps the ones in
// flight rather than the last OpCache entries committed, tens of
// megabytes a node at 20,000.
func (h DIDHandler) Committed(txs []Tx) {
	if h.Ops == nil {
		return
	}
	for _, t := range txs {
		if t.Type == TxDIDOperation {
			h.Ops.Forget(t.Hash())
		}
	}
}

// DeliverTx decodes and applies one operation.
func (h DIDHandler) DeliverTx(ctx TxContext, st *Overlay, payload []byte) error {
	op, err := h.decode(ctx, payload)
	if err != nil {
		return Reject(CodeInvalid, err)
	}
	return didResult(idmesh.Apply(KVOf(st), h.env(ctx), op))
}

// CheckOnly decodes one operation and judges it as DeliverTx would
// (idmesh.Check: the same checks and reads, the same result), without
// building the records DeliverTx writes; st gets no writes.
func (h DIDHandler) CheckOnly(ctx TxContext, st *Overlay, payload []byte) error {
	op, err := h.decode(ctx, payload)
	if err != nil {
		return Reject(CodeInvalid, err)
	}
	return didResult(idmesh.Check(ReaderOf(st), h.env(ctx), op))
}

func (h DIDHandler) env(ctx TxContext) idmesh.Env {
	return idmesh.Env{ChainID: ctx.ChainID, Height: ctx.Height, Time: ctx.Time, Sigs: h.Sigs}
}

// DecodeSubmitted decodes an operation a client submitted through the
// handler's cache (idmesh.OpCache.DecodeSubmitted), so that the check of
// its transaction does not decode it again.
func (h DIDHandler) DecodeSubmitted(b []byte) (*idmesh.Operation, error) {
	return h.Ops.DecodeSubmittedKeyed(Tx{Type: TxDIDOperation, Payload: b}.Hash(), b)
}

// DecodeOperation decodes an operation a client submitted, as the check
// of its transaction will (idmesh.Decode), through the cache of the
// chain's DID handler (DIDHandler.DecodeSubmitted): when b is the
// operation's canonical encoding, the payload of its transaction, that
// check finds it decoded. Without such a handler it decodes every time.
func (c *Chain) DecodeOperation(b []byte) (*idmesh.Operation, error) {
	if h, ok := c.m.handlers[TxDIDOperation].(DIDHandler); ok {
		return h.DecodeSubmitted(b)
	}
	return idmesh.Decode(b)
}

// OperationDecodes returns the number of did:idmesh operations the
// chain's DID handler decoded (idmesh.OpCache.Decodes): what its cache
// could not answer. 0 without a cache.
func (c *Chain) OperationDecodes() uint64 {
	if h, ok := c.m.handlers[TxDIDOperation].(DIDHandler); ok {
		return h.Ops.Decodes()
	}
	return 0
}

// MaxPrepareChecks bounds the transactions PrepareChecks looks at in one
// call; the rest are simply checked one by one.
const MaxPrepareChecks = 256

// MaxPrepareSignatures bounds the signatures PrepareChecks verifies in
// batches in one call: four chunks of 64. The operations whose
// signatures would pass it are checked one by one.
const MaxPrepareSignatures = 256

// PrepareChecks readies the checks of transactions that are about to be
// checked one by one (CheckTx, CheckTxReads), as a node does with those
// its peers gossip in bursts: the did:idmesh operations among them are
// decoded into the DID handler's cache, and the Ed25519 signatures their
// proofs name are verified in ZIP-215 batches into its signature cache
// (idmesh.SigCache.VerifyBatchUntrusted), about half the work of one by
// one.
//
// It decides nothing. A batch accepts exactly what single ZIP-215
// checks accept and the cache keeps only the signatures of chunks that
// verified, so every check gives the result it gives without this call;
// a signature the batch did not cover, or a chunk that failed, is
// verified alone by the check, as before.
//
// Its cost is bounded for whoever gossips. Only the signatures of
// operations that pass the cheap rules the check applies before it
// verifies any (idmesh.AdmissionSignatures on the committed state: a
// create of a DID that does not exist, a change of a live DID at its
// current version, controllers that exist) and carry at most
// idmesh.MaxAdmissionProofs proofs are batched, so an operation the
// check refuses costs at most what an accepted one of its size costs;
// transactions committed already (replays) and those that could never
// fit in a block are left out. At most MaxPrepareChecks transactions are
// looked at and MaxPrepareSignatures signatures verified; signatures
// whose encodings cannot verify are left to the checks, and after one
// chunk fails no further chunk is batched, so a burst wastes at most one
// chunk's multi-scalar multiplication (about half a verification for
// each of 64 signatures). A single signature is verified alone, into the
// cache either way (idmesh.SigCache keeps failures too), so that a
// caller batching submissions (node.Node.Submit) does the verification
// while it holds the others back, which makes their batch.
// Without a DID handler with both caches it does nothing.
func (c *Chain) PrepareChecks(txs []Tx) {
	h, ok := c.m.handlers[TxDIDOperation].(DIDHandler)
	if !ok || h.Sigs == nil || h.Ops == nil {
		return
	}
	st, r := c.tip()
	rd := ReaderOf(r)
	limit := c.MaxTxBytes()
	var checks []idmesh.SignatureCheck
	for _, t := range txs[:min(len(txs), MaxPrepareChecks)] {
		if len(checks) >= MaxPrepareSignatures {
			break
		}
		if t.Type != TxDIDOperation || t.Size() > limit {
			continue
		}
		if _, err := c.CommittedTx(t.Hash()); err == nil {
			continue
		}
		op, err := h.Ops.DecodeKeyed(t.Hash(), t.Payload)
		if err != nil {
			continue
		}
		sigs := idmesh.AdmissionSignatures(rd, st.ChainID, op)
		checks = append(checks, sigs[:min(len(sigs), MaxPrepareSignatures-len(checks))]...)
	}
	switch len(checks) {
	case 0:
	case 1: // a batch of one costs more than a single verification
		h.Sigs.Verify(checks[0].Pub, checks[0].Msg, checks[0].Sig)
	default:
		h.Sigs.VerifyBatchUntrusted(checks, h.Rand)
	}
}

// didResult maps an error of idmesh.Apply or idmesh.Check to its result
// code.
func didResult(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, idmesh.ErrUnauthorized):
		return Reject(CodeUnauthorized, err)
	case errors.Is(err, idmesh.ErrConflict), errors.Is(err, idmesh.ErrDeactivated):
		return Reject(CodeConflict, err)
	case errors.Is(err, idmesh.ErrNotFound):
		return Reject(CodeNotFound, err)
	case errors.Is(err, idmesh.ErrInvalidOperation):
		return Reject(CodeInvalid, err)
	}
	return Reject(CodeInternal, err)
}

// Admit refuses an operation whose payload is not its canonical form
// (RFC 8785, proof references to the operation's own DID relative), so
// that one operation enters the mempool and a block under one hash.
// DeliverTx accepts both, as blocks committed before this rule may hold
// other spellings.
func (h DIDHandler) Admit(ctx TxContext, payload []byte) error {
	op, err := h.decode(ctx, payload)
	if err != nil {
		return Reject(CodeInvalid, err)
	}
	canon, err := op.Encode()
	if err != nil {
		return Reject(CodeInvalid, err)
	}
	if !bytes.Equal(canon, payload) {
		return Reject(CodeInvalid, fmt.Errorf("%w: the payload is not the operation's canonical form (RFC 8785, proof references to its own DID as #fragment)", idmesh.ErrInvalidOperation))
	}
	return nil
}

// DIDTx wraps an operation as a transaction with its canonical payload.
func DIDTx(op *idmesh.Operation) (Tx, error) {
	b, err := op.Encode()
	if err != nil {
		return Tx{}, err
	}
	t := Tx{Type: TxDIDOperation, Payload: b}
	if err := t.ValidateBasic(); err != nil {
		return Tx{}, fmt.Errorf("did operation: %w", err)
	}
	return t, nil
}

// NewMachineDefault returns the machine with every transaction type this
// release knows.
func NewMachineDefault() *Machine {
	return NewMachine(map[TxType]Handler{
		TxDIDOperation:    DIDHandler{Sigs: idmesh.NewSigCache(100_000), Ops: idmesh.NewOpCache(20_000)},
		TxValidatorSet:    ValidatorSetHandler{},
		TxEvidence:        EvidenceHandler{},
		TxStatusList:      StatusListHandler{},
		TxSchema:          SchemaHandler{},
		TxTrust:           TrustHandler{},
		TxTokenStatusList: TokenStatusListHandler{},
	})
}

// kv adapts a StateReader (and an Overlay for writes) to the ok-style
// interface of the method packages.
type kv struct {
	r StateReader
	o *Overlay
}

// KVOf returns st as an idmesh.KV.
func KVOf(st *Overlay) idmesh.KV { return kv{r: st, o: st} }

// ReaderOf returns r as an idmesh.Reader.
func ReaderOf(r StateReader) idmesh.Reader { return kv{r: r} }

func (a kv) Get(key []byte) ([]byte, bool, error) {
	v, err := a.r.Get(key)
	if errors.Is(err, ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

func (a kv) Set(key, value []byte) { a.o.Set(key, value) }
