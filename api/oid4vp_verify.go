package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/verifier"
)

// errVPNotVerified is the failure of a presentation the pipeline refused.
var errVPNotVerified = errors.New("presentation not verified")

// sdRegistered are the SD-JWT VC claims that name, date, bind or track
// the credential rather than say something about its subject: the
// transaction's result gives them as issuer, vct and holder, or not.
var sdRegistered = []string{"iss", "iat", "nbf", "exp", "cnf", "status", "vct", "vct#integrity", "_sd_alg"}

// verifyVPToken verifies every presentation of a vp_token for t: each
// through the verification pipeline (signatures, validity, status,
// schema, trust), bound to the request (the nonce, and the full
// client_id as audience or domain), holder-bound when its credential
// query requires it; then the whole against the DCQL query, on what was
// disclosed only. It returns the credentials and the bytes their result
// is charged.
func (s *Server) verifyVPToken(ctx context.Context, t *vpTx, token map[string]any) ([]VPCredential, int, error) {
	presented := map[string][]vpCandidate{}
	var out []VPCredential
	for _, id := range slices.Sorted(maps.Keys(token)) {
		cq, ok := t.query.credentialQuery(id)
		if !ok {
			return nil, 0, fmt.Errorf("vp_token answers credential query %.64q, which the request does not make", id)
		}
		for i, p := range token[id].([]any) {
			c, cand, err := s.verifyPresentation(ctx, t, cq, p)
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
	b, err := json.Marshal(out)
	if err != nil {
		return nil, 0, fmt.Errorf("encode result: %w", err)
	}
	return out, 2 * len(b), nil
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
		return VPCredential{}, vpCandidate{}, errors.New("jwt_vc_json presentations are not supported by this verifier yet: ask for dc+sd-jwt or ldp_vc")
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
	return out, vpCandidate{format: format, types: c.Types, claims: doc, bound: res.Holder != ""}, nil
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
