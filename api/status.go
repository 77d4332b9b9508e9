package api

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/idmesh/idmesh/credential/statuslist"
	"github.com/idmesh/idmesh/credential/tokenstatus"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/verifier"
)

// Problem types of the status endpoints.
const (
	ProblemRevocationFinal   = ProblemBase + "revocation-final"
	ProblemUnknownCredential = ProblemBase + "unknown-credential"
)

func init() {
	titles[ProblemRevocationFinal] = "Revocation is final"
	titles[ProblemUnknownCredential] = "This node issued no such credential with that status purpose"
}

func (s *Server) statusRoutes() []route {
	return []route{
		{http.MethodPost, "/credentials/status", "credential_status", s.private(s.handleSetStatus)},
		{http.MethodPost, "/issuers/{name}/{mechanism}/credentials/status", "credential_status_by", s.private(s.handleSetStatus)},
		{http.MethodGet, "/status-lists/{id}", "status_list", s.handleStatusList},
		{http.MethodGet, "/status-lists/{id}/token", "status_list_token", s.handleTokenStatusList},
		{http.MethodGet, "/1.0/identifiers/{did}/status-lists/{id}", "status_list_did_url", s.handleStatusList},
		{http.MethodGet, "/v1/proofs/status-lists/{id}", "status_list_proof", s.handleStatusListProof},
	}
}

// statusLists implements verifier.StatusLists over the node's state.
type statusLists struct{ s *Server }

func (l statusLists) StatusList(url string) ([]byte, uint64, error) {
	id, ok := registry.StatusListID(url)
	if !ok {
		return nil, 0, fmt.Errorf("not a status list of an idmesh chain (…%s{id}); it is not fetched", registry.StatusListPathSegment)
	}
	h := l.s.ledger.State().Height
	b, err := registry.StatusList(l.s.cfg.State, id)
	if errors.Is(err, registry.ErrNotFound) {
		return nil, h, fmt.Errorf("no status list %s on this chain at height %d", id, h)
	}
	return b, h, err
}

// Height implements verifier.ChainHeight: the lists are the chain's, and
// only its blocks change them.
func (l statusLists) Height() uint64 { return l.s.ledger.State().Height }

// tokenListSource implements verifier.TokenListSource over the node's
// state: a status_list.uri names a list by its path's tail
// (registry.TokenStatusListID), whichever node's URL it carries.
type tokenListSource struct{ s *Server }

func (l tokenListSource) TokenStatusList(uri string) ([]byte, uint64, error) {
	id, ok := registry.TokenStatusListID(uri)
	if !ok {
		return nil, 0, fmt.Errorf("not a token status list of an idmesh chain (…%s{id}%s); it is not fetched", registry.StatusListPathSegment, registry.TokenPathSuffix)
	}
	h := l.s.ledger.State().Height
	b, err := registry.TokenStatusList(l.s.cfg.State, id)
	if errors.Is(err, registry.ErrNotFound) {
		return nil, h, fmt.Errorf("no token status list %s on this chain at height %d", id, h)
	}
	return b, h, err
}

// TokenLists returns the node's checker of token status list entries:
// a verifier.TokenLists over the committed state and the verifier's key
// resolver, which implements verifier.TokenStatusChecker for the SD-JWT
// VC verification path; nil when the node keeps no state (Config.State).
func (s *Server) TokenLists() *verifier.TokenLists { return s.tokenLists }

func (s *Server) handleStatusList(w http.ResponseWriter, r *http.Request) {
	s.serveStatusList(w, r, unescapeDID(mux.Vars(r)["did"]), mux.Vars(r)["id"])
}

// serveStatusList answers a list from chain state; with a DID (the DID
// URL form), only a list of that DID.
func (s *Server) serveStatusList(w http.ResponseWriter, r *http.Request, d, id string) {
	if s.cfg.State == nil {
		writeProblem(w, r, http.StatusNotImplemented, ProblemNotConfigured, "this node serves no status lists")
		return
	}
	if d != "" && !strings.HasPrefix(id, registry.StatusListOwner(d)) {
		writeProblem(w, r, http.StatusNotFound, ProblemNotFound, fmt.Sprintf("%s has no status list %s", d, id))
		return
	}
	b, err := registry.StatusList(s.cfg.State, id)
	if errors.Is(err, registry.ErrNotFound) {
		writeProblem(w, r, http.StatusNotFound, ProblemNotFound, "no status list "+id)
		return
	}
	if err != nil {
		writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, "")
		return
	}
	ct := mediaJSON
	if strings.Contains(r.Header.Get("Accept"), "application/vc") {
		ct = "application/vc"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

// handleTokenStatusList serves the latest committed Status List Token
// of a list (IETF Token Status List), exactly the bytes its issuer
// signed, as application/statuslist+jwt.
func (s *Server) handleTokenStatusList(w http.ResponseWriter, r *http.Request) {
	if s.cfg.State == nil {
		writeProblem(w, r, http.StatusNotImplemented, ProblemNotConfigured, "this node serves no status lists")
		return
	}
	if r.URL.Query().Has("time") {
		// Historical resolution (the specification's ?time=): not kept,
		// and a client must not take the latest for it.
		writeProblem(w, r, http.StatusNotImplemented, ProblemNotConfigured, "historical resolution (?time=) is not offered: this node serves the latest token only")
		return
	}
	id := mux.Vars(r)["id"]
	b, err := registry.TokenStatusList(s.cfg.State, id)
	if errors.Is(err, registry.ErrNotFound) {
		writeProblem(w, r, http.StatusNotFound, ProblemNotFound, "no token status list "+id)
		return
	}
	if err != nil {
		writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, "")
		return
	}
	w.Header().Set("Content-Type", tokenstatus.MediaType)
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

// SetStatusRequest is the VC-API's status update.
type SetStatusRequest struct {
	CredentialID     string `json:"credentialId"`
	CredentialStatus struct {
		Type          string `json:"type"`
		StatusPurpose string `json:"statusPurpose"`
	} `json:"credentialStatus"`
	Status any `json:"status"`
}

// SetStatusResponse answers a committed status update.
type SetStatusResponse struct {
	CredentialID  string `json:"credentialId"`
	StatusPurpose string `json:"statusPurpose"`
	Status        bool   `json:"status"`
	Height        uint64 `json:"height"`
}

func (s *Server) handleSetStatus(w http.ResponseWriter, r *http.Request) {
	m, ok := s.readObject(w, r)
	if !ok {
		return
	}
	if s.cfg.Status == nil {
		writeProblem(w, r, http.StatusNotImplemented, ProblemNotConfigured, "this node keeps no issuers")
		return
	}
	id, _ := m["credentialId"].(string)
	cs, _ := m["credentialStatus"].(map[string]any)
	typ, _ := cs["type"].(string)
	purpose, _ := cs["statusPurpose"].(string)
	var status bool
	switch v := m["status"].(type) {
	case bool:
		status = v
	case string:
		status = v == "true" || v == "revoked" || v == "suspended"
		if !status && v != "false" {
			writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, "status must be true or false")
			return
		}
	default:
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, "status must be true or false")
		return
	}
	switch {
	case id == "":
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, "credentialId is required")
		return
	case typ != statuslist.TypeEntry:
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, "credentialStatus.type must be "+statuslist.TypeEntry)
		return
	case purpose != statuslist.PurposeRevocation && purpose != statuslist.PurposeSuspension:
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, "credentialStatus.statusPurpose must be revocation or suspension")
		return
	}
	h, err := s.cfg.Status.SetStatus(r.Context(), id, purpose, status)
	switch {
	case errors.Is(err, issuer.ErrRevocationFinal):
		writeProblem(w, r, http.StatusBadRequest, ProblemRevocationFinal, err.Error())
	case errors.Is(err, issuer.ErrSuperseded):
		writeProblem(w, r, http.StatusConflict, ProblemConflict, err.Error())
	case errors.Is(err, issuer.ErrUnknownCredential):
		writeProblem(w, r, http.StatusNotFound, ProblemUnknownCredential, err.Error())
	case err != nil:
		s.log.WarnContext(r.Context(), "status update", "credential", id, "err", err)
		writeProblem(w, r, http.StatusServiceUnavailable, ProblemUnavailable, err.Error())
	default:
		s.log.InfoContext(r.Context(), "status updated", "credential", id, "purpose", purpose, "status", status, "height", h)
		s.creds.statusChange(purpose, status)
		writeJSON(w, http.StatusOK, SetStatusResponse{CredentialID: id, StatusPurpose: purpose, Status: status, Height: h})
	}
}

// newCredentialID is a fresh urn:uuid (version 4) for a credential that
// needs an id to carry a status.
func newCredentialID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]), nil
}
