package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/didkeys"
	"github.com/idmesh/idmesh/did"
)

// Endpoints of a verifier, as a ProtocolError names them.
const (
	EndpointRequestObject = "request object"
	EndpointResponse      = "response"
)

// RequestSkew is how far past its exp a request object is still taken,
// and how far in the future its iat may be, for clocks that differ.
const RequestSkew = 30 * time.Second

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// newVPClient is the wallet's client for a verifier: the transport
// policy of CheckURL, every address it connects to checked by
// verifierDialPolicy (loopback only when fromLoopback, else public
// addresses only), no proxy, and no redirects at all (OpenID4VP section
// 14.6: the wallet should treat a redirect as an error).
func newVPClient(o Options, fromLoopback bool) *httpClient {
	hc := newHTTPClient(o)
	hc.c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		return fmt.Errorf("%w: the verifier answered with a redirect to %s, which the wallet does not follow", ErrInsecureURL, quote(req.URL.Scheme+"://"+req.URL.Host))
	}
	guardTransport(hc, fromLoopback)
	return hc
}

// FetchRequest resolves an authorization request URI (see
// ParseRequestURI): it fetches the request object from request_uri
// (GET, Accept application/oauth-authz-req+jwt, at most
// MaxRequestObjectBytes, within opts.Timeout, no redirects) and checks
// it with VerifyRequestObject at opts.Now. resolver resolves the
// verifier's DID. The request_uri must pass the verifier URL policy
// (see VerifyRequestObject): a loopback request_uri is allowed, for
// local testing, but no other non-public address, and a host name must
// resolve to a public address.
func FetchRequest(ctx context.Context, requestURI string, resolver did.Resolver, opts Options) (*Request, error) {
	ref, err := ParseRequestURI(requestURI)
	if err != nil {
		return nil, err
	}
	fromLoopback := onLoopback(ref.RequestURI)
	if err := checkVerifierURL(ref.RequestURI, fromLoopback); err != nil {
		return nil, fmt.Errorf("fetch request object: request_uri: %w", err)
	}
	hc := newVPClient(opts, fromLoopback)
	b, _, err := hc.do(ctx, http.MethodGet, ref.RequestURI, RequestObjectMediaType, "", nil, "", MaxRequestObjectBytes, EndpointRequestObject)
	if err != nil {
		return nil, fmt.Errorf("fetch request object: %w", err)
	}
	return VerifyRequestObject(ctx, b, ref, resolver, opts.now())
}

// VerifyRequestObject parses a request object (ParseRequestObject) and
// checks it:
//
//   - its client_id is the request URI's (ref.ClientID, when set),
//     prefix included;
//   - it has not expired at now (exp, with RequestSkew), nor was it
//     issued after now (iat);
//   - its kid, a DID URL of the client_id's DID, resolves through
//     resolver to a verification method of that DID's current document
//     that is authorized for authentication or assertionMethod (DID
//     Core's relationships for a party proving who it is; OpenID4VP
//     only requires a key of the DID), listed in the current document
//     (a method the DID removed is refused as retired), not marked
//     compromised (when resolver is also a didkeys.Index, or a
//     did.Methods whose did:idmesh resolver is one),
//     whose key verifies the signature with the header's alg (which must
//     fit the key: EdDSA or Ed25519 for Ed25519, ES256 for P-256);
//   - its response_uri passes CheckURL and the verifier URL policy: a
//     host that is an address literal is a public address, or a
//     loopback address (or localhost) only when ref.RequestURI is on
//     loopback too; the unspecified (0.0.0.0, ::), private, link-local
//     and other special-purpose addresses are refused. Respond applies
//     the same rule to the addresses a host name resolves to.
//
// Every value of the object that an error names is quoted and cut at
// 128 bytes.
//
// Failures of the signature and the key wrap ErrUntrustedRequest;
// expiry wraps ErrExpired.
func VerifyRequestObject(ctx context.Context, b []byte, ref RequestRef, resolver did.Resolver, now time.Time) (*Request, error) {
	r, err := ParseRequestObject(b)
	if err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("verify request object: %w", err) }
	if ref.ClientID != "" && r.ClientID != ref.ClientID {
		return nil, wrap(fmt.Errorf("%w: the request object's client_id %s is not the request URI's %s", ErrUntrustedRequest, quote(r.ClientID), quote(ref.ClientID)))
	}
	if !r.Expires.IsZero() && !now.Before(r.Expires.Add(RequestSkew)) {
		return nil, wrap(fmt.Errorf("%w: at %s (exp)", ErrExpired, r.Expires.Format(time.RFC3339)))
	}
	if !r.IssuedAt.IsZero() && r.IssuedAt.After(now.Add(RequestSkew)) {
		return nil, wrap(fmt.Errorf("%w: issued in the future, at %s (iat)", ErrMalformed, r.IssuedAt.Format(time.RFC3339)))
	}
	r.fromLoopback = ref.RequestURI != "" && onLoopback(ref.RequestURI)
	if err := checkVerifierURL(r.ResponseURI, r.fromLoopback); err != nil {
		return nil, wrap(fmt.Errorf("response_uri: %w", err))
	}
	if resolver == nil {
		return nil, wrap(fmt.Errorf("%w: no DID resolver", ErrUntrustedRequest))
	}
	// A request is fresh: only the DID's current keys sign one, as
	// only current keys authenticate (a removed key is refused as
	// retired, or as compromised when it is marked so). Key status comes
	// from resolver when it is a key history (didkeys.Index).
	keys := didkeys.DIDKeys{Resolver: resolver, CurrentOnly: true}
	vk, err := keys.ResolveKey(ctx, r.KeyID, credential.PurposeAuthentication)
	if errors.Is(err, credential.ErrKeyNotAuthorized) {
		vk, err = keys.ResolveKey(ctx, r.KeyID, credential.PurposeAssertion)
	}
	if err != nil {
		return nil, wrap(fmt.Errorf("%w: key %s: %w", ErrUntrustedRequest, quote(r.KeyID), bounded(err)))
	}
	switch {
	case vk.Controller != "" && vk.Controller != r.DID:
		return nil, wrap(fmt.Errorf("%w: key %s is controlled by %s, not by %s", ErrUntrustedRequest, quote(r.KeyID), quote(vk.Controller), quote(r.DID)))
	case vk.Compromised:
		return nil, wrap(fmt.Errorf("%w: key %s is marked compromised", ErrUntrustedRequest, quote(r.KeyID)))
	case !vk.RetiredAt.IsZero():
		return nil, wrap(fmt.Errorf("%w: key %s was retired at %s", ErrUntrustedRequest, quote(r.KeyID), vk.RetiredAt.Format(time.RFC3339)))
	}
	if _, err := r.compact.Verify(vk.Public); err != nil {
		return nil, wrap(fmt.Errorf("%w: signature: %w", ErrUntrustedRequest, bounded(err)))
	}
	return r, nil
}

// VPToken is the vp_token of a response: for each credential query's
// id, its presentations (compact strings or JSON objects).
type VPToken map[string][]any

// ResponseResult is the verifier's answer to a response.
type ResponseResult struct {
	// RedirectURI is where the verifier asks the holder's user agent to
	// go next, "" if nowhere.
	RedirectURI string `json:"redirect_uri,omitempty"`
}

// Respond posts the authorization response to r.ResponseURI (section
// 8.2): direct_post sends the form fields vp_token (the JSON of token)
// and state (when the request had one); direct_post.jwt sends the form
// field response holding a JWE (EncryptResponse) whose payload holds
// vp_token and state. The answer must be 2xx with at most
// MaxSmallResponseBytes of JSON; an OAuth error answer is a
// *ProtocolError of endpoint "response". No redirect is followed.
func Respond(ctx context.Context, r *Request, token VPToken, opts Options) (*ResponseResult, error) {
	if len(token) == 0 {
		return nil, fmt.Errorf("post response: %w: an empty vp_token", ErrMalformed)
	}
	form := url.Values{}
	switch r.ResponseMode {
	case ResponseModeDirectPost:
		b, err := json.Marshal(token)
		if err != nil {
			return nil, fmt.Errorf("post response: %w", err)
		}
		form.Set("vp_token", string(b))
		if r.State != "" {
			form.Set("state", r.State)
		}
	case ResponseModeDirectPostJWT:
		payload := map[string]any{"vp_token": token}
		if r.State != "" {
			payload["state"] = r.State
		}
		b, err := json.Marshal(payload)
		if err != nil {
			return nil, fmt.Errorf("post response: %w", err)
		}
		jwe, err := EncryptResponse(b, r.Metadata)
		if err != nil {
			return nil, fmt.Errorf("post response: %w", err)
		}
		form.Set("response", jwe)
	default:
		return nil, fmt.Errorf("post response: %w: response_mode %s", ErrUnsupported, quote(r.ResponseMode))
	}
	return postResponse(ctx, r, form, opts)
}

// Decline posts an error response (section 8.5) to r.ResponseURI:
// error (access_denied when code is ""), error_description when not
// empty, and state. It is sent unencrypted, as section 8.3.1 allows.
func Decline(ctx context.Context, r *Request, code, description string, opts Options) (*ResponseResult, error) {
	if code == "" {
		code = "access_denied"
	}
	form := url.Values{"error": {code}}
	if description != "" {
		form.Set("error_description", description)
	}
	if r.State != "" {
		form.Set("state", r.State)
	}
	return postResponse(ctx, r, form, opts)
}

func postResponse(ctx context.Context, r *Request, form url.Values, opts Options) (*ResponseResult, error) {
	if err := checkVerifierURL(r.ResponseURI, r.fromLoopback); err != nil {
		return nil, fmt.Errorf("post response: %w", err)
	}
	hc := newVPClient(opts, r.fromLoopback)
	b, _, err := hc.do(ctx, http.MethodPost, r.ResponseURI, "application/json", "application/x-www-form-urlencoded", []byte(form.Encode()), "", MaxSmallResponseBytes, EndpointResponse)
	if err != nil {
		return nil, fmt.Errorf("post response: %w", err)
	}
	return ParseResponseResult(b)
}

// ParseResponseResult parses the verifier's answer to a response: a
// JSON object of at most MaxSmallResponseBytes (an empty body counts as
// {}), whose redirect_uri, when present, must be an absolute http(s)
// URL. Other members are ignored.
func ParseResponseResult(b []byte) (*ResponseResult, error) {
	if len(strings.TrimSpace(string(b))) == 0 {
		return &ResponseResult{}, nil
	}
	m, err := object(b, MaxSmallResponseBytes, "verifier answer")
	if err != nil {
		return nil, err
	}
	res := &ResponseResult{}
	if res.RedirectURI, err = endpoint(m, "redirect_uri", false); err != nil {
		return nil, fmt.Errorf("parse verifier answer: %w", err)
	}
	return res, nil
}

// EncryptResponse encrypts payload for a direct_post.jwt response
// (section 8.3): a compact JWE with alg ECDH-ES to the verifier's first
// ECDH-ES P-256 encryption key of md.Keys, its kid in the header when
// the key has one, and enc the first of md.EncValues that the wallet
// supports (A128GCM or A256GCM; A128GCM when it lists none).
func EncryptResponse(payload []byte, md ClientMetadata) (string, error) {
	k, err := md.encryptionKey()
	if err != nil {
		return "", err
	}
	enc, err := md.enc()
	if err != nil {
		return "", err
	}
	pub := make(map[string]any, len(k))
	for name, v := range k {
		switch name {
		case "kty", "crv", "x", "y", "kid", "alg", "use":
			pub[name] = v
		}
	}
	kb, err := json.Marshal(pub)
	if err != nil {
		return "", fmt.Errorf("encrypt response: %w", err)
	}
	key, err := jwk.ParseKey(kb)
	if err != nil {
		return "", fmt.Errorf("encrypt response: %w: the verifier's key: %w", ErrMalformed, err)
	}
	if _, ok := key.(jwk.ECDSAPublicKey); !ok {
		return "", fmt.Errorf("encrypt response: %w: the verifier's key is not an EC public key", ErrMalformed)
	}
	ce, ok := jwa.LookupContentEncryptionAlgorithm(enc)
	if !ok {
		return "", fmt.Errorf("encrypt response: %w: enc %q", ErrUnsupported, enc)
	}
	hdr := jwe.NewHeaders()
	if kid, ok := k["kid"].(string); ok && kid != "" {
		if err := hdr.Set(jwe.KeyIDKey, kid); err != nil {
			return "", fmt.Errorf("encrypt response: %w", err)
		}
	}
	out, err := jwe.Encrypt(payload, jwe.WithKey(jwa.ECDH_ES(), key), jwe.WithContentEncryption(ce), jwe.WithProtectedHeaders(hdr), jwe.WithCompact())
	if err != nil {
		return "", fmt.Errorf("encrypt response: %w", err)
	}
	return string(out), nil
}
