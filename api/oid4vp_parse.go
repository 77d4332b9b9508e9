package api

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"

	"github.com/idmesh/idmesh/did/strictjson"
)

// Bounds of an authorization response.
const (
	// MaxVPTokenQueries bounds the credential query IDs of a vp_token.
	MaxVPTokenQueries = 32
	// MaxVPPresentations bounds the presentations of a vp_token, all IDs
	// together.
	MaxVPPresentations = 64
	// maxJWEHeaderBytes bounds a response JWE's protected header.
	maxJWEHeaderBytes = 4 << 10
)

// vpForm is an authorization response (OpenID4VP section 8): the form of
// direct_post, or what the JWE of direct_post.jwt holds once opened.
type vpForm struct {
	response string // direct_post.jwt: the JWE, until opened
	state    string
	rawToken string         // the vp_token form value (direct_post)
	vpToken  map[string]any // the vp_token object, once read
	err      string         // an error the wallet answered instead
	errDesc  string
}

// vpFormFields are the parameters of a response read here; others are
// ignored (RFC 6749 section 3.1).
var vpFormFields = []string{"vp_token", "state", "response", "error", "error_description"}

// parseVPForm reads an application/x-www-form-urlencoded response: each
// known parameter at most once, and one of vp_token, response and error.
func parseVPForm(body []byte) (*vpForm, error) {
	q, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("the form does not parse: %w", err)
	}
	f := &vpForm{}
	for _, k := range vpFormFields {
		if len(q[k]) > 1 {
			return nil, fmt.Errorf("parameter %s is repeated", k)
		}
	}
	f.rawToken, f.state, f.response, f.err, f.errDesc = q.Get("vp_token"), q.Get("state"), q.Get("response"), q.Get("error"), q.Get("error_description")
	n := 0
	for _, v := range []string{f.rawToken, f.response, f.err} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return nil, errors.New("the response must carry exactly one of vp_token, response (direct_post.jwt) and error")
	}
	if f.err != "" {
		if err := checkErrorCode(f.err); err != nil {
			return nil, err
		}
		return f, nil
	}
	if f.rawToken != "" {
		obj, err := strictjson.Object([]byte(f.rawToken), 0)
		if err != nil {
			return nil, fmt.Errorf("vp_token must be a JSON object keyed by credential query id: %w", err)
		}
		if f.vpToken, err = checkVPToken(obj); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// checkErrorCode refuses an error code outside RFC 6749's character set,
// or long.
func checkErrorCode(code string) error {
	if len(code) > 64 || strings.IndexFunc(code, func(r rune) bool { return r < 0x20 || r > 0x7e || r == '"' || r == '\\' }) >= 0 {
		return errors.New("error must be a short OAuth error code")
	}
	return nil
}

// checkVPToken checks the shape of a vp_token (OpenID4VP section 8.1): an
// object whose members are credential query IDs, each a non-empty array
// of presentations (strings or objects), within MaxVPTokenQueries and
// MaxVPPresentations.
func checkVPToken(obj map[string]any) (map[string]any, error) {
	if len(obj) == 0 {
		return nil, errors.New("vp_token is empty")
	}
	if len(obj) > MaxVPTokenQueries {
		return nil, fmt.Errorf("vp_token has %d credential query ids, at most %d", len(obj), MaxVPTokenQueries)
	}
	total := 0
	for id, v := range obj {
		arr, ok := v.([]any)
		if !ok || len(arr) == 0 {
			return nil, fmt.Errorf("vp_token member %.64q must be a non-empty array of presentations", id)
		}
		total += len(arr)
		if total > MaxVPPresentations {
			return nil, fmt.Errorf("vp_token has over %d presentations", MaxVPPresentations)
		}
		for _, p := range arr {
			switch p.(type) {
			case string, map[string]any:
			default:
				return nil, fmt.Errorf("vp_token member %.64q: a presentation is a string or a JSON object", id)
			}
		}
	}
	return obj, nil
}

// open reads the response of a transaction's response mode: with
// direct_post.jwt it decrypts the JWE with the transaction's key (alg
// ECDH-ES, enc one of encValues, no compression) and reads its payload's
// parameters (a plain error is accepted too); direct_post takes no JWE.
func (f *vpForm) open(t *vpTx) error {
	if t.mode != ResponseModeDirectPostJWT {
		if f.response != "" {
			return errors.New("this request's response_mode is direct_post: send vp_token and state, not an encrypted response")
		}
		return nil
	}
	if f.err != "" {
		// An error response may travel unencrypted (OpenID4VP section
		// 8.3.1): it discloses nothing.
		return nil
	}
	if f.response == "" {
		return errors.New("this request's response_mode is direct_post.jwt: the response must be a JWE (the response parameter) encrypted to the request's key")
	}
	payload, err := decryptResponse(f.response, t)
	if err != nil {
		return err
	}
	obj, err := strictjson.Object(payload, 0)
	if err != nil {
		return fmt.Errorf("the decrypted response is not a JSON object: %w", err)
	}
	inner := &vpForm{}
	for k, v := range obj {
		if !slices.Contains(vpFormFields, k) {
			continue
		}
		if k == "vp_token" {
			m, ok := v.(map[string]any)
			if !ok {
				return errors.New("the decrypted vp_token must be a JSON object keyed by credential query id")
			}
			if inner.vpToken, err = checkVPToken(m); err != nil {
				return err
			}
			continue
		}
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("the decrypted %s must be a string", k)
		}
		switch k {
		case "state":
			inner.state = s
		case "error":
			inner.err = s
		case "error_description":
			inner.errDesc = s
		case "response":
			return errors.New("the decrypted response holds another response")
		}
	}
	if (inner.vpToken == nil) == (inner.err == "") {
		return errors.New("the decrypted response must carry exactly one of vp_token and error")
	}
	if inner.err != "" {
		if err := checkErrorCode(inner.err); err != nil {
			return err
		}
	}
	*f = *inner
	return nil
}

// decryptResponse opens a direct_post.jwt response: a compact JWE whose
// header names alg ECDH-ES, an enc of encValues and, when it has a kid,
// the request's key; it is decrypted with the request's ephemeral key.
func decryptResponse(token string, t *vpTx) ([]byte, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 5 {
		return nil, errors.New("response must be a compact JWE (five parts)")
	}
	if len(parts[0]) > maxJWEHeaderBytes {
		return nil, errors.New("the JWE header is too long")
	}
	hb, err := base64.RawURLEncoding.Strict().DecodeString(parts[0])
	if err != nil {
		return nil, errors.New("the JWE header is not base64url")
	}
	h, err := strictjson.Object(hb, maxJWEHeaderBytes)
	if err != nil {
		return nil, fmt.Errorf("the JWE header is not a JSON object: %w", err)
	}
	if alg, _ := h["alg"].(string); alg != "ECDH-ES" {
		return nil, fmt.Errorf("JWE alg %.32q refused: responses are encrypted with ECDH-ES to the request's key", alg)
	}
	if enc, _ := h["enc"].(string); !slices.Contains(encValues, enc) {
		return nil, fmt.Errorf("JWE enc %.32q refused: use one of %s", enc, strings.Join(encValues, ", "))
	}
	if _, ok := h["zip"]; ok {
		return nil, errors.New("compressed JWEs are refused")
	}
	if kid, ok := h["kid"]; ok && kid != t.encKID {
		return nil, errors.New("the JWE is encrypted to another key than the request's")
	}
	payload, err := jwe.Decrypt([]byte(token), jwe.WithKey(jwa.ECDH_ES(), t.encKey))
	if err != nil {
		return nil, errors.New("the JWE does not decrypt with the request's key")
	}
	return payload, nil
}
