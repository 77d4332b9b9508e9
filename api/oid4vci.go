package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/schemas"
)

// OpenID4VCI paths.
const (
	IssuerMetadataPath     = "/.well-known/openid-credential-issuer"
	AuthServerMetadataPath = "/.well-known/oauth-authorization-server"
	TokenPath              = "/token"
	NoncePath              = "/nonce"
	CredentialPath         = "/credential"
	CredentialOffersPath   = "/credential-offers/"
)

// Credential configuration formats and the generic configuration.
const (
	FormatLDPVC = "ldp_vc"
	// GenericConfiguration is the ID of the generic dc+sd-jwt
	// configuration: any flat claims, all selectively disclosable.
	GenericConfiguration = "generic_sd_jwt"
	// GenericVCT is the vct of the generic configuration's credentials.
	GenericVCT = "urn:idmesh:vct:generic"
)

// Problem types of the offer endpoint.
const (
	ProblemUnknownConfiguration = ProblemBase + "unknown-credential-configuration"
)

func init() {
	titles[ProblemUnknownConfiguration] = "No such credential configuration"
}

// reservedClaims are the claim names an offer may not set: the issuer
// sets them (or the holder's key does), or they are SD-JWT's own.
var reservedClaims = []string{"iss", "sub", "aud", "iat", "nbf", "exp", "jti", "cnf", "status", "vct", "id", "_sd", "_sd_alg", "..."}

// vciConfig is a credential configuration.
type vciConfig struct {
	id, format  string
	schema      string // the schema's name; "" for the generic one
	typ         string // the credential type, e.g. UniversityDegreeCredential
	title, desc string
}

var (
	vciConfigsOnce sync.Once
	vciConfigsByID map[string]vciConfig
)

// vciConfigs returns the credential configurations: per schema one of
// each format (dc+sd-jwt, jwt_vc_json, ldp_vc), and the generic one.
func vciConfigs() map[string]vciConfig {
	vciConfigsOnce.Do(func() {
		out := map[string]vciConfig{GenericConfiguration: {id: GenericConfiguration, format: issuer.FormatSDJWT,
			title: "Generic credential", desc: "Any flat claims, each selectively disclosable."}}
		for _, name := range schemas.Names() {
			raw, _ := schemas.Get(name)
			var s struct {
				Title       string `json:"title"`
				Description string `json:"description"`
				Properties  struct {
					Type struct {
						AllOf []struct {
							Contains struct {
								Const string `json:"const"`
							} `json:"contains"`
						} `json:"allOf"`
					} `json:"type"`
				} `json:"properties"`
			}
			if err := json.Unmarshal(raw, &s); err != nil {
				panic(fmt.Sprintf("api: schema %s: %v", name, err)) // the bundled schemas are tested
			}
			typ := ""
			for _, c := range s.Properties.Type.AllOf {
				if c.Contains.Const != "" && c.Contains.Const != credential.TypeCredential {
					typ = c.Contains.Const
				}
			}
			if typ == "" {
				continue
			}
			for _, f := range []struct{ suffix, format string }{{"_sd_jwt", issuer.FormatSDJWT}, {"_jwt_vc_json", issuer.FormatJWTVC}, {"_ldp_vc", FormatLDPVC}} {
				id := name + f.suffix
				out[id] = vciConfig{id: id, format: f.format, schema: name, typ: typ, title: s.Title, desc: s.Description}
			}
		}
		vciConfigsByID = out
	})
	return vciConfigsByID
}

// vciConfigIDs returns the configuration IDs, sorted.
func vciConfigIDs() []string { return slices.Sorted(maps.Keys(vciConfigs())) }

// metadata is the configuration's entry in credential_configurations_supported.
func (c vciConfig) metadata(base string) map[string]any {
	algs := []string{"EdDSA", "ES256"}
	m := map[string]any{
		"format":                c.format,
		"proof_types_supported": map[string]any{"jwt": map[string]any{"proof_signing_alg_values_supported": algs}},
		"credential_metadata":   map[string]any{"display": []any{map[string]any{"name": c.title, "locale": "en", "description": c.desc}}},
		"scope":                 c.id,
		"credential_signing_alg_values_supported": algs,
	}
	switch c.format {
	case issuer.FormatSDJWT:
		m["cryptographic_binding_methods_supported"] = []string{"jwk", "did:key", "did:jwk"}
		if c.schema == "" {
			m["vct"] = GenericVCT
		} else {
			m["vct"] = base + schemas.VCTPath + c.schema
		}
	case issuer.FormatJWTVC:
		// W3C VCs name their holder by DID: credentialSubject.id.
		m["cryptographic_binding_methods_supported"] = []string{"did:key", "did:jwk"}
		m["credential_definition"] = map[string]any{"type": []string{credential.TypeCredential, c.typ}}
	case FormatLDPVC:
		m["cryptographic_binding_methods_supported"] = []string{"did:key", "did:jwk"}
		m["credential_signing_alg_values_supported"] = []string{issuer.FormatRDFC}
		m["credential_definition"] = map[string]any{"@context": c.contexts(), "type": []string{credential.TypeCredential, c.typ}}
	}
	return m
}

// contexts are the @context of the configuration's W3C credentials.
func (c vciConfig) contexts() []any {
	if c.format == issuer.FormatJWTVC {
		return []any{credential.ContextV1, exampleContext}
	}
	return []any{credential.ContextV2, exampleContext}
}

// exampleContext defines the schemas' claims (by @vocab).
const exampleContext = "https://www.w3.org/ns/credentials/examples/v2"

// oid4vciRoutes are the OpenID4VCI issuer endpoints.
func (s *Server) oid4vciRoutes() []route {
	return []route{
		{http.MethodGet, IssuerMetadataPath, "oid4vci_issuer_metadata", s.handleIssuerMetadata},
		{http.MethodGet, AuthServerMetadataPath, "oid4vci_as_metadata", s.handleAuthServerMetadata},
		{http.MethodPost, "/issuers/{name}/offers", "oid4vci_offer_create", s.private(s.handleCreateOffer)},
		{http.MethodGet, CredentialOffersPath + "{id}", "oid4vci_offer", s.limitRate(s.handleOffer)},
		{http.MethodPost, TokenPath, "oid4vci_token", s.limitRate(s.handleToken)},
		{http.MethodPost, NoncePath, "oid4vci_nonce", s.limitRate(s.handleNonce)},
		{http.MethodPost, CredentialPath, "oid4vci_credential", s.limitRate(s.handleCredential)},
	}
}

// handleIssuerMetadata serves the Credential Issuer metadata (OpenID4VCI
// section 12.2): the identifier is the node's public URL.
func (s *Server) handleIssuerMetadata(w http.ResponseWriter, r *http.Request) {
	base := s.publicBase(r)
	cfgs := map[string]any{}
	for id, c := range vciConfigs() {
		cfgs[id] = c.metadata(base)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"credential_issuer":                   base,
		"credential_endpoint":                 base + CredentialPath,
		"nonce_endpoint":                      base + NoncePath,
		"display":                             []any{map[string]any{"name": "idmesh issuer at " + strings.TrimPrefix(strings.TrimPrefix(base, "https://"), "http://"), "locale": "en"}},
		"credential_configurations_supported": cfgs,
	})
}

// handleAuthServerMetadata serves the OAuth 2.0 Authorization Server
// metadata (RFC 8414) of the pre-authorized code flow: the issuer is its
// own authorization server.
func (s *Server) handleAuthServerMetadata(w http.ResponseWriter, r *http.Request) {
	base := s.publicBase(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                          base,
		"token_endpoint":                                  base + TokenPath,
		"grant_types_supported":                           []string{GrantPreAuthorizedCode},
		"token_endpoint_auth_methods_supported":           []string{"none"},
		"response_types_supported":                        []string{},
		"pre-authorized_grant_anonymous_access_supported": true,
	})
}

// OfferResponse is the answer of POST /issuers/{name}/offers.
type OfferResponse struct {
	// URI is the offer URI for the wallet (openid-credential-offer://?...).
	URI string `json:"uri"`
	// CredentialOfferURI is where the offer is served by reference.
	CredentialOfferURI string    `json:"credential_offer_uri"`
	ExpiresAt          time.Time `json:"expires_at"`
	// TxCode is the transaction code the holder must give, when set.
	TxCode string `json:"tx_code,omitempty"`
}

// handleCreateOffer makes a credential offer of the pre-authorized code
// flow for the path's issuer: {credential_configuration_id, claims,
// tx_code?, by_value?}.
func (s *Server) handleCreateOffer(w http.ResponseWriter, r *http.Request) {
	m, ok := s.issuerBody(w, r)
	if !ok {
		return
	}
	bad := func(format string, a ...any) {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, fmt.Sprintf(format, a...))
	}
	for k := range m {
		if !slices.Contains([]string{"credential_configuration_id", "claims", "tx_code", "by_value"}, k) {
			bad("unknown member %.64q: the members are credential_configuration_id, claims, tx_code and by_value", k)
			return
		}
	}
	cid, _ := m["credential_configuration_id"].(string)
	cfg, ok := vciConfigs()[cid]
	if !ok {
		writeProblem(w, r, http.StatusBadRequest, ProblemUnknownConfiguration, fmt.Sprintf("credential_configuration_id %.64q: use one of %s", cid, strings.Join(vciConfigIDs(), ", ")))
		return
	}
	claims, ok := m["claims"].(map[string]any)
	if !ok {
		bad("claims must be a JSON object")
		return
	}
	tx, _ := m["tx_code"].(string)
	if v, has := m["tx_code"]; has && (len(tx) < minTxCodeDigits || len(tx) > maxTxCodeDigits || strings.Trim(tx, "0123456789") != "" || v == nil) {
		// At least minTxCodeDigits: with three attempts, one who
		// intercepts the offer guesses a 4-digit code 3 times in 10,000.
		bad("tx_code must be %d to %d digits", minTxCodeDigits, maxTxCodeDigits)
		return
	}
	byValue, isBool := m["by_value"].(bool)
	if _, has := m["by_value"]; has && !isBool {
		bad("by_value must be a boolean")
		return
	}
	iss, signer, ok := s.issuerSigner(w, r, mux.Vars(r)["name"])
	if !ok {
		return
	}
	if err := s.checkOfferClaims(cfg, claims, signer, iss); err != nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidCredential, err.Error())
		return
	}
	base := s.publicBase(r)
	g := &vciGrant{issuer: iss.Name, config: cfg.id, claims: claims}
	err := s.vci.add(g, tx, func(code string) ([]byte, error) {
		pre := map[string]any{"pre-authorized_code": code}
		if tx != "" {
			pre["tx_code"] = map[string]any{"input_mode": "numeric", "length": len(tx), "description": "The transaction code " + iss.Name + " gave you"}
		}
		return json.Marshal(map[string]any{"credential_issuer": base, "credential_configuration_ids": []string{cfg.id},
			"grants": map[string]any{GrantPreAuthorizedCode: pre}})
	})
	if errors.Is(err, errVCIFull) {
		w.Header().Set("Retry-After", "60")
		writeProblem(w, r, http.StatusServiceUnavailable, ProblemUnavailable, err.Error())
		return
	}
	if err != nil {
		s.log.Error("credential offer", "err", err)
		writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, "")
		return
	}
	ref := base + CredentialOffersPath + g.offerID
	out := OfferResponse{CredentialOfferURI: ref, ExpiresAt: g.expires.UTC(), TxCode: tx,
		URI: OfferScheme + "://?credential_offer_uri=" + url.QueryEscape(ref)}
	if byValue {
		out.URI = OfferScheme + "://?credential_offer=" + url.QueryEscape(string(g.offer))
	}
	writeJSON(w, http.StatusCreated, out)
}

// checkOfferClaims refuses the claims a configuration cannot issue,
// before any code exists: over MaxOfferClaimsBytes, reserved names,
// nested values in the generic configuration, claims that break the
// schema, an ldp_vc (eddsa-rdfc-2022) by an issuer without an Ed25519
// key.
func (s *Server) checkOfferClaims(cfg vciConfig, claims map[string]any, signer credential.Signer, iss issuer.Issuer) error {
	b, err := json.Marshal(claims)
	if err != nil {
		return fmt.Errorf("encode claims: %w", err)
	}
	if len(b) > MaxOfferClaimsBytes {
		return fmt.Errorf("claims: %d bytes, at most %d", len(b), MaxOfferClaimsBytes)
	}
	if len(claims) == 0 {
		return errors.New("claims: at least one claim is needed")
	}
	for _, c := range reservedClaims {
		if _, ok := claims[c]; ok {
			return fmt.Errorf("claim %q is set by the issuer or the holder's key, not the offer", c)
		}
	}
	if cfg.schema == "" {
		for k, v := range claims {
			switch v.(type) {
			case map[string]any, []any:
				return fmt.Errorf("claim %.64q: the generic configuration takes flat claims (strings, numbers, booleans)", k)
			}
		}
		return nil
	}
	if cfg.format == FormatLDPVC && signer.Public().Type() != keys.Ed25519 {
		return fmt.Errorf("issuer %s has a %s key: ldp_vc credentials are eddsa-rdfc-2022, which needs an Ed25519 key", iss.Name, signer.Public().Type())
	}
	// The claims as the schema's 2.0 credential, for a holder yet unknown.
	subject := maps.Clone(claims)
	subject["id"] = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
	cred := vciConfig{format: FormatLDPVC, schema: cfg.schema, typ: cfg.typ}.credential(subject)
	if err := s.checkBundledSchema(cfg.schema, issuer.Defaults(cred, iss.DID, s.now())); err != nil {
		return fmt.Errorf("the claims do not fit %s: %w", cfg.schema, err)
	}
	return nil
}

// checkBundledSchema validates a W3C credential against the bundled
// schema called name, whatever schemas the verifier is given.
func (s *Server) checkBundledSchema(name string, cred map[string]any) error {
	raw, ok := schemas.Get(name)
	if !ok {
		return fmt.Errorf("no schema %s", name)
	}
	sc, err := s.schemas.Compile(raw)
	if err != nil {
		return fmt.Errorf("compile schema %s: %w", name, err)
	}
	return sc.Validate(cred)
}

// credential is the unsecured W3C credential of the configuration with
// subject as its credentialSubject.
func (c vciConfig) credential(subject map[string]any) map[string]any {
	cred := map[string]any{
		"@context":          c.contexts(),
		"type":              []any{credential.TypeCredential, c.typ},
		"credentialSubject": subject,
	}
	if c.format == FormatLDPVC {
		cred["credentialSchema"] = map[string]any{"id": schemas.IDPrefix + c.schema + "/v1", "type": "JsonSchema"}
	}
	return cred
}

// handleOffer serves an offer by reference while its code is unspent
// and unexpired.
func (s *Server) handleOffer(w http.ResponseWriter, r *http.Request) {
	b, err := s.vci.offer(mux.Vars(r)["id"])
	if err != nil {
		writeProblem(w, r, http.StatusNotFound, ProblemNotFound, "no such credential offer: it was never made, or it expired or was redeemed")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", mediaJSON)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// writeOAuthError answers an OAuth 2.0 / OpenID4VCI error: a JSON
// object with error and error_description (RFC 6749 section 5.2), not
// problem+json, since the specifications fix this format.
func writeOAuthError(w http.ResponseWriter, status int, code, desc string, extra map[string]any) {
	body := map[string]any{"error": code}
	if desc != "" {
		body["error_description"] = desc
	}
	maps.Copy(body, extra)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, body)
}

// readLimited reads at most limit bytes of the body; over it, or
// failing, it reports false.
func readLimited(r *http.Request, limit int) ([]byte, bool) {
	b, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	return b, err == nil && len(b) <= limit
}

// handleToken is the token endpoint of the pre-authorized code flow
// (OpenID4VCI section 6, RFC 6749 section 5).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "the token request must be application/x-www-form-urlencoded", nil)
		return
	}
	body, ok := readLimited(r, MaxTokenRequestBytes)
	if !ok {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("the body exceeds %d bytes or could not be read", MaxTokenRequestBytes), nil)
		return
	}
	req, err := parseTokenRequest(body)
	if err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", err.Error(), nil)
		return
	}
	if req.grantType != GrantPreAuthorizedCode {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "only "+GrantPreAuthorizedCode+" is supported", nil)
		return
	}
	if !req.hasTxCode && s.vci.requiresTxCode(req.code) {
		// Not a wrong attempt: the holder was not asked (OpenID4VCI
		// section 6.1 makes tx_code required for such a code).
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "tx_code is missing: this pre-authorized code requires the transaction code its issuer gave; no attempt was counted", nil)
		return
	}
	tok, ttl, err := s.vci.redeem(req.code, req.txCode)
	switch {
	case errors.Is(err, errVCIUnknown):
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "the pre-authorized code is unknown, expired or already used", nil)
		return
	case errors.Is(err, errVCITxCode), errors.Is(err, errVCIBurnt):
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", err.Error(), nil)
		return
	case errors.Is(err, errVCIFull):
		w.Header().Set("Retry-After", "60")
		writeOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", err.Error(), nil)
		return
	case err != nil:
		s.log.Error("token", "err", err)
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "", nil)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int64(ttl / time.Second)})
}

// handleNonce is the nonce endpoint (OpenID4VCI section 7).
func (s *Server) handleNonce(w http.ResponseWriter, r *http.Request) {
	n, _, err := s.vci.newNonce()
	if err != nil {
		s.log.Error("nonce", "err", err)
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "", nil)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"c_nonce": n})
}

// bearer returns the request's bearer token.
func bearer(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// handleCredential is the credential endpoint (OpenID4VCI section 8):
// one credential of the access token's offer, bound to the proof's key.
func (s *Server) handleCredential(w http.ResponseWriter, r *http.Request) {
	tok := bearer(r)
	g, err := s.vci.token(tok)
	if tok == "" || err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeOAuthError(w, http.StatusUnauthorized, "invalid_token", "the access token is missing, unknown, expired or already used", nil)
		return
	}
	body, ok := readLimited(r, MaxCredentialRequestBytes)
	if !ok {
		writeOAuthError(w, http.StatusBadRequest, "invalid_credential_request", fmt.Sprintf("the body exceeds %d bytes or could not be read", MaxCredentialRequestBytes), nil)
		return
	}
	req, err := parseCredentialRequest(body)
	if err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_credential_request", err.Error(), nil)
		return
	}
	if req.configID != g.config {
		writeOAuthError(w, http.StatusBadRequest, "unknown_credential_configuration", fmt.Sprintf("the access token is for %s", g.config), nil)
		return
	}
	now := s.now()
	p, err := parseProof(req.proof, s.publicBase(r), now, s.skew())
	if err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_proof", err.Error(), nil)
		return
	}
	if err := s.vci.spendNonce(p.nonce); err != nil {
		if errors.Is(err, errVCIFull) {
			w.Header().Set("Retry-After", "60")
			writeOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", err.Error(), nil)
			return
		}
		extra := map[string]any{}
		if n, _, err := s.vci.newNonce(); err == nil {
			extra["c_nonce"] = n
		}
		writeOAuthError(w, http.StatusBadRequest, "invalid_nonce", err.Error()+": get a fresh one from the nonce endpoint", extra)
		return
	}
	// The token is spent before issuing, so that requests racing with
	// one token issue (and take status entries) once; the offer's claims
	// were checked when it was made, so a refusal now would recur.
	if !s.vci.spendToken(tok) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeOAuthError(w, http.StatusUnauthorized, "invalid_token", "the access token was used", nil)
		return
	}
	cred, err := s.issueOffered(r, g, p)
	if err != nil {
		if credential.CodeOf(err, "") != "" {
			writeOAuthError(w, http.StatusBadRequest, "credential_request_denied", err.Error(), nil)
			return
		}
		s.log.Error("issue offered credential", "issuer", g.issuer, "err", err)
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "", nil)
		return
	}
	format := vciConfigs()[g.config].format
	s.creds.issue(format)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"credentials": []any{map[string]any{"credential": cred}}})
}

// skew is the clock tolerance on proofs.
func (s *Server) skew() time.Duration {
	if s.cfg.ClockSkew > 0 {
		return s.cfg.ClockSkew
	}
	return time.Minute
}

// issueOffered issues the credential of a grant, bound to the proof's
// key: an SD-JWT VC with cnf.jwk, or a W3C credential whose
// credentialSubject.id is the holder's DID.
func (s *Server) issueOffered(r *http.Request, g *vciGrant, p keyProof) (any, error) {
	ctx := r.Context()
	cfg := vciConfigs()[g.config]
	iss, err := s.issuers.Find(g.issuer)
	if err != nil {
		return nil, credential.Errorf(credential.MalformedValueError, "issuer %s is gone", g.issuer)
	}
	signer, err := s.issuers.Signer(iss)
	if err != nil {
		return nil, fmt.Errorf("issuer key: %w", err)
	}
	now := s.now()
	if cfg.format == issuer.FormatSDJWT {
		claims := maps.Clone(g.claims)
		claims["vct"] = GenericVCT
		if cfg.schema != "" {
			claims["vct"] = s.publicBase(r) + schemas.VCTPath + cfg.schema
		}
		opts := issuer.SDJWTOptions{HolderKey: p.key, Now: now, Random: s.rand}
		if s.cfg.TokenStatus != nil {
			id, err := newCredentialID()
			if err != nil {
				return nil, fmt.Errorf("credential id: %w", err)
			}
			claims["jti"] = id
			if _, err := issuer.IssueSDJWT(claims, signer, opts); err != nil {
				return nil, err // refused before a status entry is taken
			}
			if opts.Status, err = s.cfg.TokenStatus.TokenStatus(ctx, iss, id); err != nil {
				return nil, fmt.Errorf("token status: %w", err)
			}
		}
		return issuer.IssueSDJWT(claims, signer, opts)
	}
	subject := maps.Clone(g.claims)
	subject["id"] = p.holder
	cred := issuer.Defaults(cfg.credential(subject), iss.DID, now)
	if cfg.format == FormatLDPVC {
		if err := s.checkBundledSchema(cfg.schema, cred); err != nil {
			return nil, credential.Errorf(credential.MalformedValueError, "the claims do not fit %s: %v", cfg.schema, err)
		}
	}
	if cred, err = s.withStatus(ctx, iss, cred, map[string]any{}); err != nil {
		return nil, err
	}
	if cfg.format == issuer.FormatJWTVC {
		return issuer.IssueToken(ctx, cred, signer, issuer.Options{Format: issuer.FormatJWTVC, Now: now})
	}
	return issuer.Issue(ctx, cred, signer, issuer.Options{Format: issuer.FormatRDFC, Now: now})
}
