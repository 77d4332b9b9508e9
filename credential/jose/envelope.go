package jose

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/idmesh/idmesh/credential"
)

// ContextV2 is the base context of the VC Data Model 2.0.
const ContextV2 = "https://www.w3.org/ns/credentials/v2"

// Types of enveloped credentials and presentations (VC Data Model 2.0
// section 4.13).
const (
	TypeEnvelopedCredential   = "EnvelopedVerifiableCredential"
	TypeEnvelopedPresentation = "EnvelopedVerifiablePresentation"
)

// MaxDataURLBytes bounds the data: URLs that [ParseDataURL] reads: a token
// of DefaultMaxBytes and room for the media type.
const MaxDataURLBytes = DefaultMaxBytes + 1024

// Envelope wraps a secured token in an enveloped credential or, for an
// application/vp+... media type, an enveloped presentation:
//
//	{"@context":["https://www.w3.org/ns/credentials/v2"],
//	 "id":"data:application/vc+jwt,<token>","type":"EnvelopedVerifiableCredential"}
//
// Characters of token that a data: URL cannot carry as they are (none in a
// compact JWS) are percent-encoded.
func Envelope(token, mediaType string) map[string]any {
	typ := TypeEnvelopedCredential
	if isPresentationType(mediaType) {
		typ = TypeEnvelopedPresentation
	}
	return map[string]any{
		"@context": []any{ContextV2},
		"id":       "data:" + mediaType + "," + escapeData(token),
		"type":     typ,
	}
}

// Unenvelope returns the token and media type (without parameters) of an
// enveloped credential or presentation. It checks the base context, the
// type and that the media type fits it (application/vc+... for credentials,
// application/vp+... for presentations); it does not verify the token.
// Errors carry PARSING_ERROR or MALFORMED_VALUE_ERROR.
func Unenvelope(obj map[string]any) (token, mediaType string, err error) {
	if obj == nil {
		return "", "", credential.Errorf(credential.MalformedValueError, "unenvelope: no object")
	}
	if !hasBaseContext(obj["@context"]) {
		return "", "", credential.Errorf(credential.MalformedValueError, "unenvelope: @context does not start with %s", ContextV2)
	}
	var wantPrefix string
	switch {
	case hasType(obj["type"], TypeEnvelopedCredential):
		wantPrefix = "application/vc+"
	case hasType(obj["type"], TypeEnvelopedPresentation):
		wantPrefix = "application/vp+"
	default:
		return "", "", credential.Errorf(credential.MalformedValueError, "unenvelope: type is neither %s nor %s", TypeEnvelopedCredential, TypeEnvelopedPresentation)
	}
	id, ok := obj["id"].(string)
	if !ok {
		return "", "", credential.Errorf(credential.MalformedValueError, "unenvelope: id is missing or not a string")
	}
	token, mt, err := DataURLText(id)
	if err != nil {
		return "", "", err
	}
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	if !strings.HasPrefix(mt, wantPrefix) {
		return "", "", credential.Errorf(credential.MalformedValueError, "unenvelope: media type %q does not fit an %s", mt, obj["type"])
	}
	return token, mt, nil
}

// DataURLText is ParseDataURL for data that must be UTF-8 text, such as
// a compact JWS: it returns the data as a string, without copying it when
// the URL needs no decoding (no percent-escapes, not base64), the common
// case of enveloped credentials.
func DataURLText(u string) (text, mediaType string, err error) {
	mt, data, err := dataURL(u)
	if err != nil {
		return "", "", err
	}
	if !utf8.ValidString(data) {
		return "", "", credential.Errorf(credential.ParsingError, "data URL: %w: data is not UTF-8", ErrInvalidDataURL)
	}
	return data, mt, nil
}

// Enveloped is a secured credential found in a presentation.
type Enveloped struct {
	Token     string
	MediaType string // without parameters, e.g. "application/vc+jwt"
}

// EnvelopedCredentials returns the credentials of a presentation's
// verifiableCredential property (an object or an array), in order, for
// the caller to verify one by one. VC-JOSE-COSE 3.1.2 requires each to be
// an EnvelopedVerifiableCredential; anything else, including an envelope
// that does not parse, is an error. No property means no credentials.
func EnvelopedCredentials(pres map[string]any) ([]Enveloped, error) {
	v, ok := pres["verifiableCredential"]
	if !ok {
		return nil, nil
	}
	var list []any
	switch v := v.(type) {
	case []any:
		list = v
	case map[string]any:
		list = []any{v}
	default:
		return nil, credential.Errorf(credential.MalformedValueError, "verifiableCredential is not an object or an array")
	}
	out := make([]Enveloped, 0, len(list))
	for i, e := range list {
		obj, ok := e.(map[string]any)
		if !ok {
			return nil, credential.Errorf(credential.MalformedValueError, "verifiableCredential[%d] is not an object", i)
		}
		if !hasType(obj["type"], TypeEnvelopedCredential) {
			return nil, credential.Errorf(credential.MalformedValueError, "verifiableCredential[%d] is not an %s (VC-JOSE-COSE 3.1.2)", i, TypeEnvelopedCredential)
		}
		tok, mt, err := Unenvelope(obj)
		if err != nil {
			var ce *credential.Error
			if errors.As(err, &ce) {
				return nil, &credential.Error{Code: ce.Code, Detail: fmt.Sprintf("verifiableCredential[%d]: %s", i, ce.Detail), Err: ce.Err}
			}
			return nil, err
		}
		out = append(out, Enveloped{Token: tok, MediaType: mt})
	}
	return out, nil
}

// ParseDataURL parses a data: URL (RFC 2397) and returns its media type,
// with type and subtype lowercased and any parameters but "base64" kept
// ("text/plain;charset=US-ASCII" when it names none), and its data,
// percent-decoded and, with ";base64", base64-decoded (standard alphabet,
// padded). It rejects URLs longer than MaxDataURLBytes, characters a URL
// cannot hold (spaces, controls, non-ASCII, '#'), bad escapes and bad
// base64. Errors wrap [ErrInvalidDataURL] and carry PARSING_ERROR.
func ParseDataURL(u string) (mediaType string, data []byte, err error) {
	mt, d, err := dataURL(u)
	if err != nil {
		return "", nil, err
	}
	return mt, []byte(d), nil
}

// dataURL is ParseDataURL with the data as a string: the part of u after
// the comma itself (no copy) when it holds no escapes and is not base64.
func dataURL(u string) (mediaType string, data string, err error) {
	bad := func(format string, args ...any) (string, string, error) {
		return "", "", credential.Errorf(credential.ParsingError, "parse data URL: %w: "+format, append([]any{ErrInvalidDataURL}, args...)...)
	}
	if len(u) > MaxDataURLBytes {
		return bad("%d bytes, at most %d", len(u), MaxDataURLBytes)
	}
	if len(u) < 5 || !strings.EqualFold(u[:5], "data:") {
		return bad("scheme is not data:")
	}
	rest := u[5:]
	comma := strings.IndexByte(rest, ',')
	if comma < 0 {
		return bad("no ',' before the data")
	}
	meta, raw := rest[:comma], rest[comma+1:]
	params := strings.Split(meta, ";")
	mt := strings.ToLower(params[0])
	params = params[1:]
	isBase64 := false
	if n := len(params); n > 0 && strings.EqualFold(params[n-1], "base64") {
		isBase64 = true
		params = params[:n-1]
	}
	if mt == "" {
		mt = "text/plain"
		if len(params) == 0 {
			params = []string{"charset=US-ASCII"}
		}
	} else if slash := strings.IndexByte(mt, '/'); slash < 0 || !isToken(mt[:slash]) || !isToken(mt[slash+1:]) {
		return bad("media type %q is not type/subtype", params0(meta))
	}
	for _, p := range params {
		eq := strings.IndexByte(p, '=')
		if eq < 0 || !isToken(p[:eq]) || !isParamValue(p[eq+1:]) {
			return bad("parameter %q is not attribute=value", p)
		}
	}
	decoded, err := unescapeData(raw)
	if err != nil {
		return bad("%v", err)
	}
	if isBase64 {
		// The decoder skips CR and LF even in strict mode: refuse them first.
		if i := strings.IndexAny(decoded, "\r\n"); i >= 0 {
			return bad("base64: line break at %d", i)
		}
		b, err := base64.StdEncoding.Strict().DecodeString(decoded)
		if err != nil {
			return bad("base64: %v", err)
		}
		decoded = string(b)
	}
	if len(params) > 0 {
		mt += ";" + strings.Join(params, ";")
	}
	return mt, decoded, nil
}

// params0 returns the media type part of a data URL's metadata.
func params0(meta string) string {
	if i := strings.IndexByte(meta, ';'); i >= 0 {
		return meta[:i]
	}
	return meta
}

// isToken reports whether s is a non-empty RFC 2045 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}

// isParamValue reports whether s is a token or percent-escaped URL text.
func isParamValue(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isURLChar(c) || c == ',' || c == ';' {
			return false
		}
	}
	_, err := unescapeData(s)
	return err == nil
}

// isURLChar reports whether c may appear unescaped in the data part:
// RFC 3986 unreserved, reserved (but '#', which starts a fragment), and
// '%' for escapes.
func isURLChar(c byte) bool { return urlChars[c] }

// urlChars are the bytes allowed in a URL: unreserved, reserved and '%'.
var urlChars = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		t[c] = 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
			strings.IndexByte("-._~:/?[]@!$&'()*+,;=%", b) >= 0
	}
	return t
}()

// unescapeData validates the characters of s and decodes %XX escapes;
// without escapes it returns s itself.
func unescapeData(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		for i := 0; i < len(s); i++ {
			if !isURLChar(s[i]) {
				return "", fmt.Errorf("character %q at %d is not allowed in a URL", s[i], i)
			}
		}
		return s, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isURLChar(c) {
			return "", fmt.Errorf("character %q at %d is not allowed in a URL", c, i)
		}
		if c != '%' {
			out = append(out, c)
			continue
		}
		if i+2 >= len(s) || unhex(s[i+1]) < 0 || unhex(s[i+2]) < 0 {
			return "", fmt.Errorf("bad percent-escape at %d", i)
		}
		out = append(out, byte(unhex(s[i+1])<<4|unhex(s[i+2])))
		i += 2
	}
	return string(out), nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// escapeData percent-encodes the bytes of s that isURLChar refuses, and
// '%' itself.
func escapeData(s string) string {
	clean := true
	for i := 0; i < len(s) && clean; i++ {
		clean = isURLChar(s[i]) && s[i] != '%'
	}
	if clean {
		return s
	}
	const hex = "0123456789ABCDEF"
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; isURLChar(c) && c != '%' {
			sb.WriteByte(c)
		} else {
			sb.WriteByte('%')
			sb.WriteByte(hex[c>>4])
			sb.WriteByte(hex[c&15])
		}
	}
	return sb.String()
}

// isPresentationType reports whether a media type secures a presentation.
func isPresentationType(mediaType string) bool {
	return strings.HasPrefix(normalizeType(mediaType), "application/vp+")
}

// hasBaseContext reports whether an @context value is, or starts with,
// the VC 2.0 base context.
func hasBaseContext(v any) bool {
	switch v := v.(type) {
	case string:
		return v == ContextV2
	case []any:
		return len(v) > 0 && v[0] == ContextV2
	case []string:
		return len(v) > 0 && v[0] == ContextV2
	}
	return false
}

// hasType reports whether a type value is, or contains, want.
func hasType(v any, want string) bool {
	switch v := v.(type) {
	case string:
		return v == want
	case []any:
		for _, t := range v {
			if t == want {
				return true
			}
		}
	case []string:
		for _, t := range v {
			if t == want {
				return true
			}
		}
	}
	return false
}
