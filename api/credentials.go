package api

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/statuslist"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/keystore"
	"github.com/idmesh/idmesh/did/strictjson"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/verifier"
)

// Problem types of the credential endpoints.
const (
	ProblemInvalidCredential = ProblemBase + "invalid-credential"
	ProblemIssuerExists      = ProblemBase + "issuer-exists"
	ProblemUnknownIssuer     = ProblemBase + "unknown-issuer"
	ProblemNotConfigured     = ProblemBase + "not-configured"
	ProblemTooManyRequests   = ProblemBase + "too-many-requests"
)

func init() {
	titles[ProblemInvalidCredential] = "The credential cannot be issued"
	titles[ProblemIssuerExists] = "An issuer with this name exists"
	titles[ProblemUnknownIssuer] = "No such issuer on this node"
	titles[ProblemNotConfigured] = "This node does not offer the service"
	titles[ProblemTooManyRequests] = "Too many requests from this client"
}

// credentialRoutes are the issuer, verifier and challenge endpoints.
func (s *Server) credentialRoutes() []route {
	return []route{
		{http.MethodPost, "/v1/issuers", "issuer_create", s.private(s.handleCreateIssuer)},
		{http.MethodGet, "/v1/issuers", "issuer_list", s.private(s.handleListIssuers)},
		{http.MethodPost, "/credentials/issue", "credential_issue", s.private(s.handleIssue)},
		{http.MethodPost, "/issuers/{name}/{mechanism}/credentials/issue", "credential_issue_by", s.private(s.handleIssue)},
		{http.MethodPost, "/credentials/verify", "credential_verify", s.limitVerify(s.handleVerifyCredential)},
		{http.MethodPost, "/issuers/{name}/{mechanism}/credentials/verify", "credential_verify_by", s.limitVerify(s.handleVerifyCredential)},
		{http.MethodPost, "/presentations/verify", "presentation_verify", s.limitVerify(s.handleVerifyPresentation)},
		{http.MethodPost, "/issuers/{name}/{mechanism}/presentations/verify", "presentation_verify_by", s.limitVerify(s.handleVerifyPresentation)},
		{http.MethodPost, "/challenges", "challenge", s.limitRate(s.handleChallenge)},
		{http.MethodPost, "/issuers/{name}/{mechanism}/challenges", "challenge_by", s.limitRate(s.handleChallenge)},
	}
}

// readObject reads a bounded, strict JSON object body, answering itself
// on failure.
func (s *Server) readObject(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	return s.readObjectAs(w, r, false)
}

// readRequestObject is readObject for a body whose object does not
// outlive the request (a verification's): its strings are parts of one
// copy of the body (strictjson.ObjectString), not one copy each.
func (s *Server) readRequestObject(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	return s.readObjectAs(w, r, true)
}

func (s *Server) readObjectAs(w http.ResponseWriter, r *http.Request, shared bool) (map[string]any, bool) {
	body, ok := s.readBody(w, r)
	if !ok {
		return nil, false
	}
	if len(body) == 0 {
		return map[string]any{}, true
	}
	var m map[string]any
	var err error
	if shared {
		m, err = strictjson.ObjectString(string(body), int(s.cfg.MaxBodyBytes))
	} else {
		m, err = strictjson.Object(body, int(s.cfg.MaxBodyBytes))
	}
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidJSON, err.Error())
		return nil, false
	}
	return m, true
}

// IssuerResponse is the answer of POST /v1/issuers.
type IssuerResponse struct {
	issuer.Issuer
	Height uint64 `json:"height,omitempty"`
	// Endpoints are the issuer's VC-API bases, one per mechanism.
	Endpoints map[string]string `json:"endpoints"`
}

func endpoints(name string) map[string]string {
	out := map[string]string{}
	for _, f := range mechanisms() {
		out[f] = "/issuers/" + name + "/" + f
	}
	return out
}

// issuerBody reads the body of an issuer endpoint (a malformed one is
// refused first), answering 501 itself on a node that keeps no issuers.
func (s *Server) issuerBody(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	m, ok := s.readObject(w, r)
	if !ok {
		return nil, false
	}
	if s.issuers == nil {
		writeProblem(w, r, http.StatusNotImplemented, ProblemNotConfigured, "this node keeps no issuer keys")
		return nil, false
	}
	return m, true
}

func (s *Server) handleCreateIssuer(w http.ResponseWriter, r *http.Request) {
	m, ok := s.issuerBody(w, r)
	if !ok {
		return
	}
	name, _ := m["name"].(string)
	kt := keys.Ed25519
	if v, ok := m["keyType"].(string); ok {
		kt = keys.Type(v)
	}
	if kt != keys.Ed25519 && kt != keys.P256 {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, "keyType must be Ed25519 or P-256")
		return
	}
	iss, op, err := s.issuers.Create(name, kt, s.ledger.State().ChainID, s.rand, s.now())
	switch {
	case errors.Is(err, issuer.ErrInvalidName):
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, err.Error())
		return
	case errors.Is(err, issuer.ErrExists):
		writeProblem(w, r, http.StatusConflict, ProblemIssuerExists, err.Error())
		return
	case err != nil:
		s.log.ErrorContext(r.Context(), "create issuer", "err", err)
		writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, "")
		return
	}
	tx, err := registry.DIDTx(op)
	if err != nil {
		s.forget(r.Context(), iss)
		writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, "")
		return
	}
	h, out := s.commitOutcome(w, r, tx)
	switch out {
	case refused:
		// Nothing reached the chain: forget the key so the name can be reused.
		s.forget(r.Context(), iss)
		return
	case undecided:
		// It may still commit: keep the key; the issuer stays pending and
		// becomes live when its DID is found on the chain.
		return
	}
	if err := s.issuers.SetStatus(iss, issuer.StatusLive); err != nil {
		s.log.ErrorContext(r.Context(), "issuer status", "issuer", iss.Name, "err", err)
	}
	iss.Status = issuer.StatusLive
	s.log.InfoContext(r.Context(), "issuer registered", "name", iss.Name, "did", iss.DID, "height", h)
	w.Header().Set("Location", "/v1/issuers/"+iss.Name)
	writeJSON(w, http.StatusCreated, IssuerResponse{Issuer: iss, Height: h, Endpoints: endpoints(iss.Name)})
}

// liveIssuer marks a pending issuer live once its DID is on the chain
// (its registration outlived the request that made it).
func (s *Server) liveIssuer(ctx context.Context, iss issuer.Issuer) issuer.Issuer {
	if iss.Status != issuer.StatusPending {
		return iss
	}
	if _, err := s.resolver.Resolve(ctx, iss.DID, did.Options{}); err != nil {
		return iss
	}
	if err := s.issuers.SetStatus(iss, issuer.StatusLive); err != nil {
		s.log.ErrorContext(ctx, "issuer status", "issuer", iss.Name, "err", err)
		return iss
	}
	iss.Status = issuer.StatusLive
	return iss
}

// forget deletes an issuer whose DID did not reach the chain.
func (s *Server) forget(ctx context.Context, iss issuer.Issuer) {
	if err := s.issuers.Delete(iss); err != nil && !errors.Is(err, keystore.ErrNotFound) {
		s.log.ErrorContext(ctx, "forget issuer", "issuer", iss.Name, "err", err)
	}
}

func (s *Server) handleListIssuers(w http.ResponseWriter, r *http.Request) {
	out := []IssuerResponse{}
	if s.issuers != nil {
		for _, iss := range s.issuers.List() {
			out = append(out, IssuerResponse{Issuer: iss, Endpoints: endpoints(iss.Name)})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"issuers": out})
}

// IssueRequest is the VC-API's issue request.
type IssueRequest struct {
	Credential map[string]any `json:"credential"`
	Options    struct {
		// Format is our extension: vc+jwt, jwt_vc_json, dc+sd-jwt, or a
		// cryptosuite name.
		Format      string `json:"format"`
		Cryptosuite string `json:"cryptosuite"`
	} `json:"options"`
}

func (s *Server) handleIssue(w http.ResponseWriter, r *http.Request) {
	m, ok := s.issuerBody(w, r)
	if !ok {
		return
	}
	cred, _ := m["credential"].(map[string]any)
	if cred == nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidCredential, "credential must be a JSON object")
		return
	}
	format, err := issueFormat(m, mux.Vars(r)["mechanism"])
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, err.Error())
		return
	}
	// The issuer is the path's, or the credential's.
	who := mux.Vars(r)["name"]
	if who == "" && format == issuer.FormatSDJWT {
		who, err = issuerOfClaims(cred)
	} else if who == "" {
		who, err = issuerID(cred["issuer"])
	}
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidCredential, err.Error())
		return
	}
	iss, signer, ok := s.issuerSigner(w, r, who)
	if !ok {
		return
	}
	if format == issuer.FormatSDJWT {
		s.issueSDJWT(w, r, m, cred, iss, signer)
		return
	}
	now := s.now()
	cred = issuer.Defaults(cred, iss.DID, now)
	// A credential that breaks its own schema is not issued (checked
	// before any status entry is allocated for it); one whose schema the
	// node does not hold, or not of type JsonSchema, is (its verifiers
	// report the schema as not checked).
	c, err := credential.CredentialFrom(cred)
	if err == nil {
		err = s.verifier.CheckSchemas(c)
	}
	if err == nil {
		cred, err = s.withStatus(r.Context(), iss, cred, m)
	}
	// The object forms, or a compact token (jwt_vc_json) as a string.
	var vc any
	if err == nil {
		opts := issuer.Options{Format: format, Now: now}
		if slices.Contains(issuer.TokenFormats, format) {
			vc, err = issuer.IssueToken(r.Context(), cred, signer, opts)
		} else {
			vc, err = issuer.Issue(r.Context(), cred, signer, opts)
		}
	}
	if err != nil {
		pd := verifier.Problem(err, credential.MalformedValueError)
		writeProblemObject(w, r, Problem{Type: pd.Type, Title: pd.Title, Status: http.StatusBadRequest, Detail: pd.Detail})
		return
	}
	s.creds.issue(format)
	writeJSON(w, http.StatusCreated, map[string]any{"verifiableCredential": vc})
}

// withStatus gives a credential its status entries (revocation and
// suspension unless options.statusPurposes says otherwise), and an id
// if it has none, so that its status can be changed later.
func (s *Server) withStatus(ctx context.Context, iss issuer.Issuer, cred, req map[string]any) (map[string]any, error) {
	purposes, err := statusPurposes(req)
	if err != nil {
		return nil, err
	}
	if s.cfg.Status == nil || len(purposes) == 0 {
		return cred, nil
	}
	if _, has := cred["credentialStatus"]; has {
		return cred, nil // the caller manages its status itself
	}
	cred = maps.Clone(cred)
	id, _ := cred["id"].(string)
	if id == "" {
		if id, err = newCredentialID(); err != nil {
			return nil, err
		}
		cred["id"] = id
	}
	entries, err := s.cfg.Status.Entries(ctx, iss, id, purposes)
	if errors.Is(err, issuer.ErrDuplicateID) {
		return nil, credential.Errorf(credential.MalformedValueError, "%v: ids must be unique", err)
	}
	if err != nil {
		return nil, err
	}
	if len(entries) == 1 {
		cred["credentialStatus"] = entries[0]
	} else {
		cred["credentialStatus"] = entries
	}
	return cred, nil
}

// statusPurposes reads options.statusPurposes of an issue request: the
// default purposes when absent, else each purpose once, in the order first
// given (a repeated purpose would get the credential two entries of it).
func statusPurposes(req map[string]any) ([]string, error) {
	opts, _ := req["options"].(map[string]any)
	raw, ok := opts["statusPurposes"].([]any)
	if !ok {
		return issuer.Purposes, nil
	}
	var purposes []string
	for _, p := range raw {
		ps, ok := p.(string)
		if !ok || (ps != statuslist.PurposeRevocation && ps != statuslist.PurposeSuspension) {
			return nil, credential.Errorf(credential.MalformedValueError, "options.statusPurposes: use revocation and suspension")
		}
		if !slices.Contains(purposes, ps) {
			purposes = append(purposes, ps)
		}
	}
	return purposes, nil
}

// issueFormat picks the securing mechanism: the path's, else
// options.format, else options.cryptosuite, else the default.
func issueFormat(req map[string]any, mechanism string) (string, error) {
	opts, _ := req["options"].(map[string]any)
	format, _ := opts["format"].(string)
	suite, _ := opts["cryptosuite"].(string)
	switch {
	case mechanism != "" && (format != "" && format != mechanism || suite != "" && suite != mechanism):
		return "", fmt.Errorf("this endpoint issues %s only", mechanism)
	case mechanism != "":
		format = mechanism
	case format == "jwt" || format == "application/vc+jwt" || format == "vc+jwt":
		format = issuer.FormatJWT
	case format == "" || format == "ldp_vc" || format == "di":
		format = suite
	}
	if format == "" {
		format = issuer.FormatRDFC
	}
	if all := mechanisms(); !slices.Contains(all, format) {
		return "", fmt.Errorf("unknown format %q: use %v", format, all)
	}
	return format, nil
}

func issuerID(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case map[string]any:
		if id, ok := x["id"].(string); ok {
			return id, nil
		}
	}
	return "", errors.New("credential.issuer must be the DID of an issuer on this node")
}

// verifyOptions reads the VC-API verify options.
func verifyOptions(m map[string]any) (verifier.Options, error) {
	var o verifier.Options
	opts, _ := m["options"].(map[string]any)
	if raw, ok := opts["checks"].([]any); ok {
		for _, c := range raw {
			s, ok := c.(string)
			if !ok {
				return o, errors.New("options.checks must be strings")
			}
			o.Checks = append(o.Checks, s)
		}
	}
	o.Challenge, _ = opts["challenge"].(string)
	o.Domain, _ = opts["domain"].(string)
	o.HolderBinding, _ = opts["holderBinding"].(bool)
	return o, nil
}

func (s *Server) writeVerification(w http.ResponseWriter, res verifier.Result) {
	status := http.StatusOK
	if !res.Verified {
		status = http.StatusBadRequest
	}
	// The same bytes as writeJSON's (encoding/json's, and a newline),
	// appended without reflection into a pooled buffer.
	buf := resultBuffers.Get().(*[]byte)
	defer putResultBuffer(buf)
	b, err := res.AppendJSON((*buf)[:0])
	if err != nil {
		writeJSON(w, status, res) // its 500 problem
		return
	}
	*buf = append(b, '\n')
	w.Header().Set("Content-Type", mediaJSON)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(*buf)
}

// resultBuffers holds the buffers verification results are encoded
// into; one that grew beyond maxPooledResult is dropped, not kept.
var resultBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

const maxPooledResult = 256 << 10

func putResultBuffer(b *[]byte) {
	if cap(*b) <= maxPooledResult {
		resultBuffers.Put(b)
	}
}

func (s *Server) handleVerifyCredential(w http.ResponseWriter, r *http.Request) {
	s.verify(w, r, "credential", "verifiableCredential", s.verifier.VerifyCredential)
}

func (s *Server) handleVerifyPresentation(w http.ResponseWriter, r *http.Request) {
	s.verify(w, r, "presentation", "verifiablePresentation", s.verifier.VerifyPresentation)
}

// verify runs a VC-API verification of the body's member.
func (s *Server) verify(w http.ResponseWriter, r *http.Request, kind, member string, run func(context.Context, any, verifier.Options) verifier.Result) {
	m, ok := s.readRequestObject(w, r)
	if !ok {
		return
	}
	opts, err := verifyOptions(m)
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, err.Error())
		return
	}
	res := run(r.Context(), m[member], opts)
	problem := ""
	if len(res.ProblemDetails) > 0 {
		problem = res.ProblemDetails[0].Type
	}
	s.creds.verification(kind, res.Verified, problem)
	s.writeVerification(w, res)
}

func (s *Server) handleChallenge(w http.ResponseWriter, r *http.Request) {
	m, ok := s.readObject(w, r)
	if !ok {
		return
	}
	if s.verifier.Challenges == nil {
		writeProblem(w, r, http.StatusNotImplemented, ProblemNotConfigured, "this verifier issues no challenges")
		return
	}
	domain, _ := m["domain"].(string)
	ch, err := s.verifier.Challenges.IssueFor(challengeClient(s.limits.client(r)).String(), domain)
	var full *verifier.FullError
	switch {
	case errors.Is(err, verifier.ErrTooManyChallenges):
		w.Header().Set("Retry-After", "60")
		writeProblem(w, r, http.StatusTooManyRequests, ProblemTooManyRequests, err.Error())
		return
	case errors.Is(err, verifier.ErrDomainTooLong):
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, err.Error())
		return
	case errors.As(err, &full):
		w.Header().Set("Retry-After", strconv.Itoa(int(full.RetryAfter/time.Second)))
		writeProblem(w, r, http.StatusServiceUnavailable, ProblemUnavailable, verifier.ErrChallengesFull.Error())
		return
	case err != nil:
		s.log.ErrorContext(r.Context(), "issue challenge", "err", err)
		writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, "")
		return
	}
	writeJSON(w, http.StatusCreated, ch)
}

func defaultNow() time.Time { return time.Now() }

var defaultRand = rand.Reader

// challengeClient is who a challenge counts against: the client as the
// verification limits see it (behind a trusted proxy the forwarded
// address), an IPv6 client by its /48, which one site usually holds
// whole, so that a site's many /64s share one part of the store.
func challengeClient(a netip.Addr) netip.Addr {
	if a = a.Unmap(); a.Is6() {
		return netip.PrefixFrom(a, 48).Masked().Addr()
	}
	return a
}

// issuerSigner finds the live issuer who (a name or DID) of this node
// and its signer, or answers 404 (no such live issuer) or 500 (its key
// cannot be read) and reports false.
func (s *Server) issuerSigner(w http.ResponseWriter, r *http.Request, who string) (issuer.Issuer, credential.Signer, bool) {
	iss, err := s.issuers.Find(who)
	if err == nil {
		iss = s.liveIssuer(r.Context(), iss)
	}
	if err != nil || iss.Status != issuer.StatusLive {
		writeProblem(w, r, http.StatusNotFound, ProblemUnknownIssuer, fmt.Sprintf("%s is not an issuer on this node: register one with POST /v1/issuers", who))
		return issuer.Issuer{}, nil, false
	}
	signer, err := s.issuers.Signer(iss)
	if err != nil {
		s.log.ErrorContext(r.Context(), "issuer key", "issuer", iss.Name, "err", err)
		writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, "")
		return issuer.Issuer{}, nil, false
	}
	return iss, signer, true
}
