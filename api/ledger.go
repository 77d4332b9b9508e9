package api

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/registry"
)

// SubmitResponse answers POST /v1/operations.
type SubmitResponse struct {
	Hash      registry.Hash `json:"hash"`
	DID       string        `json:"did"`
	VersionID string        `json:"versionId"`
	Status    node.TxState  `json:"status"`
	Height    uint64        `json:"height,omitempty"`
}

// OperationDecoder is a Ledger that decodes submitted operations through
// its node's cache (node.Node.DecodeOperation), so that the operation is
// decoded once per request, not again by the mempool's check. Its result
// must be idmesh.Decode's.
type OperationDecoder interface {
	DecodeOperation(b []byte) (*idmesh.Operation, error)
}

// decodeOperation decodes a submitted operation, through the ledger's
// cache when it has one.
func (s *Server) decodeOperation(b []byte) (*idmesh.Operation, error) {
	if d, ok := s.ledger.(OperationDecoder); ok {
		return d.DecodeOperation(b)
	}
	return idmesh.Decode(b)
}

// handleSubmitOperation serves POST /v1/operations: a signed did:idmesh
// operation in JSON. It answers 202 with the transaction hash once the
// operation passed its checks and is pending; with ?wait=DURATION it
// waits for the commit and answers 200 (or the rejection).
func (s *Server) handleSubmitOperation(w http.ResponseWriter, r *http.Request) {
	wait, err := s.waitFor(r)
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, err.Error())
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	if !json.Valid(body) {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidJSON, "the body is not a JSON document")
		return
	}
	op, err := s.decodeOperation(body)
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidOperation, err.Error())
		return
	}
	subject, err := op.SubjectDID()
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidOperation, err.Error())
		return
	}
	vid, _ := op.VersionID()
	tx, err := registry.DIDTx(op)
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidOperation, err.Error())
		return
	}
	h, err := s.ledger.Submit(tx)
	if err != nil {
		s.writeTxError(w, r, err)
		return
	}
	resp := SubmitResponse{Hash: h, DID: subject, VersionID: vid, Status: node.TxPending}
	if wait > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), wait)
		defer cancel()
		st, err := s.ledger.WaitStatus(ctx, h)
		if err != nil {
			writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, err.Error())
			return
		}
		if st.Status == node.TxRejected {
			writeProblemObject(w, r, problemForCode(st.Code, st.Reason))
			return
		}
		resp.Status, resp.Height = st.Status, st.Height
		if st.Status == node.TxCommitted {
			writeJSON(w, http.StatusOK, resp)
			return
		}
	}
	w.Header().Set("Location", "/v1/operations/"+h.String())
	writeJSON(w, http.StatusAccepted, resp)
}

func (s *Server) writeTxError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, node.ErrMempoolFull) {
		w.Header().Set("Retry-After", "1")
		writeProblem(w, r, http.StatusServiceUnavailable, ProblemUnavailable, err.Error())
		return
	}
	if !errors.Is(err, node.ErrRejected) {
		s.log.ErrorContext(r.Context(), "submit", "err", err)
		writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, "")
		return
	}
	p := problemForCode(registry.CodeOf(err), err.Error())
	if errors.Is(err, registry.ErrTxTooLargeForBlock) {
		// It could never be in a block of this chain (max_block_bytes).
		p.Type, p.Status = ProblemBodyTooLarge, http.StatusRequestEntityTooLarge
		p.Title = titles[p.Type]
	}
	writeProblemObject(w, r, p)
}

func problemForCode(code uint32, detail string) Problem {
	p := Problem{Code: code, Detail: detail}
	switch code {
	case registry.CodeUnauthorized:
		p.Type, p.Status = ProblemUnauthorizedOp, http.StatusForbidden
	case registry.CodeConflict:
		p.Type, p.Status = ProblemConflict, http.StatusConflict
	case registry.CodeNotFound:
		p.Type, p.Status = ProblemNotFound, http.StatusNotFound
	case registry.CodeInternal:
		p.Type, p.Status = ProblemInternal, http.StatusInternalServerError
	default:
		p.Type, p.Status = ProblemInvalidOperation, http.StatusBadRequest
	}
	p.Title = titles[p.Type]
	return p
}

// handleOperationStatus serves GET /v1/operations/{hash}[?wait=DURATION].
func (s *Server) handleOperationStatus(w http.ResponseWriter, r *http.Request) {
	h, err := registry.ParseHash(mux.Vars(r)["hash"])
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, err.Error())
		return
	}
	wait, err := s.waitFor(r)
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, err.Error())
		return
	}
	var st node.TxStatus
	if wait > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), wait)
		defer cancel()
		st, err = s.ledger.WaitStatus(ctx, h)
	} else {
		st, err = s.ledger.Status(h)
	}
	switch {
	case errors.Is(err, registry.ErrNotFound):
		writeProblem(w, r, http.StatusNotFound, ProblemNotFound, "this node knows no operation "+h.String())
	case err != nil:
		s.log.ErrorContext(r.Context(), "operation status", "err", err)
		writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, "")
	default:
		writeJSON(w, http.StatusOK, st)
	}
}

// BlockResponse answers GET /v1/blocks/{height}.
type BlockResponse struct {
	BlockID  registry.Hash    `json:"block_id"`
	Header   registry.Header  `json:"header"`
	TxHashes []registry.Hash  `json:"tx_hashes"`
	Txs      []TxView         `json:"txs"`
	Last     *registry.Commit `json:"last_commit,omitempty"`
	Commit   *registry.Commit `json:"commit,omitempty"`
}

// TxView shows a transaction in a block.
type TxView struct {
	Hash    registry.Hash   `json:"hash"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// DefaultMaxLargeReads is the default of Config.MaxLargeReads.
const DefaultMaxLargeReads = 4

// largeRead takes one of the MaxLargeReads slots for a large response and
// returns its release; when none is free it answers 503 with Retry-After
// itself and returns false. It does not wait: a client retries later.
func (s *Server) largeRead(w http.ResponseWriter, r *http.Request) (release func(), ok bool) {
	select {
	case s.largeReads <- struct{}{}:
		return func() { <-s.largeReads }, true
	default:
		w.Header().Set("Retry-After", "1")
		writeProblem(w, r, http.StatusServiceUnavailable, ProblemUnavailable,
			fmt.Sprintf("this node is serving %d large responses: try again later", cap(s.largeReads)))
		return nil, false
	}
}

// handleBlock serves GET /v1/blocks/{height}; "latest" names the tip. At
// most MaxLargeReads blocks (and proofs) are served at once, and the
// block is streamed: the response holds no copy of it beyond the one
// read from the store.
func (s *Server) handleBlock(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)["height"]
	var height uint64
	if v == "latest" {
		height = s.ledger.State().Height
	} else {
		var err error
		if height, err = strconv.ParseUint(v, 10, 64); err != nil || height == 0 {
			writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, "height must be a positive integer or \"latest\"")
			return
		}
	}
	release, ok := s.largeRead(w, r)
	if !ok {
		return
	}
	defer release()
	b, err := s.ledger.Block(height)
	if errors.Is(err, registry.ErrNotFound) {
		writeProblem(w, r, http.StatusNotFound, ProblemNotFound, "no block at height "+strconv.FormatUint(height, 10))
		return
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "read block", "height", height, "err", err)
		writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, "")
		return
	}
	c, err := s.ledger.Commit(height)
	if err != nil {
		c = nil
	}
	w.Header().Set("Content-Type", mediaJSON)
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	if err := writeBlock(bw, b, c); err != nil {
		s.log.DebugContext(r.Context(), "write block", "height", height, "err", err)
		return
	}
	_ = bw.Flush()
}

// writeBlock writes b and its commit c (nil if unknown) as a
// BlockResponse in JSON, followed by a newline, a part at a time: a
// transaction's payload, when it is JSON, is written as stored, and
// nothing is copied per transaction but its hash.
func writeBlock(w *bufio.Writer, b *registry.Block, c *registry.Commit) error {
	hashes := b.TxHashes()
	var err error
	raw := func(s string) {
		if err == nil {
			_, err = w.WriteString(s)
		}
	}
	value := func(v any) {
		if err != nil {
			return
		}
		var j []byte
		if j, err = json.Marshal(v); err == nil {
			_, err = w.Write(j)
		}
	}
	hash := func(h registry.Hash) {
		raw(`"`)
		if err == nil {
			var hx [2 * len(h)]byte
			hex.Encode(hx[:], h[:])
			_, err = w.Write(hx[:])
		}
		raw(`"`)
	}
	raw(`{"block_id":`)
	hash(b.ID())
	raw(`,"header":`)
	value(b.Header)
	raw(`,"tx_hashes":[`)
	for i, h := range hashes {
		if i > 0 {
			raw(",")
		}
		hash(h)
	}
	raw(`],"txs":`)
	if len(b.Txs) == 0 {
		raw("null") // as encoding/json writes BlockResponse's nil Txs
	} else {
		raw("[")
		for i, t := range b.Txs {
			if i > 0 {
				raw(",")
			}
			raw(`{"hash":`)
			hash(hashes[i])
			raw(`,"type":`)
			value(t.Type.String())
			raw(`,"payload":`)
			if json.Valid(t.Payload) {
				if err == nil {
					_, err = w.Write(t.Payload)
				}
			} else {
				raw("null")
			}
			raw("}")
		}
		raw("]")
	}
	if b.LastCommit != nil {
		raw(`,"last_commit":`)
		value(b.LastCommit)
	}
	if c != nil {
		raw(`,"commit":`)
		value(c)
	}
	raw("}\n")
	return err
}

// StatusResponse answers GET /v1/status.
type StatusResponse struct {
	ChainID       string           `json:"chain_id"`
	Height        uint64           `json:"height"`
	LastBlockHash registry.Hash    `json:"last_block_hash"`
	LastBlockTime string           `json:"last_block_time"`
	StateRoot     registry.Hash    `json:"state_root"`
	Validators    []ValidatorView  `json:"validators"`
	Syncing       bool             `json:"syncing"`
	Peers         []string         `json:"peers"`
	Version       string           `json:"version,omitempty"`
	LastCommit    *registry.Commit `json:"last_commit,omitempty"`
}

// ValidatorView shows a validator.
type ValidatorView struct {
	Address registry.Address `json:"address"`
	PubKey  []byte           `json:"pub_key"`
	Power   int64            `json:"power"`
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	st := s.ledger.State()
	resp := StatusResponse{
		ChainID: st.ChainID, Height: st.Height, LastBlockHash: st.LastBlockID,
		LastBlockTime: st.LastBlockTime.UTC().Format("2006-01-02T15:04:05.000Z"),
		StateRoot:     st.StateRoot, Peers: []string{}, Version: s.cfg.Version,
	}
	for _, v := range st.Validators.Validators {
		resp.Validators = append(resp.Validators, ValidatorView{Address: v.Address(), PubKey: v.PubKey, Power: v.Power})
	}
	if st.Height > 0 {
		if c, err := s.ledger.Commit(st.Height); err == nil {
			resp.LastCommit = c
		}
	}
	if nw := s.cfg.Network; nw != nil {
		resp.Peers, resp.Syncing = nw.Peers(), nw.Syncing()
	}
	writeJSON(w, http.StatusOK, resp)
}
