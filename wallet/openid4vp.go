package wallet

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did"
)

// OpenID for Verifiable Presentations 1.0 names.
const (
	// RequestURIScheme is the scheme of an authorization request for a
	// wallet that has no endpoint of its own (section 13.1.2 of
	// OpenID4VP names openid4vp://).
	RequestURIScheme = "openid4vp"
	// RequestObjectType is the typ of a signed request object (RFC 9101,
	// OpenID4VP section 5).
	RequestObjectType = "oauth-authz-req+jwt"
	// RequestObjectMediaType is the media type of a request object.
	RequestObjectMediaType = "application/oauth-authz-req+jwt"
	// ClientIDPrefixDID is the client identifier prefix of a verifier
	// identified by a DID (section 5.9.3).
	ClientIDPrefixDID = "decentralized_identifier:"
	// ResponseTypeVPToken is the only response type the wallet answers.
	ResponseTypeVPToken = "vp_token"
	// ResponseModeDirectPost posts the response as a form (section 8.2).
	ResponseModeDirectPost = "direct_post"
	// ResponseModeDirectPostJWT posts the response encrypted in a JWE
	// (section 8.3.1).
	ResponseModeDirectPostJWT = "direct_post.jwt"
	// SelfIssuedAudience is the aud of a request object for a wallet
	// under static discovery (section 5.8).
	SelfIssuedAudience = "https://self-issued.me/v2"
	// DefaultResponseEnc is the JWE enc of an encrypted response when
	// the verifier names none (section 8.3).
	DefaultResponseEnc = "A128GCM"
)

// Bounds of what the OpenID4VP parsers read.
const (
	// MaxRequestURIBytes bounds an authorization request URI.
	MaxRequestURIBytes = 8 << 10
	// MaxRequestObjectBytes bounds a request object.
	MaxRequestObjectBytes = 256 << 10
	// MaxRequestParamBytes bounds nonce and state.
	MaxRequestParamBytes = 512
	// MaxVerifierKeys bounds the keys of client_metadata.jwks.
	MaxVerifierKeys = 16
	// maxClientName bounds the client_name shown to the holder.
	maxClientName = 200
)

// Response encryption content algorithms the wallet can use.
var supportedEnc = []string{"A128GCM", "A256GCM"}

// RequestRef is a parsed authorization request URI: the verifier's
// client_id (empty when the URI was the request_uri alone) and the URL
// of its request object.
type RequestRef struct {
	ClientID   string
	RequestURI string
}

// ParseRequestURI parses an OpenID4VP authorization request passed by
// reference (RFC 9101 section 5.2): a URI (openid4vp://?..., or an https
// link to a wallet) whose query holds client_id and request_uri, each
// once, and optionally request_uri_method (get, or post, which the
// wallet answers with a GET as section 5.10 allows); or an http(s)
// request_uri alone. A request by value (request, or the request
// parameters themselves) fails with ErrUnsupported: the wallet only
// accepts signed request objects. At most MaxRequestURIBytes are read.
func ParseRequestURI(s string) (RequestRef, error) {
	if len(s) > MaxRequestURIBytes {
		return RequestRef{}, fmt.Errorf("parse request URI: %w: %d bytes, at most %d", ErrTooLarge, len(s), MaxRequestURIBytes)
	}
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil {
		return RequestRef{}, fmt.Errorf("parse request URI: %w: %w", ErrMalformed, bounded(err))
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return RequestRef{}, fmt.Errorf("parse request URI: %w: query: %w", ErrMalformed, bounded(err))
	}
	for name, v := range q {
		if len(v) > 1 {
			return RequestRef{}, fmt.Errorf("parse request URI: %w: %s is repeated", ErrMalformed, quote(name))
		}
	}
	if _, ok := q["request_uri"]; !ok {
		switch {
		case q.Has("request"):
			return RequestRef{}, fmt.Errorf("parse request URI: %w: a request object by value (request); the wallet fetches signed request objects by reference (request_uri)", ErrUnsupported)
		case q.Has("client_id") || q.Has("response_type") || q.Has("dcql_query"):
			return RequestRef{}, fmt.Errorf("parse request URI: %w: an unsigned request in query parameters; the wallet needs a signed request object by reference (request_uri)", ErrUnsupported)
		case (u.Scheme == "https" || u.Scheme == "http") && u.Host != "":
			if err := checkRequestURI(s); err != nil {
				return RequestRef{}, err
			}
			return RequestRef{RequestURI: s}, nil
		}
		return RequestRef{}, fmt.Errorf("parse request URI: %w: no request_uri", ErrMalformed)
	}
	ref := RequestRef{ClientID: q.Get("client_id"), RequestURI: q.Get("request_uri")}
	if ref.ClientID == "" {
		return RequestRef{}, fmt.Errorf("parse request URI: %w: client_id is missing or empty", ErrMalformed)
	}
	if q.Has("request") {
		return RequestRef{}, fmt.Errorf("parse request URI: %w: both request and request_uri", ErrMalformed)
	}
	switch m := q.Get("request_uri_method"); m {
	case "", "get", "post":
	default:
		return RequestRef{}, fmt.Errorf("parse request URI: %w: invalid_request_uri_method: request_uri_method %s is neither get nor post", ErrMalformed, quote(m))
	}
	if err := checkRequestURI(ref.RequestURI); err != nil {
		return RequestRef{}, err
	}
	return ref, nil
}

// checkRequestURI checks that a request_uri is an absolute http(s) URL
// with a host, no user information and no fragment.
func checkRequestURI(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" || strings.Contains(s, "#") {
		return fmt.Errorf("parse request URI: %w: request_uri %s is not an absolute https URL", ErrMalformed, quote(s))
	}
	return nil
}

// Request is a parsed request object: the authorization request of a
// verifier. ParseRequestObject fills it from the object's claims
// without checking the signature; VerifyRequestObject checks it.
type Request struct {
	// ClientID is the full client identifier, prefix included; the
	// audience of every presentation.
	ClientID string
	// DID is the verifier's DID (ClientID without its prefix).
	DID string
	// KeyID is the kid of the request object's header: a DID URL of DID.
	KeyID string
	// Alg is the request object's alg.
	Alg          string
	ResponseType string
	ResponseMode string
	ResponseURI  string
	Nonce        string
	// State is "" when the request has none.
	State string
	// IssuedAt and Expires are iat and exp, zero when absent.
	IssuedAt, Expires time.Time
	// DCQLQuery is the dcql_query object, re-encoded as JSON.
	DCQLQuery json.RawMessage
	// Metadata is what the wallet reads of client_metadata.
	Metadata ClientMetadata

	compact *jose.Compact
	// fromLoopback is set when the request came from a loopback
	// request_uri: only then may the response_uri be on loopback.
	fromLoopback bool
}

// ClientMetadata is what the wallet reads of a request's client_metadata
// (section 5.1 and 11.1): the rest is ignored, as the specification
// requires.
type ClientMetadata struct {
	// Name is client_name (RFC 7591), when present: what the verifier
	// calls itself, which nothing vouches for. Control characters and
	// names over 200 bytes are dropped.
	Name string
	// VPFormats is vp_formats_supported, as sent.
	VPFormats map[string]any
	// Keys are the keys of jwks, as sent (JWK objects).
	Keys []map[string]any
	// EncValues is encrypted_response_enc_values_supported; nil means
	// the default, A128GCM.
	EncValues []string
}

// urlSafe reports whether s holds only the ASCII URL-safe characters
// OpenID4VP allows in nonce and state (letters, digits, "-", ".", "_",
// "~").
func urlSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '.' && c != '_' && c != '~' {
			return false
		}
	}
	return true
}

// ParseRequestObject parses a request object (OpenID4VP section 5, RFC
// 9101) of at most MaxRequestObjectBytes without checking its
// signature: a compact JWS with typ oauth-authz-req+jwt and alg EdDSA,
// Ed25519 or ES256 (never none), a kid that is a DID URL of the
// client_id's DID, and claims:
//
//   - client_id with the prefix decentralized_identifier: and a DID
//     (other prefixes fail with ErrUnsupported);
//   - response_type vp_token; response_mode direct_post or
//     direct_post.jwt; response_uri an absolute http(s) URL; no
//     redirect_uri;
//   - nonce (required) and state (optional), URL-safe characters, at
//     most MaxRequestParamBytes;
//   - dcql_query an object (scope alone fails with ErrUnsupported);
//   - aud, when present, https://self-issued.me/v2 (static discovery);
//   - iat and exp, when present, numeric dates;
//   - client_metadata, when present, an object: jwks, at most
//     MaxVerifierKeys keys, needed for direct_post.jwt;
//     encrypted_response_enc_values_supported a non-empty array of
//     strings.
//
// transaction_data fails with ErrUnsupported (section 5.1 requires a
// wallet that does not support it to refuse the request); iss and
// unknown claims are ignored.
func ParseRequestObject(b []byte) (*Request, error) {
	if len(b) > MaxRequestObjectBytes {
		return nil, fmt.Errorf("parse request object: %w: %d bytes, at most %d", ErrTooLarge, len(b), MaxRequestObjectBytes)
	}
	s := strings.TrimSpace(string(b))
	if strings.Count(s, ".") == 4 {
		return nil, fmt.Errorf("parse request object: %w: an encrypted request object (JWE)", ErrUnsupported)
	}
	c, err := jose.ParseCompact(s, RequestObjectType, MaxRequestObjectBytes)
	if err != nil {
		return nil, fmt.Errorf("parse request object: %w: %w", ErrMalformed, bounded(err))
	}
	claims, err := c.Payload()
	if err != nil {
		return nil, fmt.Errorf("parse request object: %w: %w", ErrMalformed, bounded(err))
	}
	r := &Request{Alg: c.Alg, compact: c}
	wrap := func(err error) error { return fmt.Errorf("parse request object: %w", err) }
	if r.KeyID, err = reqString(c.Header, "kid"); err != nil {
		return nil, wrap(fmt.Errorf("header: %w", err))
	}
	if r.ClientID, err = reqString(claims, "client_id"); err != nil {
		return nil, wrap(err)
	}
	if r.DID, err = ClientDID(r.ClientID); err != nil {
		return nil, wrap(bounded(err))
	}
	ku, err := did.ParseURL(r.KeyID)
	if err != nil || ku.DID.String() != r.DID || ku.Fragment == "" || ku.Path != "" || ku.Query != "" {
		return nil, wrap(fmt.Errorf("%w: kid %s is not a DID URL of a verification method of %s", ErrUntrustedRequest, quote(r.KeyID), r.DID))
	}
	if r.ResponseType, err = reqString(claims, "response_type"); err != nil {
		return nil, wrap(err)
	}
	if r.ResponseType != ResponseTypeVPToken {
		return nil, wrap(fmt.Errorf("%w: response_type %s (only vp_token)", ErrUnsupported, quote(r.ResponseType)))
	}
	if r.ResponseMode, err = reqString(claims, "response_mode"); err != nil {
		return nil, wrap(err)
	}
	if r.ResponseMode != ResponseModeDirectPost && r.ResponseMode != ResponseModeDirectPostJWT {
		return nil, wrap(fmt.Errorf("%w: response_mode %s (only direct_post and direct_post.jwt)", ErrUnsupported, quote(r.ResponseMode)))
	}
	if _, ok := claims["redirect_uri"]; ok {
		return nil, wrap(fmt.Errorf("%w: redirect_uri must not be present with response_mode %s", ErrMalformed, r.ResponseMode))
	}
	if r.ResponseURI, err = endpoint(claims, "response_uri", true); err != nil {
		return nil, wrap(err)
	}
	if strings.Contains(r.ResponseURI, "#") {
		return nil, wrap(fmt.Errorf("%w: response_uri has a fragment", ErrMalformed))
	}
	if r.Nonce, err = reqString(claims, "nonce"); err != nil {
		return nil, wrap(err)
	}
	if r.State, err = optString(claims, "state"); err != nil {
		return nil, wrap(err)
	}
	for _, p := range []struct{ name, v string }{{"nonce", r.Nonce}, {"state", r.State}} {
		if len(p.v) > MaxRequestParamBytes || !urlSafe(p.v) {
			return nil, wrap(fmt.Errorf("%w: %s is over %d bytes or holds characters other than letters, digits, \"-._~\"", ErrMalformed, p.name, MaxRequestParamBytes))
		}
	}
	if r.Nonce == "" {
		return nil, wrap(fmt.Errorf("%w: empty nonce", ErrMalformed))
	}
	if _, ok := claims["transaction_data"]; ok {
		return nil, wrap(fmt.Errorf("%w: transaction_data", ErrUnsupported))
	}
	if err := checkAudience(claims["aud"]); err != nil {
		return nil, wrap(err)
	}
	if r.IssuedAt, err = numericDate(claims, "iat"); err != nil {
		return nil, wrap(err)
	}
	if r.Expires, err = numericDate(claims, "exp"); err != nil {
		return nil, wrap(err)
	}
	q, hasQuery := claims["dcql_query"]
	_, hasScope := claims["scope"]
	switch {
	case hasQuery && hasScope:
		return nil, wrap(fmt.Errorf("%w: both dcql_query and scope", ErrMalformed))
	case !hasQuery && hasScope:
		return nil, wrap(fmt.Errorf("%w: a query by scope; the wallet needs a dcql_query", ErrUnsupported))
	case !hasQuery:
		return nil, wrap(fmt.Errorf("%w: dcql_query is missing", ErrMalformed))
	}
	if _, ok := q.(map[string]any); !ok {
		return nil, wrap(fmt.Errorf("%w: dcql_query is not an object", ErrMalformed))
	}
	if r.DCQLQuery, err = json.Marshal(q); err != nil {
		return nil, wrap(err)
	}
	if r.Metadata, err = parseClientMetadata(claims); err != nil {
		return nil, wrap(err)
	}
	if r.ResponseMode == ResponseModeDirectPostJWT {
		if _, err := r.Metadata.encryptionKey(); err != nil {
			return nil, wrap(err)
		}
		if _, err := r.Metadata.enc(); err != nil {
			return nil, wrap(err)
		}
	}
	return r, nil
}

// ClientDID returns the DID of a client_id with the prefix
// decentralized_identifier:. Other prefixes fail with ErrUnsupported.
func ClientDID(clientID string) (string, error) {
	rest, ok := strings.CutPrefix(clientID, ClientIDPrefixDID)
	if !ok {
		prefix, _, found := strings.Cut(clientID, ":")
		if !found {
			return "", fmt.Errorf("%w: client_id %s has no client identifier prefix; the wallet only accepts verifiers identified by a DID (decentralized_identifier:)", ErrUnsupported, quote(clientID))
		}
		return "", fmt.Errorf("%w: client identifier prefix %s; the wallet only accepts verifiers identified by a DID (decentralized_identifier:)", ErrUnsupported, quote(prefix+":"))
	}
	d, err := did.Parse(rest)
	if err != nil {
		return "", fmt.Errorf("%w: client_id: %w", ErrMalformed, bounded(err))
	}
	return d.String(), nil
}

func checkAudience(v any) error {
	switch a := v.(type) {
	case nil:
		return nil
	case string:
		if a == SelfIssuedAudience {
			return nil
		}
	case []any:
		for _, x := range a {
			if x == SelfIssuedAudience {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: aud %s is not %s (the wallet has no issuer of its own)", ErrMalformed, quoteAny(v), SelfIssuedAudience)
}

// numericDate reads an optional NumericDate claim (whole or fractional
// seconds).
func numericDate(m map[string]any, name string) (time.Time, error) {
	v, ok := m[name]
	if !ok {
		return time.Time{}, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, fmt.Errorf("%w: %s is not a number", ErrMalformed, name)
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > 1<<40 {
		return time.Time{}, fmt.Errorf("%w: %s %s is not a NumericDate", ErrMalformed, name, quote(n.String()))
	}
	return time.Unix(int64(f), 0).UTC(), nil
}

func parseClientMetadata(claims map[string]any) (ClientMetadata, error) {
	var md ClientMetadata
	m, err := optObject(claims, "client_metadata")
	if err != nil || m == nil {
		return md, err
	}
	wrap := func(err error) error { return fmt.Errorf("client_metadata: %w", err) }
	if name, ok := m["client_name"].(string); ok && len(name) <= maxClientName && printable(name) {
		md.Name = name
	}
	if md.VPFormats, err = optObject(m, "vp_formats_supported"); err != nil {
		return md, wrap(err)
	}
	jwks, err := optObject(m, "jwks")
	if err != nil {
		return md, wrap(err)
	}
	if jwks != nil {
		keys, ok := jwks["keys"].([]any)
		if !ok {
			return md, wrap(fmt.Errorf("%w: jwks.keys is missing or not an array", ErrMalformed))
		}
		if len(keys) > MaxVerifierKeys {
			return md, wrap(fmt.Errorf("%w: %d keys in jwks, at most %d", ErrTooLarge, len(keys), MaxVerifierKeys))
		}
		for i, k := range keys {
			o, ok := k.(map[string]any)
			if !ok {
				return md, wrap(fmt.Errorf("%w: jwks.keys[%d] is not an object", ErrMalformed, i))
			}
			md.Keys = append(md.Keys, o)
		}
	}
	if md.EncValues, err = stringArray(m, "encrypted_response_enc_values_supported", false); err != nil {
		return md, wrap(err)
	}
	return md, nil
}

// printable reports whether s holds no control or format characters.
func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) || (r >= 0x2000 && r <= 0x206f && r != 0x2010 && r != 0x2013 && r != 0x2014) || r == 0xfeff {
			return false
		}
	}
	return true
}

// encryptionKey picks the key a direct_post.jwt response is encrypted
// to: the first key of jwks for encryption (use absent or "enc") with
// alg ECDH-ES on P-256 (kty EC, crv P-256).
func (md ClientMetadata) encryptionKey() (map[string]any, error) {
	for _, k := range md.Keys {
		if u, ok := k["use"]; ok && u != "enc" {
			continue
		}
		if k["alg"] == "ECDH-ES" && k["kty"] == "EC" && k["crv"] == "P-256" {
			return k, nil
		}
	}
	return nil, fmt.Errorf("%w: direct_post.jwt needs an ECDH-ES P-256 key for encryption in client_metadata.jwks, and there is none", ErrUnsupported)
}

// enc picks the content encryption of a direct_post.jwt response: the
// first value the verifier lists that the wallet supports (A128GCM,
// A256GCM), or A128GCM when it lists none.
func (md ClientMetadata) enc() (string, error) {
	if len(md.EncValues) == 0 {
		return DefaultResponseEnc, nil
	}
	for _, e := range md.EncValues {
		if containsString(supportedEnc, e) {
			return e, nil
		}
	}
	shown := make([]string, 0, 4)
	for i, e := range md.EncValues {
		if i == 4 {
			shown = append(shown, fmt.Sprintf("and %d more", len(md.EncValues)-i))
			break
		}
		shown = append(shown, quote(e))
	}
	return "", fmt.Errorf("%w: the verifier encrypts responses with [%s]; the wallet with %v", ErrUnsupported, strings.Join(shown, " "), supportedEnc)
}

// Errors of OpenID4VP requests.
var (
	// ErrUntrustedRequest reports a request object whose signature does
	// not verify with a key of the verifier's DID, or whose kid names
	// another DID's key.
	ErrUntrustedRequest = errors.New("wallet: request not signed by the verifier's DID")
	// ErrExpired reports a request object past its exp.
	ErrExpired = errors.New("wallet: request expired")
	// ErrUnsatisfiable reports a request no credential of the wallet
	// satisfies.
	ErrUnsatisfiable = errors.New("wallet: no credential satisfies the request")
)
