package wallet

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/idmesh/idmesh/credential/dcql"
	"github.com/idmesh/idmesh/did/keys"
)

// Plan is what the wallet would present for a request, for the holder
// to confirm before anything leaves the wallet: who asks, and for each
// credential query the stored credential chosen and exactly what the
// verifier will see.
type Plan struct {
	// Verifier is the verifier's DID, whose key signed the request.
	Verifier string `json:"verifier"`
	// ClientID is the full client_id, the presentations' audience.
	ClientID string `json:"client_id"`
	// Name is the name the verifier gives itself (client_metadata's
	// client_name), "" if none: nothing vouches for it.
	Name string `json:"name,omitempty"`
	// ResponseURI is where the response goes.
	ResponseURI string `json:"response_uri"`
	// ResponseMode is direct_post or direct_post.jwt (encrypted).
	ResponseMode string `json:"response_mode"`
	// Credentials are the credentials to present, in the query's order.
	Credentials []Planned `json:"credentials"`
}

// Planned is one credential of a plan.
type Planned struct {
	// Query is the credential query's id.
	Query string `json:"query"`
	// Credential is the stored credential (its ID, format, issuer,
	// types); its raw form is not shown.
	Credential Credential `json:"-"`
	// Requested are the claims paths the verifier asked for and that
	// the credential has (as JSON arrays, the query's notation).
	Requested []string `json:"requested,omitempty"`
	// Disclosed are the claims the wallet discloses by choice: for
	// dc+sd-jwt the Disclosures sent, by JSON pointer, with their
	// values; nil for formats without selective disclosure.
	Disclosed []Claim `json:"disclosed,omitempty"`
	// Shown is everything the verifier will see of the credential: for
	// dc+sd-jwt the claims in the clear plus Disclosed; for jwt_vc_json
	// the issuer's whole JWT, {"header": ..., "payload": ...} (every
	// top-level claim, not only vc); for ldp_vc the whole credential.
	Shown map[string]any `json:"shown"`
	// Whole is set when the format discloses the whole credential.
	Whole bool `json:"whole"`
	// Holder is the ID of the holder key that binds the presentation:
	// the key the credential is bound to, required when the verifier
	// asks for holder binding and used when the wallet holds it even if
	// the verifier does not ask (OpenID4VP allows a key-binding JWT or
	// a signed VP then, and verifiers that always check binding need
	// it); "" when the presentation is not signed by the holder.
	Holder string `json:"holder,omitempty"`

	pointers []string
	holder   *HolderKey
	bound    bool
}

// Claim is one claim by JSON pointer, with its value.
type Claim struct {
	Pointer string `json:"pointer"`
	Value   any    `json:"value"`
}

// candidate is a stored credential as DCQL sees it.
type candidate struct {
	c      Credential
	holder *HolderKey
}

// Candidate returns c as a DCQL candidate: its format, vct or types
// (dcql.W3CTypes: as written and expanded by the credential's
// contexts), its claims (an SD-JWT's with every Disclosure in place and
// the pointers of the disclosable ones; a jwt_vc_json's vc claim; an
// ldp_vc's credential) and whether holder binding is possible (the
// wallet holds the key the credential is bound to: for dc+sd-jwt its
// cnf.jwk; for the W3C formats a key found by HolderFor, Ed25519 for
// ldp_vc).
func (w *Wallet) Candidate(c Credential) (dcql.Candidate, *HolderKey, error) {
	cand := dcql.Candidate{Format: c.Format}
	var h *HolderKey
	if k, err := w.HolderFor(c); err == nil {
		h = &k
	}
	switch c.Format {
	case FormatSDJWT:
		claims, disclosable, err := sdClaims(c.Raw)
		if err != nil {
			return cand, nil, err
		}
		cand.Claims, cand.Disclosable = claims, disclosable
		cand.VCT = str(claims["vct"])
	case FormatJWTVCJSON, FormatLDPVC:
		var vc map[string]any
		if c.Format == FormatJWTVCJSON {
			_, claims, err := decodeJWT(c.Raw)
			if err != nil {
				return cand, nil, err
			}
			vc, _ = claims["vc"].(map[string]any)
		} else {
			d, err := Decode(c)
			if err != nil {
				return cand, nil, err
			}
			vc = d.Claims
			if h != nil && h.Key.Type() != keys.Ed25519 {
				h = nil // a Data Integrity presentation needs an Ed25519 key
			}
		}
		w3c, err := dcql.W3CCandidate(c.Format, vc, h != nil)
		if err != nil {
			return cand, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		return w3c, h, nil
	default:
		return cand, nil, fmt.Errorf("%w: %s credentials are not presented over OpenID4VP", ErrUnsupported, c.Format)
	}
	cand.HolderBinding = h != nil
	return cand, h, nil
}

// Plan matches the wallet's credentials to r's DCQL query and returns
// what it would present: for each credential query to answer (every
// one, or with credential_sets the first satisfiable option of each
// set), the first stored credential that satisfies it, the claims the
// verifier asked for, and exactly what it will see. A query no
// credential satisfies fails with ErrUnsatisfiable naming, for each
// credential query, what is missing. A query that is not valid DCQL
// fails with ErrMalformed, one that uses what idmesh does not support
// (trusted_authorities) with ErrUnsupported.
func (w *Wallet) Plan(r *Request) (*Plan, error) {
	q, err := dcql.Parse(r.DCQLQuery)
	if err != nil {
		if errors.Is(err, dcql.ErrUnsupported) {
			return nil, fmt.Errorf("plan presentation: %w: dcql_query: %w", ErrUnsupported, err)
		}
		return nil, fmt.Errorf("plan presentation: %w: dcql_query: %w", ErrMalformed, err)
	}
	stored, err := w.List()
	if err != nil {
		return nil, fmt.Errorf("plan presentation: %w", err)
	}
	var cands []dcql.Candidate
	var held []candidate
	for _, c := range stored {
		cand, h, err := w.Candidate(c)
		if err != nil {
			continue // a format DCQL cannot ask for, or a damaged credential
		}
		cands = append(cands, cand)
		held = append(held, candidate{c: c, holder: h})
	}
	res, err := q.Match(cands)
	if err != nil {
		return nil, fmt.Errorf("plan presentation: %w: %w", ErrMalformed, err)
	}
	if !res.Satisfied {
		var why []string
		for _, id := range slices.Sorted(maps.Keys(res.Unsatisfied)) {
			why = append(why, fmt.Sprintf("%s: %s", clean(id), explain(res.Unsatisfied[id], held)))
		}
		return nil, fmt.Errorf("plan presentation: %w: %s", ErrUnsatisfiable, strings.Join(why, "; "))
	}
	p := &Plan{Verifier: r.DID, ClientID: r.ClientID, Name: r.Metadata.Name, ResponseURI: r.ResponseURI, ResponseMode: r.ResponseMode}
	for _, id := range res.Present {
		m := res.Credentials[id][0]
		cq := q.Credential(id)
		hc := held[m.Candidate]
		pl := Planned{Query: id, Credential: hc.c, bound: cq.RequireHolderBinding}
		if pl.bound && hc.holder == nil {
			return nil, fmt.Errorf("plan presentation: %s: %w: credential %s", clean(id), ErrNoHolderKey, hc.c.ID)
		}
		if hc.holder != nil {
			pl.holder = hc.holder
			pl.Holder = hc.holder.ID
		}
		for _, path := range m.Claims {
			pl.Requested = append(pl.Requested, path.String())
		}
		if err := pl.show(cands[m.Candidate], m); err != nil {
			return nil, fmt.Errorf("plan presentation: %s: %w", clean(id), err)
		}
		p.Credentials = append(p.Credentials, pl)
	}
	return p, nil
}

// explain rewrites dcql's reason, which names a candidate by index, to
// name the stored credential.
func explain(why string, held []candidate) string {
	if why == "no candidates" {
		return "the wallet holds no credential it can present over OpenID4VP"
	}
	var i int
	if _, err := fmt.Sscanf(why, "candidate %d:", &i); err == nil && i >= 0 && i < len(held) {
		if _, rest, ok := strings.Cut(why, ": "); ok {
			c := held[i].c
			return fmt.Sprintf("credential %s (%s, %s): %s", c.ID, clean(c.Format), clean(lastOf(c.Types)), clean(rest))
		}
	}
	return clean(why)
}

func lastOf(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return s[len(s)-1]
}

// show fills what the verifier will see of pl's credential.
func (pl *Planned) show(cand dcql.Candidate, m dcql.Match) error {
	switch pl.Credential.Format {
	case FormatJWTVCJSON:
		// The issuer's JWT goes as it is, inside the VP or alone: all
		// of its header and claims reach the verifier.
		header, claims, err := decodeJWT(pl.Credential.Raw)
		if err != nil {
			return err
		}
		pl.Shown, pl.Whole = map[string]any{"header": header, "payload": claims}, true
		return nil
	case FormatSDJWT:
	default:
		pl.Shown, pl.Whole = cand.Claims, true
		return nil
	}
	pl.pointers = m.Disclose
	if pl.pointers == nil {
		pl.pointers = []string{}
	}
	presented, err := PresentSDJWT(pl.Credential, pl.pointers, nil, Binding{})
	if err != nil {
		return err
	}
	shown, placed, err := sdClaims(presented)
	if err != nil {
		return err
	}
	pl.Shown = shown
	sort.Strings(placed)
	for _, ptr := range placed {
		pl.Disclosed = append(pl.Disclosed, Claim{Pointer: ptr, Value: valueAt(shown, ptr)})
	}
	return nil
}

// valueAt returns the value at a JSON pointer of v, nil if none.
func valueAt(v any, ptr string) any {
	for _, tok := range strings.Split(ptr, "/")[1:] {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := v.(type) {
		case map[string]any:
			v = c[tok]
		case []any:
			i := 0
			if _, err := fmt.Sscanf(tok, "%d", &i); err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

// Build makes the presentations of p for r at now: for dc+sd-jwt the
// SD-JWT with only the planned Disclosures and, when the query asks for
// holder binding or the wallet holds the key the credential is bound
// to, a key-binding JWT (aud the full client_id, nonce, iat, sd_hash);
// for jwt_vc_json a VP JWT, for ldp_vc a Data Integrity VP (challenge
// the nonce, domain the client_id), each signed by the holder key;
// without holder binding and without that key, the credential itself.
func (p *Plan) Build(ctx context.Context, r *Request, now time.Time) (VPToken, error) {
	b := Binding{Nonce: r.Nonce, Audience: r.ClientID, Now: now}
	token := VPToken{}
	for _, pl := range p.Credentials {
		var out any
		var err error
		c := pl.Credential
		switch {
		case c.Format == FormatSDJWT:
			out, err = PresentSDJWT(c, pl.pointers, pl.holder, b)
		case !pl.bound && pl.holder == nil:
			out = c.Raw
			if c.Format == FormatLDPVC {
				out = pl.Shown
			}
		case pl.holder == nil:
			err = fmt.Errorf("%w: credential %s", ErrNoHolderKey, c.ID)
		case c.Format == FormatJWTVCJSON:
			out, err = PresentJWTVC(c, *pl.holder, b)
		case c.Format == FormatLDPVC:
			out, err = PresentLDP(ctx, []Credential{c}, *pl.holder, b)
		default:
			err = fmt.Errorf("%w: format %s", ErrUnsupported, quote(c.Format))
		}
		if err != nil {
			return nil, fmt.Errorf("build presentation for %s: %w", clean(pl.Query), err)
		}
		token[pl.Query] = append(token[pl.Query], out)
	}
	return token, nil
}

// Present builds p's presentations (Plan.Build, at opts.Now) and posts
// them to r's response_uri (Respond).
func (p *Plan) Present(ctx context.Context, r *Request, opts Options) (*ResponseResult, error) {
	token, err := p.Build(ctx, r, opts.now())
	if err != nil {
		return nil, err
	}
	return Respond(ctx, r, token, opts)
}
