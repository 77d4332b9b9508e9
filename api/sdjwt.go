package api

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/schemas"
	"github.com/idmesh/idmesh/verifier"
)

// TokenStatusAllocator gives SD-JWT VCs their IETF Token Status List
// entries at issuance.
type TokenStatusAllocator interface {
	// TokenStatus allocates an entry for the credential credentialID
	// (the jti the SD-JWT VC carries) of iss, and returns the value of
	// its "status" claim: {"status_list": {"idx": N, "uri": "..."}}. An
	// error wrapping issuer.ErrDuplicateID reports an id that has an
	// entry already; an error carrying a credential.Code is the
	// request's fault (400), any other the node's (500).
	TokenStatus(ctx context.Context, iss issuer.Issuer, credentialID string) (map[string]any, error)
}

// sdJWTRoutes serve the SD-JWT VC type metadata.
func (s *Server) sdJWTRoutes() []route {
	return []route{
		{http.MethodGet, schemas.VCTPath + "{name}", "vct", s.handleVCT},
	}
}

// mechanisms are the issuers' securing mechanisms, each with a VC-API
// base: issuer.AllFormats and the SD-JWT VC.
func mechanisms() []string { return append(issuer.AllFormats(), issuer.FormatSDJWT) }

// issuerOfClaims is the issuer an SD-JWT VC claim set names: its iss.
func issuerOfClaims(claims map[string]any) (string, error) {
	if iss, ok := claims["iss"].(string); ok && iss != "" {
		return iss, nil
	}
	return "", errors.New("credential.iss must be the DID of an issuer on this node, or use /issuers/{name}/dc+sd-jwt/credentials/issue")
}

// issueSDJWT answers an issue request of the dc+sd-jwt mechanism:
// {"credential": CLAIMS, "options": {"holderKey": JWK, "disclosable":
// [pointers]}}, answered 201 with the SD-JWT VC enveloped.
func (s *Server) issueSDJWT(w http.ResponseWriter, r *http.Request, req, claims map[string]any, iss issuer.Issuer, signer credential.Signer) {
	fail := func(err error) {
		pd := verifier.Problem(err, credential.MalformedValueError)
		writeProblemObject(w, r, Problem{Type: pd.Type, Title: pd.Title, Status: http.StatusBadRequest, Detail: pd.Detail})
	}
	opts, err := sdJWTOptions(req)
	if err != nil {
		fail(err)
		return
	}
	opts.Now, opts.Random = s.now(), s.rand
	claims = maps.Clone(claims)
	var id string
	if s.cfg.TokenStatus != nil {
		switch jti := claims["jti"].(type) {
		case nil:
			if id, err = newCredentialID(); err != nil {
				s.log.ErrorContext(r.Context(), "credential id", "err", err)
				writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, "")
				return
			}
			claims["jti"] = id
		case string:
			id = jti
		}
		if id == "" {
			fail(credential.Errorf(credential.MalformedValueError, "jti must be a non-empty string"))
			return
		}
	}
	// Issued once without status first: a request that cannot be issued
	// takes no status entry.
	out, err := issuer.IssueSDJWT(claims, signer, opts)
	if err != nil {
		fail(err)
		return
	}
	if s.cfg.TokenStatus != nil {
		st, err := s.cfg.TokenStatus.TokenStatus(r.Context(), iss, id)
		switch {
		case errors.Is(err, issuer.ErrDuplicateID):
			fail(credential.Errorf(credential.MalformedValueError, "%v: jti must be unique", err))
			return
		case err != nil && credential.CodeOf(err, "") != "":
			fail(err)
			return
		case err != nil:
			s.log.ErrorContext(r.Context(), "token status", "issuer", iss.Name, "err", err)
			writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, "")
			return
		}
		opts.Status = st
		if out, err = issuer.IssueSDJWT(claims, signer, opts); err != nil {
			fail(err)
			return
		}
	}
	s.creds.issue(issuer.FormatSDJWT)
	writeJSON(w, http.StatusCreated, map[string]any{"verifiableCredential": jose.Envelope(out, sdjwt.MediaType)})
}

// sdJWTOptions reads options.holderKey (required) and
// options.disclosable of a dc+sd-jwt issue request.
func sdJWTOptions(req map[string]any) (issuer.SDJWTOptions, error) {
	var o issuer.SDJWTOptions
	opts, _ := req["options"].(map[string]any)
	jwk, ok := opts["holderKey"].(map[string]any)
	if !ok {
		return o, credential.Errorf(credential.MalformedValueError, "options.holderKey, the holder's public JWK (Ed25519 or P-256), is required: wallets present SD-JWT VCs with key binding")
	}
	k, err := issuer.ParseHolderKey(jwk)
	if err != nil {
		return o, err
	}
	o.HolderKey = k
	raw, present := opts["disclosable"]
	if !present {
		return o, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return o, credential.Errorf(credential.MalformedValueError, "options.disclosable must be an array of JSON pointers")
	}
	if len(list) > issuer.MaxDisclosable {
		return o, credential.Errorf(credential.LimitExceededError, "options.disclosable: %d pointers, at most %d", len(list), issuer.MaxDisclosable)
	}
	o.Disclosable = make([]string, 0, len(list))
	for _, p := range list {
		ps, ok := p.(string)
		if !ok {
			return o, credential.Errorf(credential.MalformedValueError, "options.disclosable must be an array of JSON pointers")
		}
		o.Disclosable = append(o.Disclosable, ps)
	}
	return o, nil
}

// publicBase is the node's public URL: Config.PublicURL, or the
// request's scheme and host.
func (s *Server) publicBase(r *http.Request) string {
	base := s.cfg.PublicURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return strings.TrimRight(base, "/")
}

// handleVCT serves the SD-JWT VC Type Metadata of a bundled schema at
// its vct, {public-url}/vct/{name}.
func (s *Server) handleVCT(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	md, ok := schemas.TypeMetadata(name, s.publicBase(r)+schemas.VCTPath+name)
	if !ok {
		writeProblem(w, r, http.StatusNotFound, ProblemNotFound, "no credential type "+name+": the types are "+strings.Join(schemas.Names(), ", "))
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, http.StatusOK, md)
}
