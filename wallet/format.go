package wallet

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/did/strictjson"
)

// Credential formats, by their OpenID4VCI format identifiers (vc+jwt
// is the media type of a VC 2.0 secured with JOSE, which OpenID4VCI
// names no format for).
const (
	FormatSDJWT     = "dc+sd-jwt"
	FormatJWTVCJSON = "jwt_vc_json"
	FormatVCJWT     = "vc+jwt"
	FormatLDPVC     = "ldp_vc"
)

var b64 = base64.RawURLEncoding

// compactChars are the characters of a compact JWS or SD-JWT.
const compactChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"

// Detect recognises a credential's raw form and describes it, without
// verifying anything:
//
//   - a compact SD-JWT (a JWT, "~", Disclosures, "~"): dc+sd-jwt;
//   - a compact JWT: jwt_vc_json when its claims hold "vc" (VC Data
//     Model 1.1), else vc+jwt (a VC 2.0 with JOSE);
//   - a JSON object with @context and a type holding
//     VerifiableCredential: ldp_vc, or, for an
//     EnvelopedVerifiableCredential, the credential in its data: URL;
//   - a data: URL (application/vc+jwt, application/dc+sd-jwt,
//     application/vc+sd-jwt, application/vc): the credential it holds.
//
// Surrounding white space is dropped; the result's Raw is the credential
// itself (unwrapped from a data: URL or an envelope). Input over
// MaxCredentialBytes fails with ErrTooLarge, input of no known format
// with ErrUnknownFormat and a damaged one with ErrMalformed.
func Detect(raw []byte) (Credential, error) {
	if len(raw) > MaxCredentialBytes {
		return Credential{}, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(raw), MaxCredentialBytes)
	}
	return detect(string(bytes.TrimSpace(raw)), 0)
}

func detect(s string, depth int) (Credential, error) {
	if depth > 1 {
		return Credential{}, fmt.Errorf("%w: an envelope within an envelope", ErrMalformed)
	}
	switch {
	case s == "":
		return Credential{}, fmt.Errorf("%w: empty input", ErrUnknownFormat)
	case strings.HasPrefix(s, "data:"):
		text, mt, err := jose.DataURLText(s)
		if err != nil {
			return Credential{}, fmt.Errorf("%w: data: URL: %w", ErrMalformed, err)
		}
		mt, _, _ = strings.Cut(mt, ";")
		switch strings.TrimPrefix(strings.TrimSpace(mt), "application/") {
		case "vc+jwt", "dc+sd-jwt", "vc+sd-jwt", "vc", "vc+ld+json":
		default:
			return Credential{}, fmt.Errorf("%w: data: URL of media type %q", ErrUnknownFormat, mt)
		}
		return detect(strings.TrimSpace(text), depth+1)
	case strings.HasPrefix(s, "{"):
		return detectJSON(s, depth)
	case strings.Trim(s, compactChars) != "":
		return Credential{}, fmt.Errorf("%w: neither JSON nor a data: URL, and not a compact JWT or SD-JWT (characters other than base64url, \".\" and \"~\")", ErrUnknownFormat)
	case strings.Contains(s, "~"):
		return detectSDJWT(s)
	case strings.Count(s, ".") == 2:
		return detectJWT(s)
	}
	return Credential{}, fmt.Errorf("%w: neither JSON, a JWT, an SD-JWT nor a data: URL", ErrUnknownFormat)
}

func detectJSON(s string, depth int) (Credential, error) {
	m, err := strictjson.Object([]byte(s), MaxCredentialBytes)
	if err != nil {
		return Credential{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	types := stringsOf(m["type"])
	if slices.Contains(types, "EnvelopedVerifiableCredential") {
		token, _, err := jose.Unenvelope(m)
		if err != nil {
			return Credential{}, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		return detect(strings.TrimSpace(token), depth+1)
	}
	if _, ok := m["@context"]; !ok || !slices.Contains(types, "VerifiableCredential") {
		return Credential{}, fmt.Errorf("%w: a JSON object without @context or the type VerifiableCredential", ErrUnknownFormat)
	}
	return Credential{Format: FormatLDPVC, Issuer: idOf(m["issuer"]), Types: types, Raw: s}, nil
}

func detectSDJWT(s string) (Credential, error) {
	sd, err := sdjwt.Parse(s, sdjwt.Limits{MaxBytes: MaxCredentialBytes})
	if err != nil {
		return Credential{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if sd.KeyBinding != "" {
		return Credential{}, fmt.Errorf("%w: an SD-JWT presentation (it ends in a key-binding JWT), not an issued credential", ErrMalformed)
	}
	_, claims, err := decodeJWT(sd.JWT)
	if err != nil {
		return Credential{}, err
	}
	c := Credential{Format: FormatSDJWT, Issuer: str(claims["iss"]), Raw: s}
	if v := str(claims["vct"]); v != "" {
		c.Types = []string{v}
	}
	return c, nil
}

func detectJWT(s string) (Credential, error) {
	header, claims, err := decodeJWT(s)
	if err != nil {
		return Credential{}, err
	}
	if vc, ok := claims["vc"].(map[string]any); ok {
		iss := str(claims["iss"])
		if iss == "" {
			iss = idOf(vc["issuer"])
		}
		return Credential{Format: FormatJWTVCJSON, Issuer: iss, Types: stringsOf(vc["type"]), Raw: s}, nil
	}
	typ := strings.TrimPrefix(str(header["typ"]), "application/")
	types := stringsOf(claims["type"])
	if typ != "vc+jwt" && !slices.Contains(types, "VerifiableCredential") {
		return Credential{}, fmt.Errorf("%w: a JWT that is not a credential (typ %q, no vc claim, no type VerifiableCredential)", ErrUnknownFormat, typ)
	}
	return Credential{Format: FormatVCJWT, Issuer: idOf(claims["issuer"]), Types: types, Raw: s}, nil
}

// decodeJWT decodes the header and claims of a compact JWS without
// checking its signature.
func decodeJWT(s string) (header, claims map[string]any, err error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return nil, nil, fmt.Errorf("%w: a JWT has three parts", ErrMalformed)
	}
	dec := func(p, what string) (map[string]any, error) {
		b, err := b64.DecodeString(p)
		if err != nil {
			return nil, fmt.Errorf("%w: JWT %s is not base64url: %w", ErrMalformed, what, err)
		}
		m, err := strictjson.Object(b, MaxCredentialBytes)
		if err != nil {
			return nil, fmt.Errorf("%w: JWT %s: %w", ErrMalformed, what, err)
		}
		return m, nil
	}
	if header, err = dec(parts[0], "header"); err != nil {
		return nil, nil, err
	}
	if claims, err = dec(parts[1], "payload"); err != nil {
		return nil, nil, err
	}
	return header, claims, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// idOf returns a string, or an object's id.
func idOf(v any) string {
	if m, ok := v.(map[string]any); ok {
		return str(m["id"])
	}
	return str(v)
}

// stringsOf returns a string as one element, or an array's strings.
func stringsOf(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
