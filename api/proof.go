package api

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/smt"
)

// Prover is what the proof endpoint needs: a read of a state key with a
// proof against the state root of a committed header.
type Prover interface {
	// ProveKey returns the value of key (nil if absent), a proof of it
	// against the state root of the header at the returned height.
	ProveKey(key []byte) (value []byte, proof smt.Proof, height uint64, root registry.Hash, err error)
}

// ProofResponse answers GET /v1/proofs/dids/{did}. A light client checks
// proof against state_root, which the header at height carries (GET
// /v1/blocks/{height} gives the header and the validators' commit):
// sha256(key) is the tree key, sha256(value) the leaf value, and a null
// value is a proof that the DID does not exist.
type ProofResponse struct {
	Height    uint64        `json:"height"`
	StateRoot registry.Hash `json:"state_root"`
	Key       string        `json:"key"`   // base64 of the state key
	Value     *string       `json:"value"` // base64 of the value, null if absent
	Proof     smt.Proof     `json:"proof"`
}

// handleProof serves GET /v1/proofs/dids/{did}: the DID's record (its
// latest versionId, version count, deactivation and rotated keys) with
// an inclusion or non-inclusion proof.
func (s *Server) handleProof(w http.ResponseWriter, r *http.Request) {
	d := mux.Vars(r)["did"]
	if err := idmesh.ValidateDID(d); err != nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, err.Error())
		return
	}
	s.prove(w, r, idmesh.RecordKey(d))
}

// handleStatusListProof serves GET /v1/proofs/status-lists/{id}: the
// list's latest version (the signed list credential, as /status-lists/{id}
// serves it) with a proof against a header's state root, so that a light
// client need not trust the node for a credential's status either.
func (s *Server) handleStatusListProof(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if _, ok := registry.StatusListID(registry.StatusListPathSegment + id); !ok {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, "not a status list id: "+id)
		return
	}
	s.prove(w, r, registry.StatusListKey(id))
}

// prove answers a state key's value with its proof. Values can be
// large: at most MaxLargeReads proofs (and blocks) are served at once.
func (s *Server) prove(w http.ResponseWriter, r *http.Request, key []byte) {
	p, ok := s.ledger.(Prover)
	if !ok {
		writeProblem(w, r, http.StatusNotImplemented, ProblemUnavailable, "this node serves no proofs")
		return
	}
	release, ok := s.largeRead(w, r)
	if !ok {
		return
	}
	defer release()
	value, proof, height, root, err := p.ProveKey(key)
	if err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			writeProblem(w, r, http.StatusNotFound, ProblemNotFound, err.Error())
			return
		}
		s.log.ErrorContext(r.Context(), "prove", "err", err)
		writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, "")
		return
	}
	w.Header().Set("Content-Type", mediaJSON)
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	if err := writeProof(bw, ProofResponse{Height: height, StateRoot: root, Key: base64.StdEncoding.EncodeToString(key), Proof: proof}, value); err != nil {
		s.log.DebugContext(r.Context(), "write proof", "err", err)
		return
	}
	_ = bw.Flush()
}

// writeProof writes resp with value (nil: null) as its Value, and a
// newline, as encoding/json would, but encodes the value in base64 on
// the way out rather than in a string and a buffer first.
func writeProof(w *bufio.Writer, resp ProofResponse, value []byte) error {
	head, err := json.Marshal(struct {
		Height    uint64        `json:"height"`
		StateRoot registry.Hash `json:"state_root"`
		Key       string        `json:"key"`
	}{resp.Height, resp.StateRoot, resp.Key})
	if err != nil {
		return err
	}
	proof, err := json.Marshal(resp.Proof)
	if err != nil {
		return err
	}
	_, _ = w.Write(head[:len(head)-1]) // without its '}'
	if value == nil {
		_, _ = w.WriteString(`,"value":null`)
	} else {
		_, _ = w.WriteString(`,"value":"`)
		enc := base64.NewEncoder(base64.StdEncoding, w)
		_, _ = enc.Write(value)
		_ = enc.Close()
		_ = w.WriteByte('"')
	}
	_, _ = w.WriteString(`,"proof":`)
	_, _ = w.Write(proof)
	_, err = w.WriteString("}\n")
	return err
}
