package api

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

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

// ProverAt is what the proof endpoints need to answer ?height=: a proof
// against the state root of a past header. registry.Chain.ProveKeyAt
// documents it; it fails with registry.ErrPruned for a pruned version.
type ProverAt interface {
	ProveKeyAt(key []byte, height uint64) (value []byte, valueHash *smt.Hash, proof smt.Proof, root registry.Hash, err error)
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
	// ValueHash is sent only with ?height=: the hex SHA-256 of the value
	// at that height, null if the key was absent. Value is then null
	// also when the node no longer holds that value (it changed since).
	ValueHash *string   `json:"value_hash,omitempty"`
	Proof     smt.Proof `json:"proof"`
}

// handleProof serves GET /v1/proofs/dids/{did}: the DID's record (its
// latest version with its document, version count, deactivation and
// count of rotated keys) with an inclusion or non-inclusion proof.
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
	at := r.URL.Query()["height"]
	// A proof at a past height reads and decodes that height's block:
	// each client's such proofs count against its request rate (the
	// verification limits' token bucket), so that one client cannot keep
	// the MaxLargeReads slots busy. Proofs of the tip do not.
	if at != nil && s.overRate(w, r, s.hasToken(r), s.limits.client(r)) {
		return
	}
	release, ok := s.largeRead(w, r)
	if !ok {
		return
	}
	defer release()
	var (
		value     []byte
		valueHash *smt.Hash
		proof     smt.Proof
		height    uint64
		root      registry.Hash
		err       error
	)
	if at == nil {
		value, proof, height, root, err = p.ProveKey(key)
	} else {
		pa, ok := s.ledger.(ProverAt)
		if !ok {
			writeProblem(w, r, http.StatusNotImplemented, ProblemUnavailable, "this node serves no proofs at past heights")
			return
		}
		if height, err = parseProofHeight(at); err != nil {
			writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, err.Error())
			return
		}
		value, valueHash, proof, root, err = pa.ProveKeyAt(key, height)
	}
	if err != nil {
		switch {
		case errors.Is(err, registry.ErrPruned):
			writeProblem(w, r, http.StatusGone, ProblemPruned, err.Error())
		case errors.Is(err, registry.ErrNotFound):
			writeProblem(w, r, http.StatusNotFound, ProblemNotFound, err.Error())
		default:
			s.log.ErrorContext(r.Context(), "prove", "err", err)
			writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, "")
		}
		return
	}
	resp := ProofResponse{Height: height, StateRoot: root, Key: base64.StdEncoding.EncodeToString(key), Proof: proof}
	if valueHash != nil {
		hx := valueHash.String()
		resp.ValueHash = &hx
	}
	w.Header().Set("Content-Type", mediaJSON)
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	if err := writeProof(bw, resp, value, at != nil); err != nil {
		s.log.DebugContext(r.Context(), "write proof", "err", err)
		return
	}
	_ = bw.Flush()
}

// writeProof writes resp with value (nil: null) as its Value, and a
// newline, as encoding/json would, but encodes the value in base64 on
// the way out rather than in a string and a buffer first. withHash
// writes value_hash, null if resp.ValueHash is nil.
func writeProof(w *bufio.Writer, resp ProofResponse, value []byte, withHash bool) error {
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
	if withHash {
		vh := []byte("null")
		if resp.ValueHash != nil {
			vh, _ = json.Marshal(*resp.ValueHash)
		}
		_, _ = w.WriteString(`,"value_hash":`)
		_, _ = w.Write(vh)
	}
	_, _ = w.WriteString(`,"proof":`)
	_, _ = w.Write(proof)
	_, err = w.WriteString("}\n")
	return err
}

// parseProofHeight parses the height query parameter: one decimal height,
// at most 20 digits.
func parseProofHeight(vals []string) (uint64, error) {
	if len(vals) != 1 {
		return 0, errors.New("height: give it once")
	}
	v := vals[0]
	if len(v) == 0 || len(v) > 20 || (len(v) > 1 && v[0] == '0') {
		return 0, fmt.Errorf("height %.24q: not a decimal height", v)
	}
	h, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("height %.24q: not a decimal height", v)
	}
	return h, nil
}
