package wallet

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/idmesh/idmesh/did/strictjson"
)

// OpenID for Verifiable Credential Issuance 1.0 names.
const (
	// OfferScheme is the URI scheme of a Wallet's Credential Offer
	// Endpoint when it has none of its own (section 4.1).
	OfferScheme = "openid-credential-offer"
	// GrantPreAuthorizedCode is the Pre-Authorized Code grant type.
	GrantPreAuthorizedCode = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
	// GrantAuthorizationCode is the Authorization Code grant type.
	GrantAuthorizationCode = "authorization_code"
	// ProofType is the typ of a key proof JWT (section F.1).
	ProofType = "openid4vci-proof+jwt"
	// IssuerMetadataPath is the well-known path of Credential Issuer
	// metadata (section 12.2.2).
	IssuerMetadataPath = "/.well-known/openid-credential-issuer"
	// AuthServerMetadataPath is the well-known path of OAuth 2.0
	// Authorization Server metadata (RFC 8414 section 3).
	AuthServerMetadataPath = "/.well-known/oauth-authorization-server"
)

// Bounds of what the OpenID4VCI parsers read.
const (
	// MaxOfferBytes bounds an offer URI and an offer object.
	MaxOfferBytes = 64 << 10
	// MaxMetadataBytes bounds a metadata document.
	MaxMetadataBytes = 1 << 20
	// MaxSmallResponseBytes bounds token, nonce and error responses.
	MaxSmallResponseBytes = 64 << 10
	// MaxCredentialResponseBytes bounds a credential response.
	MaxCredentialResponseBytes = 4 << 20
	// MaxConfigurations bounds the credential configurations of a
	// metadata document and the IDs of an offer.
	MaxConfigurations = 1024
	// MaxCredentials bounds the credentials of one response.
	MaxCredentials = 16
	// maxTxCodeDescription is the longest tx_code description (300
	// characters, section 4.1.1).
	maxTxCodeDescription = 300
	// maxTxCodeLength bounds tx_code.length and a transaction code.
	maxTxCodeLength = 256
)

// Offer is a Credential Offer object (section 4.1.1).
type Offer struct {
	CredentialIssuer           string   `json:"credential_issuer"`
	CredentialConfigurationIDs []string `json:"credential_configuration_ids"`
	// PreAuthorized is the pre-authorized code grant, nil if not offered.
	PreAuthorized *PreAuthorizedGrant `json:"-"`
	// AuthorizationCode is set when the authorization code grant is
	// offered (which this wallet does not do).
	AuthorizationCode bool `json:"-"`
}

// PreAuthorizedGrant is the urn:ietf:params:oauth:grant-type:pre-authorized_code grant of an offer.
type PreAuthorizedGrant struct {
	Code string
	// TxCode is non-nil when a transaction code is required.
	TxCode *TxCode
	// AuthorizationServer names one of the issuer's authorization_servers.
	AuthorizationServer string
}

// TxCode describes the transaction code an offer requires.
type TxCode struct {
	// InputMode is "numeric" (the default) or "text".
	InputMode   string `json:"input_mode"`
	Length      int    `json:"length,omitempty"`
	Description string `json:"description,omitempty"`
}

// OfferRef is a parsed offer URI: an offer by value, or the https URL
// of one by reference.
type OfferRef struct {
	Offer *Offer
	URI   string
}

// ParseOfferURI parses a Credential Offer URI (section 4.1): any URI,
// typically openid-credential-offer://?..., whose query holds exactly
// one credential_offer (the offer object, by value) or
// credential_offer_uri (an http(s) URL of it, by reference) parameter,
// once. At most MaxOfferBytes are read.
func ParseOfferURI(s string) (OfferRef, error) {
	if len(s) > MaxOfferBytes {
		return OfferRef{}, fmt.Errorf("parse offer URI: %w: %d bytes, at most %d", ErrTooLarge, len(s), MaxOfferBytes)
	}
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return OfferRef{}, fmt.Errorf("parse offer URI: %w: %w", ErrMalformed, err)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return OfferRef{}, fmt.Errorf("parse offer URI: %w: query: %w", ErrMalformed, err)
	}
	byValue, byRef := q["credential_offer"], q["credential_offer_uri"]
	switch {
	case len(byValue)+len(byRef) == 0:
		return OfferRef{}, fmt.Errorf("parse offer URI: %w: neither credential_offer nor credential_offer_uri", ErrMalformed)
	case len(byValue) > 0 && len(byRef) > 0:
		return OfferRef{}, fmt.Errorf("parse offer URI: %w: both credential_offer and credential_offer_uri", ErrMalformed)
	case len(byValue)+len(byRef) > 1:
		return OfferRef{}, fmt.Errorf("parse offer URI: %w: the offer parameter is repeated", ErrMalformed)
	case len(byRef) == 1:
		ref, err := url.Parse(byRef[0])
		if err != nil || (ref.Scheme != "https" && ref.Scheme != "http") || ref.Host == "" || ref.Fragment != "" {
			return OfferRef{}, fmt.Errorf("parse offer URI: %w: credential_offer_uri %q is not an absolute https URL", ErrMalformed, byRef[0])
		}
		return OfferRef{URI: ref.String()}, nil
	}
	o, err := ParseOffer([]byte(byValue[0]))
	if err != nil {
		return OfferRef{}, fmt.Errorf("parse offer URI: %w", err)
	}
	return OfferRef{Offer: o}, nil
}

// ParseOffer parses a Credential Offer object (section 4.1.1): one
// strict JSON object (no repeated members) of at most MaxOfferBytes
// with credential_issuer (an issuer identifier: see
// checkIssuerIdentifier), credential_configuration_ids (a non-empty
// array of unique non-empty strings, at most MaxConfigurations) and
// optionally grants. Unknown members and grants are ignored.
func ParseOffer(b []byte) (*Offer, error) {
	m, err := object(b, MaxOfferBytes, "offer")
	if err != nil {
		return nil, err
	}
	o := &Offer{}
	if o.CredentialIssuer, err = reqString(m, "credential_issuer"); err != nil {
		return nil, offerErr(err)
	}
	if err := checkIssuerIdentifier(o.CredentialIssuer); err != nil {
		return nil, offerErr(err)
	}
	if o.CredentialConfigurationIDs, err = stringArray(m, "credential_configuration_ids", true); err != nil {
		return nil, offerErr(err)
	}
	if len(o.CredentialConfigurationIDs) > MaxConfigurations {
		return nil, fmt.Errorf("parse offer: %w: %d credential_configuration_ids", ErrTooLarge, len(o.CredentialConfigurationIDs))
	}
	seen := map[string]bool{}
	for _, id := range o.CredentialConfigurationIDs {
		if id == "" || seen[id] {
			return nil, fmt.Errorf("parse offer: %w: credential_configuration_ids holds %q twice or an empty string", ErrMalformed, id)
		}
		seen[id] = true
	}
	grants, err := optObject(m, "grants")
	if err != nil {
		return nil, offerErr(err)
	}
	if _, ok := grants[GrantAuthorizationCode]; ok {
		if _, err := optObject(grants, GrantAuthorizationCode); err != nil {
			return nil, offerErr(err)
		}
		o.AuthorizationCode = true
	}
	if _, ok := grants[GrantPreAuthorizedCode]; !ok {
		return o, nil
	}
	g, err := optObject(grants, GrantPreAuthorizedCode)
	if err != nil {
		return nil, offerErr(err)
	}
	pre := &PreAuthorizedGrant{}
	if pre.Code, err = reqString(g, "pre-authorized_code"); err != nil {
		return nil, offerErr(err)
	}
	if pre.Code == "" {
		return nil, fmt.Errorf("parse offer: %w: empty pre-authorized_code", ErrMalformed)
	}
	if pre.AuthorizationServer, err = optString(g, "authorization_server"); err != nil {
		return nil, offerErr(err)
	}
	if _, ok := g["tx_code"]; ok {
		tc, err := optObject(g, "tx_code")
		if err != nil {
			return nil, offerErr(err)
		}
		if pre.TxCode, err = parseTxCode(tc); err != nil {
			return nil, offerErr(err)
		}
	}
	o.PreAuthorized = pre
	return o, nil
}

func offerErr(err error) error { return fmt.Errorf("parse offer: %w", err) }

func parseTxCode(m map[string]any) (*TxCode, error) {
	tc := &TxCode{InputMode: "numeric"}
	mode, err := optString(m, "input_mode")
	if err != nil {
		return nil, err
	}
	switch mode {
	case "", "numeric":
	case "text":
		tc.InputMode = mode
	default:
		return nil, fmt.Errorf("%w: tx_code.input_mode %q is neither numeric nor text", ErrMalformed, mode)
	}
	if v, ok := m["length"]; ok {
		n, ok := v.(json.Number)
		i, err := n.Int64()
		if !ok || err != nil || i < 1 || i > maxTxCodeLength {
			return nil, fmt.Errorf("%w: tx_code.length %v is not an integer in [1, %d]", ErrMalformed, v, maxTxCodeLength)
		}
		tc.Length = int(i)
	}
	if tc.Description, err = optString(m, "description"); err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(tc.Description) > maxTxCodeDescription {
		return nil, fmt.Errorf("%w: tx_code.description over %d characters", ErrMalformed, maxTxCodeDescription)
	}
	return tc, nil
}

// CheckTxCode checks a transaction code against what the offer asks
// for: present, digits only in numeric mode, of the length given.
func (t *TxCode) CheckTxCode(code string) error {
	switch {
	case code == "":
		return fmt.Errorf("%w: the offer requires a transaction code", ErrMalformed)
	case len(code) > maxTxCodeLength:
		return fmt.Errorf("%w: transaction code over %d bytes", ErrTooLarge, maxTxCodeLength)
	case t.InputMode == "numeric" && strings.Trim(code, "0123456789") != "":
		return fmt.Errorf("%w: the transaction code must be digits only", ErrMalformed)
	case t.Length > 0 && utf8.RuneCountInString(code) != t.Length:
		return fmt.Errorf("%w: the transaction code must be %d characters long", ErrMalformed, t.Length)
	}
	return nil
}

// IssuerMetadata is Credential Issuer metadata (section 12.2.4).
type IssuerMetadata struct {
	CredentialIssuer           string
	AuthorizationServers       []string
	CredentialEndpoint         string
	NonceEndpoint              string
	DeferredCredentialEndpoint string
	// Display is the issuer's display objects, as sent.
	Display []any
	// Configurations are the credential_configurations_supported.
	Configurations map[string]Configuration
}

// Configuration is one credential configuration of issuer metadata.
type Configuration struct {
	Format string
	Scope  string
	// VCT is the vct of a dc+sd-jwt configuration.
	VCT string
	// Types is credential_definition.type of a W3C VC configuration.
	Types []string
	// BindingMethods is cryptographic_binding_methods_supported
	// (jwk, did:key, did:jwk, ...); empty means no key binding.
	BindingMethods []string
	// ProofTypes lists the names of proof_types_supported; empty means
	// no proof is needed.
	ProofTypes []string
	// ProofAlgs is proof_types_supported.jwt.proof_signing_alg_values_supported.
	ProofAlgs []string
	// KeyAttestationsRequired is set when the jwt proof type requires
	// key attestations.
	KeyAttestationsRequired bool
	// Display is credential_metadata.display (or the display of drafts
	// before 1.0), as sent.
	Display []any
}

// ParseIssuerMetadata parses Credential Issuer metadata of at most
// MaxMetadataBytes. When issuer is not empty, credential_issuer must be
// exactly issuer (section 12.2.4: the metadata must not be used
// otherwise). credential_endpoint is required; every endpoint must be
// an absolute http(s) URL (the transport policy is the client's).
func ParseIssuerMetadata(b []byte, issuer string) (*IssuerMetadata, error) {
	m, err := object(b, MaxMetadataBytes, "issuer metadata")
	if err != nil {
		return nil, err
	}
	md := &IssuerMetadata{}
	wrap := func(err error) error { return fmt.Errorf("parse issuer metadata: %w", err) }
	if md.CredentialIssuer, err = reqString(m, "credential_issuer"); err != nil {
		return nil, wrap(err)
	}
	if err := checkIssuerIdentifier(md.CredentialIssuer); err != nil {
		return nil, wrap(err)
	}
	if issuer != "" && md.CredentialIssuer != issuer {
		return nil, fmt.Errorf("parse issuer metadata: %w: credential_issuer %q is not the issuer asked, %q", ErrMalformed, md.CredentialIssuer, issuer)
	}
	if md.AuthorizationServers, err = stringArray(m, "authorization_servers", false); err != nil {
		return nil, wrap(err)
	}
	for _, as := range md.AuthorizationServers {
		if err := checkIssuerIdentifier(as); err != nil {
			return nil, wrap(fmt.Errorf("authorization_servers: %w", err))
		}
	}
	if md.CredentialEndpoint, err = endpoint(m, "credential_endpoint", true); err != nil {
		return nil, wrap(err)
	}
	if md.NonceEndpoint, err = endpoint(m, "nonce_endpoint", false); err != nil {
		return nil, wrap(err)
	}
	if md.DeferredCredentialEndpoint, err = endpoint(m, "deferred_credential_endpoint", false); err != nil {
		return nil, wrap(err)
	}
	if md.Display, err = optArray(m, "display"); err != nil {
		return nil, wrap(err)
	}
	cfgs, ok := m["credential_configurations_supported"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("parse issuer metadata: %w: credential_configurations_supported is missing or not an object", ErrMalformed)
	}
	if len(cfgs) > MaxConfigurations {
		return nil, fmt.Errorf("parse issuer metadata: %w: %d credential configurations", ErrTooLarge, len(cfgs))
	}
	md.Configurations = make(map[string]Configuration, len(cfgs))
	for id, v := range cfgs {
		c, err := parseConfiguration(v)
		if err != nil {
			return nil, fmt.Errorf("parse issuer metadata: configuration %q: %w", id, err)
		}
		md.Configurations[id] = c
	}
	return md, nil
}

func parseConfiguration(v any) (Configuration, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Configuration{}, fmt.Errorf("%w: not an object", ErrMalformed)
	}
	var c Configuration
	var err error
	if c.Format, err = reqString(m, "format"); err != nil {
		return Configuration{}, err
	}
	if c.Format == "" {
		return Configuration{}, fmt.Errorf("%w: empty format", ErrMalformed)
	}
	if c.Scope, err = optString(m, "scope"); err != nil {
		return Configuration{}, err
	}
	if c.VCT, err = optString(m, "vct"); err != nil {
		return Configuration{}, err
	}
	if _, ok := m["credential_definition"]; ok {
		def, err := optObject(m, "credential_definition")
		if err != nil {
			return Configuration{}, err
		}
		if c.Types, err = stringArray(def, "type", false); err != nil {
			return Configuration{}, fmt.Errorf("credential_definition: %w", err)
		}
	}
	if c.BindingMethods, err = stringArray(m, "cryptographic_binding_methods_supported", false); err != nil {
		return Configuration{}, err
	}
	if _, ok := m["proof_types_supported"]; ok {
		pts, err := optObject(m, "proof_types_supported")
		if err != nil {
			return Configuration{}, err
		}
		for name := range pts {
			c.ProofTypes = append(c.ProofTypes, name)
		}
		slices.Sort(c.ProofTypes)
		if _, ok := pts["jwt"]; ok {
			jwt, err := optObject(pts, "jwt")
			if err != nil {
				return Configuration{}, fmt.Errorf("proof_types_supported: %w", err)
			}
			if c.ProofAlgs, err = stringArray(jwt, "proof_signing_alg_values_supported", true); err != nil {
				return Configuration{}, fmt.Errorf("proof_types_supported.jwt: %w", err)
			}
			_, c.KeyAttestationsRequired = jwt["key_attestations_required"]
		}
	}
	if cm, ok := m["credential_metadata"].(map[string]any); ok {
		if c.Display, err = optArray(cm, "display"); err != nil {
			return Configuration{}, fmt.Errorf("credential_metadata: %w", err)
		}
	} else if c.Display, err = optArray(m, "display"); err != nil {
		return Configuration{}, err
	}
	return c, nil
}

// AuthServerMetadata is what the wallet reads of OAuth 2.0
// Authorization Server metadata (RFC 8414).
type AuthServerMetadata struct {
	Issuer        string
	TokenEndpoint string
	// AnonymousPreAuthorized is pre-authorized_grant_anonymous_access_supported.
	AnonymousPreAuthorized bool
}

// ParseAuthServerMetadata parses authorization server metadata of at
// most MaxMetadataBytes; issuer must equal the identifier it was
// fetched for (RFC 8414 section 3.3) when issuer is not empty, and
// token_endpoint is required.
func ParseAuthServerMetadata(b []byte, issuer string) (*AuthServerMetadata, error) {
	m, err := object(b, MaxMetadataBytes, "authorization server metadata")
	if err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("parse authorization server metadata: %w", err) }
	md := &AuthServerMetadata{}
	if md.Issuer, err = reqString(m, "issuer"); err != nil {
		return nil, wrap(err)
	}
	if issuer != "" && md.Issuer != issuer {
		return nil, wrap(fmt.Errorf("%w: issuer %q is not the server asked, %q", ErrMalformed, md.Issuer, issuer))
	}
	if md.TokenEndpoint, err = endpoint(m, "token_endpoint", true); err != nil {
		return nil, wrap(err)
	}
	if v, ok := m["pre-authorized_grant_anonymous_access_supported"]; ok {
		b, ok := v.(bool)
		if !ok {
			return nil, wrap(fmt.Errorf("%w: pre-authorized_grant_anonymous_access_supported is not a boolean", ErrMalformed))
		}
		md.AnonymousPreAuthorized = b
	}
	return md, nil
}

// TokenRequest returns the form of a token request in the pre-authorized
// code flow (section 6.1): grant_type, pre-authorized_code and, when
// txCode is not empty, tx_code.
func TokenRequest(preAuthorizedCode, txCode string) url.Values {
	v := url.Values{"grant_type": {GrantPreAuthorizedCode}, "pre-authorized_code": {preAuthorizedCode}}
	if txCode != "" {
		v.Set("tx_code", txCode)
	}
	return v
}

// TokenResponse is what the wallet reads of a successful token
// response (RFC 6749 section 5.1).
type TokenResponse struct {
	AccessToken string
	TokenType   string
	ExpiresIn   int64
}

// ParseTokenResponse parses a token response of at most
// MaxSmallResponseBytes. access_token is required and token_type must be
// Bearer (any case): DPoP-bound tokens are ErrUnsupported.
func ParseTokenResponse(b []byte) (*TokenResponse, error) {
	m, err := object(b, MaxSmallResponseBytes, "token response")
	if err != nil {
		return nil, err
	}
	t := &TokenResponse{}
	wrap := func(err error) error { return fmt.Errorf("parse token response: %w", err) }
	if t.AccessToken, err = reqString(m, "access_token"); err != nil {
		return nil, wrap(err)
	}
	if t.AccessToken == "" || strings.ContainsAny(t.AccessToken, "\r\n") {
		return nil, wrap(fmt.Errorf("%w: access_token is empty or spans lines", ErrMalformed))
	}
	if t.TokenType, err = reqString(m, "token_type"); err != nil {
		return nil, wrap(err)
	}
	if !strings.EqualFold(t.TokenType, "Bearer") {
		return nil, wrap(fmt.Errorf("%w: token_type %q (only Bearer)", ErrUnsupported, t.TokenType))
	}
	if v, ok := m["expires_in"].(json.Number); ok {
		t.ExpiresIn, _ = v.Int64()
	}
	return t, nil
}

// ParseNonceResponse returns the c_nonce of a nonce response (section
// 7.2) of at most MaxSmallResponseBytes.
func ParseNonceResponse(b []byte) (string, error) {
	m, err := object(b, MaxSmallResponseBytes, "nonce response")
	if err != nil {
		return "", err
	}
	n, err := reqString(m, "c_nonce")
	if err != nil {
		return "", fmt.Errorf("parse nonce response: %w", err)
	}
	if n == "" {
		return "", fmt.Errorf("parse nonce response: %w: empty c_nonce", ErrMalformed)
	}
	return n, nil
}

// CredentialRequest returns the JSON body of a credential request
// (section 8.2) for the configuration, with the proof JWTs (none when
// the configuration needs no proof).
func CredentialRequest(configurationID string, proofJWTs []string) []byte {
	body := map[string]any{"credential_configuration_id": configurationID}
	if len(proofJWTs) > 0 {
		body["proofs"] = map[string]any{"jwt": proofJWTs}
	}
	b, err := json.Marshal(body)
	if err != nil {
		panic("wallet: encode credential request: " + err.Error()) // strings always encode
	}
	return b
}

// CredentialResponse is a parsed credential response (section 8.3).
type CredentialResponse struct {
	// Credentials are the issued credentials: each a string (a compact
	// SD-JWT or JWT) or an object (a JSON-LD credential), re-encoded as
	// a JSON object in that case.
	Credentials []string
	// NotificationID is notification_id.
	NotificationID string
}

// ParseCredentialResponse parses a credential response of at most
// MaxCredentialResponseBytes: credentials, a non-empty array of at most
// MaxCredentials objects each with a credential (a non-empty string or
// an object). A deferred response (transaction_id) fails with
// ErrUnsupported.
func ParseCredentialResponse(b []byte) (*CredentialResponse, error) {
	m, err := object(b, MaxCredentialResponseBytes, "credential response")
	if err != nil {
		return nil, err
	}
	if _, ok := m["transaction_id"]; ok {
		return nil, fmt.Errorf("parse credential response: %w: deferred issuance (transaction_id): the wallet cannot wait for a deferred credential yet", ErrUnsupported)
	}
	arr, ok := m["credentials"].([]any)
	if !ok || len(arr) == 0 {
		return nil, fmt.Errorf("parse credential response: %w: credentials is missing, empty or not an array", ErrMalformed)
	}
	if len(arr) > MaxCredentials {
		return nil, fmt.Errorf("parse credential response: %w: %d credentials, at most %d", ErrTooLarge, len(arr), MaxCredentials)
	}
	out := &CredentialResponse{}
	for i, v := range arr {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("parse credential response: %w: credentials[%d] is not an object", ErrMalformed, i)
		}
		switch c := obj["credential"].(type) {
		case string:
			if c == "" {
				return nil, fmt.Errorf("parse credential response: %w: credentials[%d].credential is empty", ErrMalformed, i)
			}
			out.Credentials = append(out.Credentials, c)
		case map[string]any:
			enc, err := json.Marshal(c)
			if err != nil {
				return nil, fmt.Errorf("parse credential response: credentials[%d]: %w", i, err)
			}
			out.Credentials = append(out.Credentials, string(enc))
		default:
			return nil, fmt.Errorf("parse credential response: %w: credentials[%d].credential is neither a string nor an object", ErrMalformed, i)
		}
	}
	if out.NotificationID, err = optString(m, "notification_id"); err != nil {
		return nil, fmt.Errorf("parse credential response: %w", err)
	}
	return out, nil
}

// ProtocolError is an OAuth 2.0, OpenID4VCI or OpenID4VP error
// response: the token endpoint's (invalid_grant, invalid_request, ...),
// the credential endpoint's (invalid_proof, invalid_nonce,
// unknown_credential_configuration, credential_request_denied, ...), a
// bearer token error (invalid_token), or a verifier's (endpoints
// EndpointRequestObject and EndpointResponse).
type ProtocolError struct {
	// Endpoint names the endpoint that answered: token, nonce,
	// credential, metadata or offer of an issuer; request object or
	// response of a verifier.
	Endpoint string
	// Status is the HTTP status.
	Status int
	// Code is the error member, "" if the answer had none.
	Code string
	// Description is error_description.
	Description string
}

func (e *ProtocolError) Error() string {
	code := e.Code
	if code == "" {
		code = "an error"
	}
	party := "issuer"
	if e.Endpoint == EndpointRequestObject || e.Endpoint == EndpointResponse {
		party = "verifier"
	}
	s := fmt.Sprintf("the %s's %s endpoint answered %s (HTTP %d)", party, e.Endpoint, code, e.Status)
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// ParseErrorResponse reads an error response body (RFC 6749 section
// 5.2, OpenID4VCI section 8.3.1) of an answer with the given status.
// What is not a JSON object with a string error yields a ProtocolError
// without Code. Error codes and descriptions outside printable ASCII
// are dropped, and descriptions cut at 300 bytes, so that an issuer
// cannot write control characters to the holder's terminal.
func ParseErrorResponse(endpoint string, status int, b []byte) *ProtocolError {
	e := &ProtocolError{Endpoint: endpoint, Status: status}
	if len(b) > MaxSmallResponseBytes {
		return e
	}
	m, err := strictjson.Object(b, MaxSmallResponseBytes)
	if err != nil {
		return e
	}
	if c, ok := m["error"].(string); ok && printableASCII(c) && len(c) <= 128 {
		e.Code = c
	}
	if d, ok := m["error_description"].(string); ok && printableASCII(d) {
		if len(d) > 300 {
			d = d[:300] + "..."
		}
		e.Description = d
	}
	return e
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// checkIssuerIdentifier checks an issuer identifier (section 12.2.1,
// RFC 8414 section 2): an absolute http(s) URL with a host and no query
// or fragment.
func checkIssuerIdentifier(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.Contains(s, "#") {
		return fmt.Errorf("%w: %q is not an issuer identifier (an https URL without query or fragment)", ErrMalformed, s)
	}
	return nil
}

// WellKnownURL inserts the well-known path between the host and the
// path of identifier (section 12.2.2, RFC 8414 section 3.1):
// https://host/tenant gives https://host/.well-known/NAME/tenant.
func WellKnownURL(identifier, wellKnown string) (string, error) {
	if err := checkIssuerIdentifier(identifier); err != nil {
		return "", err
	}
	u, _ := url.Parse(identifier)
	u.Path = wellKnown + strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// object decodes one strict JSON object of at most limit bytes.
func object(b []byte, limit int, what string) (map[string]any, error) {
	if len(b) > limit {
		return nil, fmt.Errorf("parse %s: %w: %d bytes, at most %d", what, ErrTooLarge, len(b), limit)
	}
	m, err := strictjson.Object(b, limit)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w: %w", what, ErrMalformed, err)
	}
	return m, nil
}

func reqString(m map[string]any, name string) (string, error) {
	v, ok := m[name]
	if !ok {
		return "", fmt.Errorf("%w: %s is missing", ErrMalformed, name)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%w: %s is not a string", ErrMalformed, name)
	}
	return s, nil
}

func optString(m map[string]any, name string) (string, error) {
	if _, ok := m[name]; !ok {
		return "", nil
	}
	return reqString(m, name)
}

func optObject(m map[string]any, name string) (map[string]any, error) {
	v, ok := m[name]
	if !ok {
		return nil, nil
	}
	o, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not an object", ErrMalformed, name)
	}
	return o, nil
}

func optArray(m map[string]any, name string) ([]any, error) {
	v, ok := m[name]
	if !ok {
		return nil, nil
	}
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not an array", ErrMalformed, name)
	}
	return a, nil
}

// stringArray reads an array of strings, required and non-empty when
// required is set, else non-empty when present.
func stringArray(m map[string]any, name string, required bool) ([]string, error) {
	v, ok := m[name]
	if !ok {
		if required {
			return nil, fmt.Errorf("%w: %s is missing", ErrMalformed, name)
		}
		return nil, nil
	}
	a, ok := v.([]any)
	if !ok || len(a) == 0 {
		return nil, fmt.Errorf("%w: %s is not a non-empty array", ErrMalformed, name)
	}
	out := make([]string, 0, len(a))
	for _, x := range a {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("%w: %s holds a non-string", ErrMalformed, name)
		}
		out = append(out, s)
	}
	return out, nil
}

// endpoint reads an absolute http(s) URL.
func endpoint(m map[string]any, name string, required bool) (string, error) {
	s, err := optString(m, name)
	if err != nil {
		return "", err
	}
	if s == "" {
		if required {
			return "", fmt.Errorf("%w: %s is missing", ErrMalformed, name)
		}
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("%w: %s %s is not an absolute https URL", ErrMalformed, name, quote(s))
	}
	return s, nil
}
