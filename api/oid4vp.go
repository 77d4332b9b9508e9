package api

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/strictjson"
	"github.com/idmesh/idmesh/issuer"
)

// OpenID4VP verifier paths and names.
const (
	VerifierRequestsPath       = "/verifier/requests"
	VerifierRequestObjectsPath = "/verifier/request-objects/"
	VerifierResponsesPath      = "/verifier/responses/"
	VerifierTransactionsPath   = "/verifier/transactions/"
	// VPScheme is the scheme of the request URIs wallets open.
	VPScheme = "openid4vp"
	// ClientIDPrefixDID is the client identifier prefix of a verifier
	// known by its DID (OpenID4VP section 5.9.3).
	ClientIDPrefixDID = "decentralized_identifier:"
	// MediaRequestObject is the media type (and typ) of signed request
	// objects.
	MediaRequestObject = "application/oauth-authz-req+jwt"
	// TypRequestObject is the typ header of signed request objects.
	TypRequestObject = "oauth-authz-req+jwt"
	// SelfIssuedAudience is a request object's aud for wallets found by
	// static discovery (OpenID4VP section 5.8).
	SelfIssuedAudience = "https://self-issued.me/v2"
	// ResponseModeDirectPost and ResponseModeDirectPostJWT are the
	// response modes the verifier asks for.
	ResponseModeDirectPost    = "direct_post"
	ResponseModeDirectPostJWT = "direct_post.jwt"
	// FormatJWTVCJSON is the format of VC Data Model 1.1 JWTs.
	FormatJWTVCJSON = "jwt_vc_json"
	// FormatSDJWTVC is the format of SD-JWT VCs.
	FormatSDJWTVC = "dc+sd-jwt"
)

// Bounds of the OpenID4VP verifier endpoints.
const (
	// MaxVPRequestBytes bounds the body of POST /verifier/requests.
	MaxVPRequestBytes = 64 << 10
	// MaxWebhookURLBytes bounds a webhook URL.
	MaxWebhookURLBytes = 2048
	// vpRandomBytes is the size of transaction IDs, references, states
	// and nonces (256 bits).
	vpRandomBytes = 32
	// vpOverhead is what a transaction costs besides its strings.
	vpOverhead = 1024
	// MaxTrustedIssuers bounds a request's trusted_issuers.
	MaxTrustedIssuers = 64
)

// Problem types of the verifier endpoints.
const (
	ProblemInvalidDCQL        = ProblemBase + "invalid-dcql-query"
	ProblemNoVerifierIdentity = ProblemBase + "no-verifier-identity"
	// ProblemResponseCode (403) answers a read of the result of a
	// transaction made with a redirect_uri without the response_code
	// the wallet's redirect carried, or with another.
	ProblemResponseCode = ProblemBase + "response-code"
)

func init() {
	titles[ProblemInvalidDCQL] = "The DCQL query is invalid"
	titles[ProblemNoVerifierIdentity] = "This node has no verifier identity"
	titles[ProblemResponseCode] = "The result needs the response code of the wallet's redirect"
}

// encValues are the content encryptions accepted in direct_post.jwt
// responses (encrypted_response_enc_values_supported; A128GCM is the
// default of OpenID4VP section 8.3).
var encValues = []string{"A128GCM", "A256GCM"}

// oid4vpRoutes are the OpenID4VP verifier endpoints.
func (s *Server) oid4vpRoutes() []route {
	return []route{
		{http.MethodPost, VerifierRequestsPath, "oid4vp_request_create", s.private(s.handleCreateVPRequest)},
		{http.MethodGet, VerifierRequestObjectsPath + "{id}", "oid4vp_request_object", s.limitRate(s.handleRequestObject)},
		{http.MethodPost, VerifierResponsesPath + "{id}", "oid4vp_response", s.limitVerify(s.handleVPResponse)},
		{http.MethodGet, VerifierTransactionsPath + "{id}", "oid4vp_transaction", s.private(s.handleVPTransaction)},
	}
}

// VPRequestResponse is the answer of POST /verifier/requests.
type VPRequestResponse struct {
	TransactionID string `json:"transaction_id"`
	// RequestURI serves the signed request object.
	RequestURI string `json:"request_uri"`
	// URI is what a wallet opens: openid4vp://?client_id=...&request_uri=...
	URI string `json:"uri"`
	// WebhookSecret, given once when a webhook is set, keys the
	// HMAC-SHA256 of each webhook call's body (WebhookSignatureHeader).
	WebhookSecret string `json:"webhook_secret,omitempty"`
}

// verifierIdentity is the DID the node's requests are signed for and its
// signer: Config.VerifierDID (a name or DID of an issuer the node keeps),
// or, when unset, the first live issuer by name.
func (s *Server) verifierIdentity(r *http.Request) (issuer.Issuer, credential.Signer, error) {
	if s.issuers == nil {
		return issuer.Issuer{}, nil, errors.New("this node keeps no keys (no issuer keystore)")
	}
	var iss issuer.Issuer
	if s.cfg.VerifierDID != "" {
		found, err := s.issuers.Find(s.cfg.VerifierDID)
		if err != nil {
			return issuer.Issuer{}, nil, fmt.Errorf("the verifier DID %s is not a DID this node keeps", s.cfg.VerifierDID)
		}
		iss = s.liveIssuer(r.Context(), found)
	} else {
		for _, c := range s.issuers.List() {
			if c = s.liveIssuer(r.Context(), c); c.Status == issuer.StatusLive {
				iss = c
				break
			}
		}
	}
	if iss.Status != issuer.StatusLive {
		return issuer.Issuer{}, nil, errors.New("no verifier DID: set --verifier-did, or register an issuer (idmesh issuer create) whose DID signs the requests")
	}
	signer, err := s.issuers.Signer(iss)
	if err != nil {
		return issuer.Issuer{}, nil, fmt.Errorf("verifier key: %w", err)
	}
	return iss, signer, nil
}

// handleCreateVPRequest makes a presentation request: {dcql_query,
// response_mode?, webhook?, trusted_issuers?}.
func (s *Server) handleCreateVPRequest(w http.ResponseWriter, r *http.Request) {
	body, ok := readLimited(r, MaxVPRequestBytes)
	if !ok {
		writeProblem(w, r, http.StatusRequestEntityTooLarge, ProblemBodyTooLarge, fmt.Sprintf("the body exceeds %d bytes or could not be read", MaxVPRequestBytes))
		return
	}
	m, err := strictjson.Object(body, MaxVPRequestBytes)
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidJSON, err.Error())
		return
	}
	bad := func(format string, a ...any) {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, fmt.Sprintf(format, a...))
	}
	for k := range m {
		if !slices.Contains([]string{"dcql_query", "response_mode", "webhook", "trusted_issuers", "redirect_uri"}, k) {
			bad("unknown member %.64q: the members are dcql_query, response_mode, webhook, trusted_issuers and redirect_uri", k)
			return
		}
	}
	rawQuery, ok := m["dcql_query"].(map[string]any)
	if !ok {
		bad("dcql_query must be a JSON object (a DCQL query)")
		return
	}
	qb, err := json.Marshal(rawQuery)
	if err != nil {
		bad("dcql_query: %v", err)
		return
	}
	query, err := parseVPQuery(qb)
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidDCQL, err.Error())
		return
	}
	mode := ResponseModeDirectPost
	if v, has := m["response_mode"]; has {
		mode, _ = v.(string)
		if mode != ResponseModeDirectPost && mode != ResponseModeDirectPostJWT {
			bad("response_mode must be %s or %s", ResponseModeDirectPost, ResponseModeDirectPostJWT)
			return
		}
	}
	var hook string
	if v, has := m["webhook"]; has {
		hook, _ = v.(string)
		if err := checkRPURL(hook); err != nil {
			bad("webhook: %v", err)
			return
		}
	}
	var redirect string
	if v, has := m["redirect_uri"]; has {
		redirect, _ = v.(string)
		if err := checkRPURL(redirect); err != nil {
			bad("redirect_uri: %v", err)
			return
		}
		if hook != "" {
			// A webhook would deliver the result without the response
			// code, to whoever made the request: the session binding
			// the redirect is for would not hold.
			bad("redirect_uri and webhook exclude each other: a webhook delivers the result without the response code")
			return
		}
	}
	var trusted []string
	if v, has := m["trusted_issuers"]; has {
		if trusted, err = parseTrustedIssuers(v); err != nil {
			bad("trusted_issuers: %v", err)
			return
		}
	}
	iss, signer, err := s.verifierIdentity(r)
	if err != nil {
		writeProblem(w, r, http.StatusConflict, ProblemNoVerifierIdentity, err.Error())
		return
	}
	t, err := s.newVPTx(r, iss, signer, query, qb, mode, hook)
	if err != nil {
		s.log.ErrorContext(r.Context(), "presentation request", "err", err)
		writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, "")
		return
	}
	t.trusted = trusted
	for _, d := range trusted {
		t.size += sizeWord + len(d)
	}
	t.redirect = redirect
	t.size += len(redirect)
	if err := s.vp.add(t); err != nil {
		w.Header().Set("Retry-After", "60")
		writeProblem(w, r, http.StatusServiceUnavailable, ProblemUnavailable, err.Error())
		return
	}
	s.vpMetrics.request(mode)
	s.log.InfoContext(r.Context(), "presentation request", "transaction", t.id, "mode", mode, "webhook", hook != "")
	base := s.publicBase(r)
	ref := base + VerifierRequestObjectsPath + t.ref
	out := VPRequestResponse{TransactionID: t.id, RequestURI: ref,
		URI: VPScheme + "://?client_id=" + url.QueryEscape(ClientIDPrefixDID+iss.DID) + "&request_uri=" + url.QueryEscape(ref)}
	if hook != "" {
		out.WebhookSecret = encodeB64(t.hookKey)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, out)
}

// parseTrustedIssuers reads a request's trusted_issuers: an array of 1
// to MaxTrustedIssuers DIDs, without repeats.
func parseTrustedIssuers(v any) ([]string, error) {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 || len(arr) > MaxTrustedIssuers {
		return nil, fmt.Errorf("an array of 1 to %d DIDs is required", MaxTrustedIssuers)
	}
	out := make([]string, 0, len(arr))
	for i, e := range arr {
		d, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("entry %d is not a string (a DID)", i+1)
		}
		if _, err := did.Parse(d); err != nil {
			return nil, fmt.Errorf("entry %d, %.128q, is not a DID", i+1, d)
		}
		if slices.Contains(out, d) {
			return nil, fmt.Errorf("entry %d, %.128q, is repeated", i+1, d)
		}
		out = append(out, d)
	}
	return out, nil
}

// newVPTx makes a transaction and signs its request object.
func (s *Server) newVPTx(r *http.Request, iss issuer.Issuer, signer credential.Signer, query *dcqlQuery, qb []byte, mode, hook string) (*vpTx, error) {
	t := &vpTx{mode: mode, query: query, webhook: hook, created: s.now()}
	t.expires = t.created.Add(s.vp.ttl)
	for _, p := range []*string{&t.ref, &t.state, &t.nonce} {
		v, err := s.vp.random(vpRandomBytes)
		if err != nil {
			return nil, err
		}
		*p = v
	}
	// The transaction ID is typed on command lines: hex, so that it never
	// starts with "-".
	id := make([]byte, vpRandomBytes)
	if _, err := io.ReadFull(s.rand, id); err != nil {
		return nil, fmt.Errorf("read random: %w", err)
	}
	t.id = hex.EncodeToString(id)
	clientID := ClientIDPrefixDID + iss.DID
	t.clientID = clientID
	base := s.publicBase(r)
	meta := map[string]any{"vp_formats_supported": vpFormats()}
	if mode == ResponseModeDirectPostJWT {
		k, err := ecdsa.GenerateKey(elliptic.P256(), s.rand)
		if err != nil {
			return nil, fmt.Errorf("response encryption key: %w", err)
		}
		kid, err := s.vp.random(12)
		if err != nil {
			return nil, err
		}
		t.encKey, t.encKID = k, kid
		pub, err := k.PublicKey.Bytes() // 0x04 || X || Y
		if err != nil {
			return nil, fmt.Errorf("response encryption key: %w", err)
		}
		if len(pub) != 65 {
			return nil, fmt.Errorf("response encryption key: %d bytes, not an uncompressed P-256 point", len(pub))
		}
		jwk := map[string]any{"kty": "EC", "crv": "P-256", "x": encodeB64(pub[1:33]), "y": encodeB64(pub[33:]),
			"kid": kid, "use": "enc", "alg": "ECDH-ES"}
		meta["jwks"] = map[string]any{"keys": []any{jwk}}
		meta["encrypted_response_enc_values_supported"] = encValues
	}
	if hook != "" {
		t.hookKey = make([]byte, vpRandomBytes)
		if _, err := io.ReadFull(s.rand, t.hookKey); err != nil {
			return nil, fmt.Errorf("webhook secret: %w", err)
		}
	}
	claims := map[string]any{
		"iss":             clientID,
		"aud":             SelfIssuedAudience,
		"client_id":       clientID,
		"response_type":   "vp_token",
		"response_mode":   mode,
		"response_uri":    base + VerifierResponsesPath + t.ref,
		"nonce":           t.nonce,
		"state":           t.state,
		"dcql_query":      json.RawMessage(qb),
		"client_metadata": meta,
		"iat":             t.created.Unix(),
		"exp":             t.expires.Unix(),
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return nil, fmt.Errorf("encode request object: %w", err)
	}
	obj, err := jose.SignCompact(payload, TypRequestObject, signer.MethodID(), signer, "")
	if err != nil {
		return nil, fmt.Errorf("sign request object: %w", err)
	}
	t.object = []byte(obj)
	// The query is kept parsed: charge it at a multiple of its JSON.
	t.size = vpOverhead + len(t.object) + 4*len(qb) + len(hook)
	return t, nil
}

// vpFormats is the client metadata's vp_formats_supported (OpenID4VP
// Appendix B).
func vpFormats() map[string]any {
	return map[string]any{
		FormatSDJWTVC:   map[string]any{"sd-jwt_alg_values": []string{"EdDSA", "ES256"}, "kb-jwt_alg_values": []string{"EdDSA", "ES256"}},
		FormatJWTVCJSON: map[string]any{"alg_values": []string{"EdDSA", "ES256"}},
		FormatLDPVC:     map[string]any{"proof_type_values": []string{"DataIntegrityProof"}, "cryptosuite_values": []string{"eddsa-rdfc-2022", "eddsa-jcs-2022"}},
	}
}

// handleRequestObject serves a request's signed request object while it
// is unanswered and unexpired.
func (s *Server) handleRequestObject(w http.ResponseWriter, r *http.Request) {
	b, err := s.vp.object(mux.Vars(r)["id"])
	if err != nil {
		writeProblem(w, r, http.StatusNotFound, ProblemNotFound, "no such presentation request: it was never made, or it expired or was answered")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", MediaRequestObject)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// handleVPTransaction answers the relying party's backend with a
// transaction's state and, once verified, the disclosed claims.
func (s *Server) handleVPTransaction(w http.ResponseWriter, r *http.Request) {
	v, err := s.vp.transaction(mux.Vars(r)["id"], r.URL.Query().Get("response_code"))
	if errors.Is(err, errVPResponseCode) {
		writeProblem(w, r, http.StatusForbidden, ProblemResponseCode, err.Error())
		return
	}
	if err != nil {
		writeProblem(w, r, http.StatusNotFound, ProblemNotFound, "no such transaction: it was never made, or its result was forgotten")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, v)
}

// handleVPResponse takes a wallet's authorization response (direct_post
// or direct_post.jwt): it is checked, verified and matched to the query
// once, and its outcome stored for the relying party.
func (s *Server) handleVPResponse(w http.ResponseWriter, r *http.Request) {
	refuse := func(outcome, desc string) {
		s.vpMetrics.response(outcome)
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", printableText(desc, MaxVPErrorBytes), nil)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		refuse("malformed", "the response must be application/x-www-form-urlencoded")
		return
	}
	body, ok := readLimited(r, int(s.cfg.MaxBodyBytes))
	if !ok {
		refuse("malformed", fmt.Sprintf("the body exceeds %d bytes or could not be read", s.cfg.MaxBodyBytes))
		return
	}
	form, err := parseVPForm(body)
	if err != nil {
		refuse("malformed", err.Error())
		return
	}
	t, err := s.vp.byReference(mux.Vars(r)["id"])
	if err != nil {
		refuse("unknown", "unknown presentation request: it was never made, or it was forgotten")
		return
	}
	if err := form.open(t); err != nil {
		refuse("malformed", err.Error())
		return
	}
	if err := s.vp.take(t, form.state); err != nil {
		outcome := "state"
		switch {
		case errors.Is(err, errVPExpired):
			outcome = "expired"
		case errors.Is(err, errVPAnswered):
			outcome = "replay"
		}
		refuse(outcome, err.Error())
		return
	}
	// A request made with a redirect_uri gets a response code whatever
	// the outcome: every result of it is read only with the code.
	code := ""
	if t.redirect != "" {
		var err error
		if code, err = s.vp.random(vpRandomBytes); err != nil {
			s.complete(t, nil, "the verifier could not make a response code", 0, "")
			s.log.ErrorContext(r.Context(), "response code", "err", err)
			writeOAuthError(w, http.StatusInternalServerError, "server_error", "", nil)
			return
		}
	}
	if form.err != "" {
		// The wallet declined (or failed): the transaction fails with
		// its reason.
		s.complete(t, nil, "the wallet answered "+form.err+trimDesc(form.errDesc), 0, code)
		s.vpMetrics.response("declined")
		s.answerResponse(w, t, code)
		return
	}
	creds, size, err := s.verifyVPToken(r.Context(), t, form.vpToken)
	if err != nil {
		s.complete(t, nil, err.Error(), 0, code)
		if t.redirect != "" {
			// The wallet is sent back all the same: the relying party's
			// page reads the failure with the code (OpenID4VP leaves the
			// verification's outcome to the verifier).
			s.vpMetrics.response("refused")
			s.answerResponse(w, t, code)
			return
		}
		refuse("refused", err.Error())
		return
	}
	if v := s.complete(t, creds, "", size, code); v.Status != VPVerified {
		s.vpMetrics.response("refused") // the result could not be kept
	} else {
		s.vpMetrics.response("verified")
	}
	s.answerResponse(w, t, code)
}

// answerResponse answers a response the verifier took (OpenID4VP
// section 8.2): {} or, for a request made with a redirect_uri, that URI
// for the wallet to open with the response code in its fragment (the
// relying party's front end gives the code to its backend, which reads
// the result with it: only the browser the wallet came back to can have
// it, section 14.2).
func (s *Server) answerResponse(w http.ResponseWriter, t *vpTx, code string) {
	out := map[string]any{}
	if t.redirect != "" {
		out["redirect_uri"] = t.redirect + "#response_code=" + code
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

// maxDescBytes bounds the wallet's error_description kept in a result.
const maxDescBytes = 256

// MaxVPErrorBytes bounds a transaction's error text (its reason to fail).
const MaxVPErrorBytes = 1024

// trimDesc is a wallet's error_description as a suffix, bounded: as sent
// when it keeps to RFC 6749's characters (section 5.2: %x20-21 /
// %x23-5B / %x5D-7E), else quoted (Go syntax, ASCII only), so that no
// control character reaches the result.
func trimDesc(d string) string {
	if d == "" {
		return ""
	}
	if len(d) > maxDescBytes {
		d = d[:maxDescBytes]
	}
	if strings.IndexFunc(d, func(r rune) bool { return r < 0x20 || r > 0x7e || r == '"' || r == '\\' }) >= 0 {
		return ": " + strconv.QuoteToASCII(strings.ToValidUTF8(d, "\uFFFD"))
	}
	return ": " + d
}

// printableText is s, which may hold what a wallet presented, as a
// result or an answer may carry it: every rune that is not printable
// (C0 and C1 controls, format characters such as bidi overrides, line
// and paragraph separators, invalid UTF-8) written as a Go escape, and
// the whole cut at max bytes ("..." marks the cut).
func printableText(s string, max int) string {
	var b strings.Builder
	keep := -1 // the length that leaves room for "..." once the text is cut
	for i, r := range s {
		var piece string
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			piece = fmt.Sprintf("\\x%02x", s[i])
		case r == ' ' || unicode.IsGraphic(r) && r != utf8.RuneError:
			piece = string(r)
		case r < 0x10000:
			piece = fmt.Sprintf("\\u%04x", r)
		default:
			piece = fmt.Sprintf("\\U%08x", r)
		}
		if keep < 0 && b.Len()+len(piece) > max-len("...") {
			keep = b.Len()
		}
		if b.Len()+len(piece) > max {
			return b.String()[:keep] + "..."
		}
		b.WriteString(piece)
	}
	return b.String()
}

// complete records a transaction's outcome (with the response code of
// a request made with a redirect_uri), logs it (no secrets), calls its
// webhook and returns what the relying party sees of it.
func (s *Server) complete(t *vpTx, creds []VPCredential, failure string, size int, responseCode string) VPTransaction {
	failure = printableText(failure, MaxVPErrorBytes)
	v := s.vp.finish(t, creds, failure, size, responseCode)
	s.log.Info("presentation response", "transaction", t.id, "status", v.Status, "credentials", len(v.Credentials))
	if t.webhook != "" {
		s.hooks.send(t.webhook, t.hookKey, v)
	}
	return v
}

// encodeB64 is base64url without padding.
func encodeB64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
