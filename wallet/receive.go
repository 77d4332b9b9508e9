package wallet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// DefaultTimeout bounds each HTTP exchange of Fetch and Redeem.
const DefaultTimeout = 30 * time.Second

// maxRedirects bounds the redirects an exchange follows (same origin
// only).
const maxRedirects = 3

// Options tune Fetch, Redeem and Receive. The zero value is usable.
type Options struct {
	// Client sends the requests. nil means a client over a clone of
	// http.DefaultTransport. Its redirect policy is replaced by the
	// wallet's (same scheme, host and port only; at most 3).
	Client *http.Client
	// Timeout bounds each HTTP exchange (DefaultTimeout when zero).
	Timeout time.Duration
	// ConfigurationID picks one of the offer's credential
	// configurations; "" takes the first.
	ConfigurationID string
	// Now is the clock of the proofs' iat (time.Now when nil).
	Now func() time.Time
}

// CheckURL applies the wallet's transport policy to a URL it is about
// to fetch: https, or http only when the host is a loopback address
// (127.0.0.0/8, ::1) or localhost; never the unspecified addresses
// (0.0.0.0, ::), which reach the local machine. Anything else fails
// with ErrInsecureURL.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInsecureURL, quote(raw), err)
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsUnspecified() {
		return fmt.Errorf("%w: %s: the unspecified address %s names no host (it reaches this machine)", ErrInsecureURL, quote(raw), ip)
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return fmt.Errorf("%w: %s has no host", ErrInsecureURL, quote(raw))
		}
		return nil
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); (ip != nil && ip.IsLoopback()) || h == "localhost" {
			return nil
		}
		return fmt.Errorf("%w: %s: http:// only on loopback addresses, https otherwise", ErrInsecureURL, quote(raw))
	}
	return fmt.Errorf("%w: %s is not an https URL", ErrInsecureURL, quote(raw))
}

// Session is an offer resolved against its issuer: the offer, the
// issuer's metadata, its authorization server's metadata and the
// configuration to request. Fetch makes one; Redeem uses it once.
type Session struct {
	Offer           *Offer
	Issuer          *IssuerMetadata
	AuthServer      *AuthServerMetadata
	ConfigurationID string
	Configuration   Configuration

	hc   *httpClient
	opts Options
}

// Fetch resolves offerURI: it parses it (fetching an offer by
// reference), fetches the Credential Issuer metadata (the well-known
// path inserted before the identifier's path, section 12.2.2; appended
// after it, as drafts did, if that answers 404) and the authorization
// server's metadata (RFC 8414, the issuer itself unless the metadata
// names authorization_servers), and picks the configuration. Only the
// pre-authorized code grant is supported (else ErrUnsupported), and
// formats dc+sd-jwt, jwt_vc_json and ldp_vc with jwt proofs.
func Fetch(ctx context.Context, offerURI string, opts Options) (*Session, error) {
	hc := newHTTPClient(opts)
	ref, err := ParseOfferURI(offerURI)
	if err != nil {
		return nil, err
	}
	offer := ref.Offer
	if offer == nil {
		b, err := hc.get(ctx, ref.URI, MaxOfferBytes, "offer")
		if err != nil {
			return nil, fmt.Errorf("fetch offer: %w", err)
		}
		if offer, err = ParseOffer(b); err != nil {
			return nil, err
		}
	}
	if offer.PreAuthorized == nil {
		return nil, fmt.Errorf("fetch offer: %w: the offer has no pre-authorized code grant (the authorization code flow is not supported)", ErrUnsupported)
	}
	s := &Session{Offer: offer, hc: hc, opts: opts}
	if s.Issuer, err = s.issuerMetadata(ctx); err != nil {
		return nil, err
	}
	s.ConfigurationID = opts.ConfigurationID
	if s.ConfigurationID == "" {
		s.ConfigurationID = offer.CredentialConfigurationIDs[0]
	} else if !containsString(offer.CredentialConfigurationIDs, s.ConfigurationID) {
		return nil, fmt.Errorf("fetch offer: %w: the offer does not offer %q (it offers %v)", ErrNotFound, s.ConfigurationID, offer.CredentialConfigurationIDs)
	}
	cfg, ok := s.Issuer.Configurations[s.ConfigurationID]
	if !ok {
		return nil, fmt.Errorf("fetch offer: %w: the issuer's metadata has no configuration %q", ErrMalformed, s.ConfigurationID)
	}
	s.Configuration = cfg
	if _, err := storedFormat(cfg.Format); err != nil {
		return nil, fmt.Errorf("fetch offer: %w", err)
	}
	if len(cfg.ProofTypes) > 0 && cfg.ProofAlgs == nil {
		return nil, fmt.Errorf("fetch offer: %w: the issuer wants proofs of type %v, and the wallet makes jwt proofs", ErrUnsupported, cfg.ProofTypes)
	}
	if cfg.KeyAttestationsRequired {
		return nil, fmt.Errorf("fetch offer: %w: the issuer requires key attestations", ErrUnsupported)
	}
	if s.AuthServer, err = s.authServerMetadata(ctx); err != nil {
		return nil, err
	}
	if err := s.checkEndpoints(); err != nil {
		return nil, err
	}
	return s, nil
}

// checkEndpoints holds the endpoints the wallet will POST to (with the
// access token and the proof) to the parties that announced them: the
// credential and nonce endpoints on the Credential Issuer's origin, the
// token endpoint on its authorization server's; and no endpoint, nor an
// authorization server, on a loopback host unless the Credential Issuer
// itself is on one. Otherwise a remote issuer's metadata could make the
// wallet send requests into the holder's own machine.
func (s *Session) checkEndpoints() error {
	iss := s.Offer.CredentialIssuer
	for _, e := range []struct{ name, u, owner string }{
		{"credential_endpoint", s.Issuer.CredentialEndpoint, iss},
		{"nonce_endpoint", s.Issuer.NonceEndpoint, iss},
		{"deferred_credential_endpoint", s.Issuer.DeferredCredentialEndpoint, iss},
		{"token_endpoint", s.AuthServer.TokenEndpoint, s.AuthServer.Issuer},
		{"authorization server", s.AuthServer.Issuer, s.AuthServer.Issuer},
	} {
		if e.u == "" {
			continue
		}
		if !sameOrigin(e.u, e.owner) {
			return fmt.Errorf("fetch offer: %w: %s %q is not on the origin of %q, which announced it", ErrMalformed, e.name, e.u, e.owner)
		}
		if onLoopback(e.u) && !onLoopback(iss) {
			return fmt.Errorf("fetch offer: %w: %s %q is on a loopback host, and the issuer %q is not", ErrInsecureURL, e.name, e.u, iss)
		}
	}
	return nil
}

// sameOrigin reports whether URLs a and b share scheme, host and port.
func sameOrigin(a, b string) bool {
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	return errA == nil && errB == nil && strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host)
}

// onLoopback reports whether u's host is a loopback address or
// localhost.
func onLoopback(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	h := p.Hostname()
	ip := net.ParseIP(h)
	return (ip != nil && ip.IsLoopback()) || strings.EqualFold(h, "localhost")
}

// storedFormat maps a configuration's format to the format the wallet
// stores its credentials under.
func storedFormat(f string) (string, error) {
	switch f {
	case FormatSDJWT, "vc+sd-jwt":
		return FormatSDJWT, nil
	case FormatJWTVCJSON, "jwt_vc_json-ld":
		return FormatJWTVCJSON, nil
	case FormatLDPVC:
		return FormatLDPVC, nil
	}
	return "", fmt.Errorf("%w: credential format %q", ErrUnsupported, f)
}

func (s *Session) issuerMetadata(ctx context.Context) (*IssuerMetadata, error) {
	iss := s.Offer.CredentialIssuer
	u, err := WellKnownURL(iss, IssuerMetadataPath)
	if err != nil {
		return nil, fmt.Errorf("fetch issuer metadata: %w", err)
	}
	b, err := s.hc.get(ctx, u, MaxMetadataBytes, "metadata")
	var pe *ProtocolError
	if errors.As(err, &pe) && pe.Status == http.StatusNotFound && strings.TrimSuffix(iss, "/") != u[:strings.Index(u, IssuerMetadataPath)] {
		b, err = s.hc.get(ctx, strings.TrimSuffix(iss, "/")+IssuerMetadataPath, MaxMetadataBytes, "metadata")
	}
	if err != nil {
		return nil, fmt.Errorf("fetch issuer metadata: %w", err)
	}
	return ParseIssuerMetadata(b, iss)
}

func (s *Session) authServerMetadata(ctx context.Context) (*AuthServerMetadata, error) {
	as := s.Offer.CredentialIssuer
	if list := s.Issuer.AuthorizationServers; len(list) > 0 {
		as = list[0]
		if want := s.Offer.PreAuthorized.AuthorizationServer; want != "" {
			if !containsString(list, want) {
				return nil, fmt.Errorf("fetch authorization server metadata: %w: the offer's authorization_server %q is not among the issuer's %v", ErrMalformed, want, list)
			}
			as = want
		}
	}
	u, err := WellKnownURL(as, AuthServerMetadataPath)
	if err != nil {
		return nil, fmt.Errorf("fetch authorization server metadata: %w", err)
	}
	b, err := s.hc.get(ctx, u, MaxMetadataBytes, "metadata")
	var pe *ProtocolError
	if errors.As(err, &pe) && pe.Status == http.StatusNotFound {
		// OpenID Connect Discovery's location, which some issuers use.
		b, err = s.hc.get(ctx, strings.TrimSuffix(as, "/")+"/.well-known/openid-configuration", MaxMetadataBytes, "metadata")
	}
	if err != nil {
		return nil, fmt.Errorf("fetch authorization server metadata: %w", err)
	}
	return ParseAuthServerMetadata(b, as)
}

// Redeem runs the pre-authorized code flow of the session: the token
// request (with txCode when the offer asks for one, and only then), a
// fresh c_nonce from the nonce endpoint if the issuer has one, a proof
// by h (when the configuration asks for proofs; see ProofBinding and
// BuildProof) and the credential request, retried once with a new
// nonce if the issuer answers invalid_nonce. Errors the issuer answers
// are *ProtocolError with the specification's error code. The
// credentials are returned described (see Detect), not stored, and not
// verified; one that is not of the configuration's format, or an
// SD-JWT bound to a key other than h's, is refused with ErrMalformed.
func (s *Session) Redeem(ctx context.Context, h HolderKey, txCode string) ([]Credential, error) {
	pre := s.Offer.PreAuthorized
	if pre.TxCode != nil {
		if err := pre.TxCode.CheckTxCode(txCode); err != nil {
			return nil, fmt.Errorf("redeem offer: %w", err)
		}
	} else if txCode != "" {
		return nil, fmt.Errorf("redeem offer: %w: the offer asks for no transaction code", ErrMalformed)
	}
	needProof := len(s.Configuration.ProofTypes) > 0
	var alg string
	var byKID bool
	if needProof {
		if h.Key.Type() == "" {
			return nil, fmt.Errorf("redeem offer: %w", ErrNoHolderKey)
		}
		var err error
		if alg, err = ProofAlg(h, s.Configuration.ProofAlgs); err != nil {
			return nil, fmt.Errorf("redeem offer: %w", err)
		}
		if byKID, err = ProofBinding(h, s.Configuration.BindingMethods); err != nil {
			return nil, fmt.Errorf("redeem offer: %w", err)
		}
	}
	form := TokenRequest(pre.Code, txCode)
	b, _, err := s.hc.post(ctx, s.AuthServer.TokenEndpoint, "application/x-www-form-urlencoded", []byte(form.Encode()), "", MaxSmallResponseBytes, "token")
	if err != nil {
		return nil, fmt.Errorf("redeem offer: %w", err)
	}
	tok, err := ParseTokenResponse(b)
	if err != nil {
		return nil, fmt.Errorf("redeem offer: %w", err)
	}
	now := s.opts.Now
	if now == nil {
		now = time.Now
	}
	request := func() ([]byte, int, error) {
		var proofs []string
		if needProof {
			nonce := ""
			if s.Issuer.NonceEndpoint != "" {
				nb, _, err := s.hc.post(ctx, s.Issuer.NonceEndpoint, "", nil, "", MaxSmallResponseBytes, "nonce")
				if err != nil {
					return nil, 0, err
				}
				if nonce, err = ParseNonceResponse(nb); err != nil {
					return nil, 0, err
				}
			}
			p, err := BuildProof(h, alg, s.Offer.CredentialIssuer, nonce, now(), byKID)
			if err != nil {
				return nil, 0, err
			}
			proofs = []string{p}
		}
		return s.hc.post(ctx, s.Issuer.CredentialEndpoint, "application/json", CredentialRequest(s.ConfigurationID, proofs), tok.AccessToken, MaxCredentialResponseBytes, "credential")
	}
	b, status, err := request()
	var pe *ProtocolError
	if errors.As(err, &pe) && pe.Code == "invalid_nonce" && needProof && s.Issuer.NonceEndpoint != "" {
		b, status, err = request()
	}
	if err != nil {
		return nil, fmt.Errorf("redeem offer: %w", err)
	}
	if status == http.StatusAccepted && !bytes.Contains(b, []byte(`"credentials"`)) {
		return nil, fmt.Errorf("redeem offer: %w: deferred issuance (HTTP 202)", ErrUnsupported)
	}
	resp, err := ParseCredentialResponse(b)
	if err != nil {
		return nil, fmt.Errorf("redeem offer: %w", err)
	}
	want, _ := storedFormat(s.Configuration.Format)
	out := make([]Credential, 0, len(resp.Credentials))
	for i, raw := range resp.Credentials {
		c, err := Detect([]byte(raw))
		if err != nil {
			return nil, fmt.Errorf("redeem offer: credential %d: %w", i, err)
		}
		if c.Format != want {
			return nil, fmt.Errorf("redeem offer: credential %d: %w: a %s credential for a %s configuration", i, ErrMalformed, c.Format, s.Configuration.Format)
		}
		if needProof && c.Format == FormatSDJWT {
			if err := checkCnf(c, h); err != nil {
				return nil, fmt.Errorf("redeem offer: credential %d: %w", i, err)
			}
		}
		c.Source = s.Offer.CredentialIssuer
		c.ConfigurationID = s.ConfigurationID
		if needProof {
			c.Holder = h.ID
		}
		out = append(out, c)
	}
	return out, nil
}

// checkCnf checks that an SD-JWT VC's cnf, when it has one, names h:
// its jwk is h's public key, or its kid h's ID.
func checkCnf(c Credential, h HolderKey) error {
	sd := strings.SplitN(c.Raw, "~", 2)[0]
	_, claims, err := decodeJWT(sd)
	if err != nil {
		return err
	}
	cnf, ok := claims["cnf"].(map[string]any)
	if !ok {
		return nil
	}
	if j, ok := cnf["jwk"].(map[string]any); ok {
		if !jwkMatches(j, h) {
			return fmt.Errorf("%w: the credential is bound (cnf.jwk) to a key other than the holder's", ErrMalformed)
		}
		return nil
	}
	if kid, ok := cnf["kid"].(string); ok && kid != h.ID {
		return fmt.Errorf("%w: the credential is bound (cnf.kid) to %q, not the holder's %q", ErrMalformed, kid, h.ID)
	}
	return nil
}

// Receive is Fetch then Redeem: the whole pre-authorized code flow.
func Receive(ctx context.Context, offerURI string, h HolderKey, txCode string, opts Options) ([]Credential, error) {
	s, err := Fetch(ctx, offerURI, opts)
	if err != nil {
		return nil, err
	}
	return s.Redeem(ctx, h, txCode)
}

// httpClient sends the wallet's requests under its transport policy.
type httpClient struct {
	c       *http.Client
	timeout time.Duration
}

func newHTTPClient(o Options) *httpClient {
	c := &http.Client{}
	if o.Client != nil {
		cp := *o.Client
		c = &cp
	} else {
		c.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("%w: more than %d redirects", ErrInsecureURL, maxRedirects)
		}
		first := via[0].URL
		if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
			return fmt.Errorf("%w: redirect from %s://%s to another host, %s://%s", ErrInsecureURL, first.Scheme, first.Host, req.URL.Scheme, req.URL.Host)
		}
		return CheckURL(req.URL.String())
	}
	t := o.Timeout
	if t <= 0 {
		t = DefaultTimeout
	}
	c.Timeout = t
	return &httpClient{c: c, timeout: t}
}

func (hc *httpClient) get(ctx context.Context, u string, limit int, endpoint string) ([]byte, error) {
	b, _, err := hc.do(ctx, http.MethodGet, u, "application/json", "", nil, "", limit, endpoint)
	return b, err
}

func (hc *httpClient) post(ctx context.Context, u, contentType string, body []byte, bearer string, limit int, endpoint string) ([]byte, int, error) {
	return hc.do(ctx, http.MethodPost, u, "application/json", contentType, body, bearer, limit, endpoint)
}

var wwwAuthError = regexp.MustCompile(`error="([\x20-\x21\x23-\x5b\x5d-\x7e]{1,128})"`)

// do sends one request and returns the body of a 2xx answer, at most
// limit bytes; other answers are *ProtocolError.
func (hc *httpClient) do(ctx context.Context, method, u, accept, contentType string, body []byte, bearer string, limit int, endpoint string) ([]byte, int, error) {
	if err := CheckURL(u); err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, hc.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, 0, fmt.Errorf("%s request: %w", endpoint, bounded(err))
	}
	req.Header.Set("Accept", accept)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := hc.c.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%s request: %w", endpoint, bounded(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("%s response: %w", endpoint, err)
	}
	if len(b) > limit {
		return nil, resp.StatusCode, fmt.Errorf("%s response: %w: over %d bytes", endpoint, ErrTooLarge, limit)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		pe := ParseErrorResponse(endpoint, resp.StatusCode, b)
		if pe.Code == "" {
			if m := wwwAuthError.FindStringSubmatch(resp.Header.Get("WWW-Authenticate")); m != nil {
				pe.Code = m[1]
			}
		}
		return nil, resp.StatusCode, pe
	}
	return b, resp.StatusCode, nil
}
