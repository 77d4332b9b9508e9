package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dcql"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/verifier"
)

// errVPNotVerified is the failure of a presentation the pipeline refused.
var errVPNotVerified = errors.New("presentation not verified")

// errVPUntrustedIssuer is the failure of a credential whose issuer is not
// among the request's trusted_issuers.
var errVPUntrustedIssuer = errors.New("untrusted issuer")

// sdRegistered are the SD-JWT VC claims that name, date, bind or track
// the credential rather than say something about its subject: the
// transaction's result gives them as issuer, vct and holder, or not.
var sdRegistered = []string{"iss", "iat", "nbf", "exp", "jti", "cnf", "status", "vct", "vct#integrity", "_sd_alg"}

// verifyVPToken verifies every presentation of a vp_token for t: each
// through the verification pipeline (signatures, validity, status,
// schema, trust), bound to the request (the nonce, and the full
// client_id as audience or domain), holder-bound when its credential
// query requires it; then the whole against the DCQL query, on what was
// disclosed only. It returns the credentials and the bytes their result
// is charged.
func (s *Server) verifyVPToken(ctx context.Context, t *vpTx, token map[string]any) ([]VPCredential, int, error) {
	ids := slices.Sorted(maps.Keys(token))
	// The ids and the number of presentations of each are checked before
	// any presentation is verified: a response is not worth its
	// verifications if the query refuses it whatever they find.
	queries := make(map[string]vpCredentialQuery, len(ids))
	for _, id := range ids {
		cq, ok := t.query.credentialQuery(id)
		if !ok {
			return nil, 0, fmt.Errorf("vp_token answers credential query %.64q, which the request does not make", id)
		}
		switch n := len(token[id].([]any)); {
		case n > 1 && !cq.multiple:
			return nil, 0, fmt.Errorf("%w: credential %.64q: %d presentations for a query without multiple", dcql.ErrNotSatisfied, id, n)
		case n > dcql.MaxPresentations:
			return nil, 0, fmt.Errorf("%w: credential %.64q: %d presentations, at most %d", dcql.ErrLimit, id, n, dcql.MaxPresentations)
		}
		queries[id] = cq
	}
	presented := map[string][]vpCandidate{}
	var out []VPCredential
	for _, id := range ids {
		cq := queries[id]
		for i, p := range token[id].([]any) {
			c, cand, err := s.verifyPresentation(ctx, t, cq, p)
			if err == nil && t.trusted != nil && !slices.Contains(t.trusted, c.Issuer) {
				err = fmt.Errorf("%w: %.128q is not one of the request's trusted_issuers", errVPUntrustedIssuer, c.Issuer)
			}
			if err != nil {
				return nil, 0, fmt.Errorf("vp_token %.64q presentation %d: %w", id, i+1, err)
			}
			c.ID = id
			out = append(out, c)
			presented[id] = append(presented[id], cand)
		}
	}
	if err := t.query.check(presented); err != nil {
		return nil, 0, err
	}
	size := resultSize(out)
	if size > MaxVPResultBytes {
		return nil, 0, fmt.Errorf("%w: the disclosed credentials take %d bytes, at most %d are kept", errVPResultTooLarge, size, MaxVPResultBytes)
	}
	return out, size, nil
}

// MaxVPResultBytes bounds what one answer may store: a verified result
// whose credentials take more (as resultSize counts them) fails its
// transaction with errVPResultTooLarge, and only that is kept.
const MaxVPResultBytes = 64 << 10

// errVPResultTooLarge is the failure of a result over MaxVPResultBytes.
var errVPResultTooLarge = errors.New("result too large")

// Sizes resultSize charges for Go values besides their bytes: an
// interface or string header, a map entry, a slice header, a map.
const (
	sizeWord  = 16
	sizeEntry = 48
	sizeSlice = 24
	sizeMap   = 48
	sizeCred  = 160 // a VPCredential without its strings and claims
)

// resultSize is what a result takes in memory, estimated from its
// values: every string's bytes plus its header, every map entry, array
// element and number as the runtime keeps them (at least what its JSON
// would take).
func resultSize(creds []VPCredential) int {
	n := sizeSlice
	for _, c := range creds {
		n += sizeCred + len(c.ID) + len(c.Format) + len(c.Issuer) + len(c.VCT) + len(c.Holder) + sizeSlice
		for _, t := range c.Type {
			n += sizeWord + len(t)
		}
		n += valueSize(c.Claims)
	}
	return n
}

// valueSize is what a decoded JSON value takes in memory (resultSize).
func valueSize(v any) int {
	switch x := v.(type) {
	case map[string]any:
		n := sizeMap
		for k, e := range x {
			n += sizeEntry + len(k) + valueSize(e)
		}
		return n
	case []any:
		n := sizeSlice
		for _, e := range x {
			n += sizeWord + valueSize(e)
		}
		return n
	case string:
		return sizeWord + len(x)
	case json.Number:
		return sizeWord + len(x)
	}
	return sizeWord
}

// verifyPresentation verifies one presentation of credential query cq.
func (s *Server) verifyPresentation(ctx context.Context, t *vpTx, cq vpCredentialQuery, p any) (VPCredential, vpCandidate, error) {
	opts := verifier.Options{Challenge: t.nonce, Domain: t.clientID}
	switch cq.format {
	case FormatSDJWTVC:
		compact, ok := p.(string)
		if !ok {
			return VPCredential{}, vpCandidate{}, errors.New("a dc+sd-jwt presentation is the SD-JWT with its key-binding JWT, a string")
		}
		res := s.verifier.VerifyCredential(ctx, compact, opts)
		if err := vpVerdict(res); err != nil {
			return VPCredential{}, vpCandidate{}, err
		}
		if res.Format != verifier.FormatSDJWT || res.Disclosed == nil {
			return VPCredential{}, vpCandidate{}, errors.New("not an SD-JWT VC")
		}
		if !res.Disclosed.KeyBound {
			return VPCredential{}, vpCandidate{}, errors.New("the SD-JWT VC has no key-binding JWT for this request")
		}
		claims := res.Disclosed.Claims
		c := VPCredential{Format: FormatSDJWTVC, Issuer: res.Issuer, VCT: res.Disclosed.VCT, Claims: map[string]any{}, Holder: cnfHolder(claims)}
		for k, v := range claims {
			if !slices.Contains(sdRegistered, k) {
				c.Claims[k] = v
			}
		}
		return c, vpCandidate{format: FormatSDJWTVC, vct: res.Disclosed.VCT, claims: claims, bound: true}, nil
	case FormatLDPVC:
		obj, ok := p.(map[string]any)
		if !ok {
			return VPCredential{}, vpCandidate{}, errors.New("an ldp_vc presentation is a verifiable presentation, a JSON object")
		}
		opts.HolderBinding = cq.binding
		res := s.verifier.VerifyPresentation(ctx, obj, opts)
		if err := vpVerdict(res); err != nil {
			return VPCredential{}, vpCandidate{}, err
		}
		return w3cCredential(FormatLDPVC, res)
	case FormatJWTVCJSON:
		token, ok := p.(string)
		if !ok {
			return VPCredential{}, vpCandidate{}, errors.New("a jwt_vc_json presentation is a VP JWT, a string")
		}
		return s.verifyJWTVP(ctx, t, cq, token)
	}
	return VPCredential{}, vpCandidate{}, fmt.Errorf("format %.32q is not supported by this verifier", cq.format)
}

// w3cCredential reads the one credential a verified W3C presentation
// carries: its issuer, types and credentialSubject.
func w3cCredential(format string, res verifier.Result) (VPCredential, vpCandidate, error) {
	if len(res.Credentials) != 1 {
		return VPCredential{}, vpCandidate{}, fmt.Errorf("a presentation answers a credential query with one credential; this one has %d", len(res.Credentials))
	}
	doc := res.Credentials[0].Document
	c, err := credential.CredentialFrom(doc)
	if err != nil {
		return VPCredential{}, vpCandidate{}, fmt.Errorf("read credential: %w", err)
	}
	claims := map[string]any{}
	switch cs := doc["credentialSubject"].(type) {
	case map[string]any:
		claims = cs
	case []any:
		claims["credentialSubject"] = cs
	}
	out := VPCredential{Format: format, Issuer: c.Issuer, Type: c.Types, Claims: claims, Holder: res.Holder}
	return out, vpCandidate{format: format, claims: doc, bound: res.Holder != ""}, nil
}

// vpVerdict is the pipeline's verdict on a presentation bound to a
// request: every check passed but the challenge store's (the nonce is
// the request's own, compared by the proof check; the transaction is
// what is answered once).
func vpVerdict(res verifier.Result) error {
	for _, c := range res.Results {
		if c.Verified || c.Check == verifier.CheckChallenge {
			continue
		}
		detail := c.Check
		if c.Problem != nil {
			detail = c.Check + ": " + c.Problem.Title
			if c.Problem.Detail != "" {
				detail += ": " + c.Problem.Detail
			}
		}
		return fmt.Errorf("%w: %s", errVPNotVerified, detail)
	}
	if len(res.Results) == 0 {
		return fmt.Errorf("%w: no check ran", errVPNotVerified)
	}
	return nil
}

// cnfHolder is the holder of an SD-JWT VC: its cnf.jwk as a JWK
// thumbprint URI (RFC 9278), or "" without one.
func cnfHolder(claims map[string]any) string {
	cnf, _ := claims["cnf"].(map[string]any)
	jwk, _ := cnf["jwk"].(map[string]any)
	if jwk == nil {
		return ""
	}
	k, err := keys.ParseJWK(jwk)
	if err != nil {
		return ""
	}
	return "urn:ietf:params:oauth:jwk-thumbprint:sha-256:" + k.Thumbprint()
}

// verifyJWTVP verifies a jwt_vc_json presentation (VC Data Model 1.1
// section 6.3.1, OpenID4VP Appendix B): a JWT (typ JWT, or none) signed
// by an authentication key of its iss, the holder, whose aud is the
// request's client_id and nonce its nonce, holding a vp with one
// jwt_vc_json credential, which the pipeline verifies; with holder
// binding its subject must be the holder.
func (s *Server) verifyJWTVP(ctx context.Context, t *vpTx, cq vpCredentialQuery, token string) (VPCredential, vpCandidate, error) {
	var none VPCredential
	c, err := jose.ParseCompact(token, "", 0)
	if err != nil {
		return none, vpCandidate{}, fmt.Errorf("VP JWT: %w", err)
	}
	if typ, has := c.Header["typ"]; has && typ != jose.TypJWT {
		return none, vpCandidate{}, fmt.Errorf("VP JWT: typ %.64q, want JWT", fmt.Sprint(typ))
	}
	unverified, err := c.Payload()
	if err != nil {
		return none, vpCandidate{}, fmt.Errorf("VP JWT: %w", err)
	}
	iss, _ := unverified["iss"].(string)
	kid, _ := c.Header["kid"].(string)
	if iss == "" || kid == "" {
		return none, vpCandidate{}, errors.New("VP JWT: iss (the holder's DID) and a kid are required")
	}
	if strings.HasPrefix(kid, "#") {
		kid = iss + kid
	}
	key, err := s.verifier.Keys.ResolveKey(ctx, kid, credential.PurposeAuthentication)
	if err != nil {
		return none, vpCandidate{}, fmt.Errorf("VP JWT: key %.128q: %w", kid, err)
	}
	if key.Controller != iss {
		return none, vpCandidate{}, fmt.Errorf("VP JWT: key %.128q is not the holder's (%.128q)", kid, iss)
	}
	payload, err := c.Verify(key.Public)
	if err != nil {
		return none, vpCandidate{}, fmt.Errorf("VP JWT: %w", err)
	}
	if err := key.CheckClaimedTime(numericTime(payload["iat"])); err != nil {
		return none, vpCandidate{}, fmt.Errorf("VP JWT: %w", err)
	}
	if !audienceIs(payload["aud"], t.clientID) {
		return none, vpCandidate{}, errors.New("VP JWT: aud is not this verifier's client_id")
	}
	if n, _ := payload["nonce"].(string); n != t.nonce {
		return none, vpCandidate{}, errors.New("VP JWT: nonce is not the request's")
	}
	now, skew := s.now(), s.skew()
	if exp := numericTime(payload["exp"]); !exp.IsZero() && !now.Before(exp.Add(skew)) {
		return none, vpCandidate{}, errors.New("VP JWT: expired")
	}
	if nbf := numericTime(payload["nbf"]); !nbf.IsZero() && now.Add(skew).Before(nbf) {
		return none, vpCandidate{}, errors.New("VP JWT: not yet valid (nbf)")
	}
	vp, _ := payload["vp"].(map[string]any)
	creds, _ := vp["verifiableCredential"].([]any)
	if len(creds) != 1 {
		return none, vpCandidate{}, fmt.Errorf("VP JWT: vp.verifiableCredential must hold one jwt_vc_json credential, it holds %d", len(creds))
	}
	vc, ok := creds[0].(string)
	if !ok {
		return none, vpCandidate{}, errors.New("VP JWT: the credential must be a jwt_vc_json JWT")
	}
	res := s.verifier.VerifyCredential(ctx, vc, verifier.Options{})
	if err := vpVerdict(res); err != nil {
		return none, vpCandidate{}, err
	}
	if res.Format != FormatJWTVCJSON {
		return none, vpCandidate{}, fmt.Errorf("VP JWT: the credential is %.32q, not jwt_vc_json", res.Format)
	}
	doc := res.Document
	cr, err := credential.CredentialFrom(doc)
	if err != nil {
		return none, vpCandidate{}, fmt.Errorf("read credential: %w", err)
	}
	if cq.binding && !slices.Contains(cr.SubjectIDs(), iss) {
		return none, vpCandidate{}, fmt.Errorf("holder binding: the credential is not about the presenter %.128q", iss)
	}
	res.Holder, res.Credentials = iss, []verifier.Result{res}
	return w3cCredential(FormatJWTVCJSON, res)
}

// audienceIs reports whether a JWT's aud is want, or an array holding it.
func audienceIs(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		return slices.Contains(a, any(want))
	}
	return false
}

// numericTime reads a NumericDate (json.Number from strictjson), or the
// zero time.
func numericTime(v any) time.Time {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}
	}
	return time.Unix(int64(f), 0)
}
