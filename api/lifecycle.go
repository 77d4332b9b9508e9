package api

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/schema"
	"github.com/idmesh/idmesh/credential/tokenstatus"
	"github.com/idmesh/idmesh/did/strictjson"
	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/schemas"
	"github.com/idmesh/idmesh/verifier"
)

func (s *Server) lifecycleRoutes() []route {
	return []route{
		{http.MethodPost, "/v1/status-lists", "status_list_submit", s.handleSubmitStatusList},
		{http.MethodPost, "/v1/schemas", "schema_submit", s.handleSubmitSchema},
		{http.MethodGet, "/v1/schemas/{hash}", "schema", s.handleGetSchema},
		{http.MethodPost, "/v1/issuers/{name}/schemas", "issuer_schema", s.private(s.handleIssuerSchema)},
		{http.MethodPost, "/v1/trust", "trust_change", s.private(s.handleTrust)},
		{http.MethodGet, "/v1/trust/{did}", "trust", s.handleGetTrust},
	}
}

// commit submits a transaction and waits for its commit, answering the
// request itself on failure.
func (s *Server) commit(w http.ResponseWriter, r *http.Request, t registry.Tx) (uint64, bool) {
	h, out := s.commitOutcome(w, r, t)
	return h, out == committed
}

// outcome is what became of a submitted transaction.
type outcome int

const (
	committed outcome = iota
	// refused: the transaction is not and will not be on the chain.
	refused
	// undecided: not committed in time, but it may still be.
	undecided
)

// commitOutcome is commit, telling a refused transaction from one that
// may still commit.
func (s *Server) commitOutcome(w http.ResponseWriter, r *http.Request, t registry.Tx) (uint64, outcome) {
	if err := t.ValidateBasic(); err != nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidOperation, err.Error())
		return 0, refused
	}
	h, err := s.ledger.Submit(t)
	if err != nil {
		s.writeTxError(w, r, err)
		return 0, refused
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.MaxWait)
	defer cancel()
	st, err := s.ledger.WaitStatus(ctx, h)
	switch {
	case err != nil:
		writeProblem(w, r, http.StatusServiceUnavailable, ProblemUnavailable, "not committed in time: "+err.Error())
		return 0, undecided
	case st.Status == node.TxRejected:
		writeProblemObject(w, r, problemForCode(st.Code, st.Reason))
		return 0, refused
	case st.Status != node.TxCommitted:
		writeProblem(w, r, http.StatusServiceUnavailable, ProblemUnavailable, "not committed in time: the issuer stays pending and becomes live once its DID is committed")
		return 0, undecided
	}
	return st.Height, committed
}

// handleSubmitStatusList publishes an issuer-signed status list version:
// for issuers that keep their keys themselves. The chain checks it.
// A body of Content-Type application/statuslist+jwt is a Status List
// Token (IETF Token Status List), published as a TxTokenStatusList.
func (s *Server) handleSubmitStatusList(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == tokenstatus.MediaType {
		s.submitTokenStatusList(w, r)
		return
	}
	m, ok := s.readObject(w, r)
	if !ok {
		return
	}
	b, _ := json.Marshal(m)
	h, ok := s.commit(w, r, registry.Tx{Type: registry.TxStatusList, Payload: b})
	if !ok {
		return
	}
	id, _ := m["id"].(string)
	list, _ := registry.StatusListID(id)
	writeJSON(w, http.StatusCreated, map[string]any{"list": list, "height": h})
}

// submitTokenStatusList publishes a Status List Token signed elsewhere;
// the chain checks it (registry.TokenStatusListHandler).
func (s *Server) submitTokenStatusList(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	tok := strings.TrimSpace(string(body))
	u, err := tokenstatus.Parse(tok, tokenstatus.Limits{MaxTokenBytes: registry.MaxTxBytes - 16})
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, "status list token: "+err.Error())
		return
	}
	claims, err := u.Claims(tokenstatus.Limits{MaxListBytes: registry.MaxStatusListBits / 8})
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, "status list token: "+err.Error())
		return
	}
	h, ok := s.commit(w, r, registry.Tx{Type: registry.TxTokenStatusList, Payload: []byte(tok)})
	if !ok {
		return
	}
	list, _ := registry.TokenStatusListID(claims.Subject)
	writeJSON(w, http.StatusCreated, map[string]any{"list": list, "height": h})
}

// SchemaResponse answers a registered schema.
type SchemaResponse struct {
	Hash   string `json:"hash"`
	ID     string `json:"id"`
	Height uint64 `json:"height"`
}

func (s *Server) schemaURL(r *http.Request, hash string) string {
	return s.publicBase(r) + "/v1/schemas/" + hash
}

// handleSubmitSchema registers a schema signed by its registrant.
func (s *Server) handleSubmitSchema(w http.ResponseWriter, r *http.Request) {
	m, ok := s.readObject(w, r)
	if !ok {
		return
	}
	s.registerSchema(w, r, m)
}

func (s *Server) registerSchema(w http.ResponseWriter, r *http.Request, reg map[string]any) {
	doc, _ := reg["schema"].(map[string]any)
	raw, _ := json.Marshal(doc)
	// A schema that does not compile would fail every credential that
	// names it: refuse it here (the chain stores what it is given).
	if _, err := s.schemas.Compile(raw); err != nil {
		pd := verifier.Problem(err, credential.MalformedValueError)
		writeProblemObject(w, r, Problem{Type: pd.Type, Title: pd.Title, Status: http.StatusBadRequest, Detail: pd.Detail})
		return
	}
	hash, err := schema.Hash(raw)
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, err.Error())
		return
	}
	b, _ := json.Marshal(reg)
	h, ok := s.commit(w, r, registry.Tx{Type: registry.TxSchema, Payload: b})
	if !ok {
		return
	}
	writeJSON(w, http.StatusCreated, SchemaResponse{Hash: hash, ID: s.schemaURL(r, hash), Height: h})
}

// handleIssuerSchema registers a schema in the name of one of the node's
// issuers, signed with its key.
func (s *Server) handleIssuerSchema(w http.ResponseWriter, r *http.Request) {
	doc, ok := s.issuerBody(w, r)
	if !ok {
		return
	}
	iss, err := s.issuers.Find(mux.Vars(r)["name"])
	if err != nil {
		writeProblem(w, r, http.StatusNotFound, ProblemUnknownIssuer, err.Error())
		return
	}
	signer, err := s.issuers.Signer(iss)
	if err != nil {
		writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, "")
		return
	}
	reg, err := dataintegrity.Sign(r.Context(), map[string]any{"schema": doc, "registrant": iss.DID}, signer,
		dataintegrity.SignOptions{Cryptosuite: dataintegrity.CryptosuiteJCS, Created: s.now()})
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, err.Error())
		return
	}
	s.registerSchema(w, r, reg)
}

func (s *Server) handleGetSchema(w http.ResponseWriter, r *http.Request) {
	rec, err := registry.Schema(s.cfg.State, mux.Vars(r)["hash"])
	if errors.Is(err, registry.ErrNotFound) {
		writeProblem(w, r, http.StatusNotFound, ProblemNotFound, "no schema "+mux.Vars(r)["hash"])
		return
	}
	if err != nil {
		writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, "")
		return
	}
	w.Header().Set("Content-Type", "application/schema+json")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	_, _ = w.Write(rec.Schema)
}

// schemaSource serves the verifier the schemas a credentialSchema id
// names: registered on this chain (…/v1/schemas/{hash}, any host: the hash
// is what counts), or bundled (schemas/, by $id). Nothing is fetched.
type schemaSource struct{ s *Server }

func (src schemaSource) Schema(id string) ([]byte, error) {
	if i := strings.LastIndex(id, "/v1/schemas/"); i >= 0 && src.s.cfg.State != nil {
		rec, err := registry.Schema(src.s.cfg.State, id[i+len("/v1/schemas/"):])
		if errors.Is(err, registry.ErrNotFound) {
			return nil, fmt.Errorf("%w: %s is not registered on this chain", verifier.ErrUnknownSchema, id)
		}
		if err != nil {
			return nil, fmt.Errorf("read schema %s: %w", id, err)
		}
		return rec.Schema, nil
	}
	if b, ok := schemas.ByID(id); ok {
		return b, nil
	}
	return nil, fmt.Errorf("%w: %s (nothing is fetched)", verifier.ErrUnknownSchema, id)
}

// trusted serves the verifier the chain's accreditations.
type trusted struct{ s *Server }

func (t trusted) TrustedTypes(issuer string) ([]string, error) {
	rec, err := registry.Trust(t.s.cfg.State, issuer)
	if errors.Is(err, registry.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return rec.Types, nil
}

// TrustRequest asks for an accreditation change, or carries one that
// other validators signed.
type TrustRequest struct {
	Action string                `json:"action"`
	Issuer string                `json:"issuer"`
	Types  []string              `json:"types"`
	Change *registry.TrustChange `json:"change,omitempty"`
}

// handleTrust adds this validator's signature to a trust change and
// commits it once validators with more than two thirds of the power have
// signed (in idmesh dev, at once); otherwise it answers 202 with the
// change, for the next validator.
func (s *Server) handleTrust(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	// Repeated members first: encoding/json would keep the last one.
	if err := strictjson.CheckDuplicates(body); err != nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidJSON, err.Error())
		return
	}
	var req TrustRequest
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidJSON, err.Error())
		return
	}
	state := s.ledger.State()
	c := req.Change
	if c == nil {
		seq, err := registry.TrustSequence(s.cfg.State)
		if err != nil {
			writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, "")
			return
		}
		c = &registry.TrustChange{ChainID: state.ChainID, Sequence: seq, Action: req.Action, Issuer: req.Issuer, Types: req.Types}
	}
	if err := c.Validate(); err != nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, err.Error())
		return
	}
	if s.cfg.ValidatorKey != nil {
		addr := registry.AddressOf(s.cfg.ValidatorKey.Public().(ed25519.PublicKey))
		if !slices.ContainsFunc(c.Signatures, func(cs registry.CommitSig) bool { return cs.Validator == addr }) {
			if err := c.Sign(s.cfg.ValidatorKey); err != nil {
				writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, "")
				return
			}
		}
	}
	if err := c.CheckQuorum(state.Validators); err != nil {
		writeJSON(w, http.StatusAccepted, map[string]any{"change": c, "detail": err.Error() + "; pass the change to the next validator"})
		return
	}
	t, err := c.Tx()
	if err != nil {
		writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, "")
		return
	}
	h, ok := s.commit(w, r, t)
	if !ok {
		return
	}
	rec, _ := registry.Trust(s.cfg.State, c.Issuer)
	writeJSON(w, http.StatusCreated, map[string]any{"trust": rec, "height": h})
}

func (s *Server) handleGetTrust(w http.ResponseWriter, r *http.Request) {
	d := unescapeDID(mux.Vars(r)["did"])
	rec, err := registry.Trust(s.cfg.State, d)
	if errors.Is(err, registry.ErrNotFound) {
		writeProblem(w, r, http.StatusNotFound, ProblemNotFound, d+" is accredited for nothing")
		return
	}
	if err != nil {
		writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, "")
		return
	}
	writeJSON(w, http.StatusOK, rec)
}
