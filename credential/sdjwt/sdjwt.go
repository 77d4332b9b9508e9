package sdjwt

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/did/strictjson"
)

// Media types and JOSE typ values.
const (
	// MediaType is the media type of an SD-JWT VC (SD-JWT VC section 3.1).
	MediaType = "application/dc+sd-jwt"
	// TypVC is the typ header of the issuer-signed JWT of an SD-JWT VC.
	TypVC = "dc+sd-jwt"
	// TypKB is the typ header of a key-binding JWT (RFC 9901 section 4.3).
	TypKB = "kb+jwt"
	// HashAlg is the one _sd_alg this package issues and accepts.
	HashAlg = "sha-256"
)

// Default bounds of [Limits].
const (
	DefaultMaxBytes       = 1 << 20
	DefaultMaxDisclosures = 1024
	DefaultMaxDepth       = 32
)

// saltBytes is the entropy of a salt: 128 bits (RFC 9901 section 9.3).
const saltBytes = 16

// Errors wrapped (inside a [credential.Error]) by this package.
var (
	// ErrMalformedDisclosure reports a Disclosure that is not the
	// base64url of a JSON array [salt, name, value] or [salt, value] of
	// the kind its digest's place asks for.
	ErrMalformedDisclosure = errors.New("malformed disclosure")
	// ErrUnreferencedDisclosure reports a Disclosure whose digest the
	// issuer-signed JWT (with the other Disclosures) does not contain:
	// modified, or taken from another SD-JWT.
	ErrUnreferencedDisclosure = errors.New("disclosure not referenced by the issuer-signed JWT")
	// ErrDuplicateDisclosure reports the same Disclosure sent twice.
	ErrDuplicateDisclosure = errors.New("disclosure sent more than once")
	// ErrDuplicateDigest reports a digest that appears more than once.
	ErrDuplicateDigest = errors.New("digest appears more than once")
	// ErrForbiddenName reports a claim name a Disclosure must not carry
	// ("_sd", "...", or one the object already has) or a payload member
	// reserved for digests.
	ErrForbiddenName = errors.New("forbidden claim name")
	// ErrLimit reports input over a bound of [Limits].
	ErrLimit = errors.New("over a bound")
	// ErrKeyBindingRequired reports an SD-JWT without the key-binding JWT
	// the verifier asked for, or one whose credential has no cnf.jwk.
	ErrKeyBindingRequired = errors.New("key binding required")
	// ErrBadPointer reports a JSON pointer (RFC 6901) that is malformed
	// or names no claim.
	ErrBadPointer = errors.New("bad JSON pointer")
)

// Limits bound what [Parse], [Verify] and [VerifyWithKey] read. Zero
// fields take the defaults.
type Limits struct {
	// MaxBytes bounds the whole compact SD-JWT (DefaultMaxBytes).
	MaxBytes int
	// MaxDisclosures bounds the number of Disclosures (DefaultMaxDisclosures).
	MaxDisclosures int
	// MaxDepth bounds the nesting of objects and arrays of the processed
	// payload, Disclosures inserted (DefaultMaxDepth).
	MaxDepth int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxDisclosures <= 0 {
		l.MaxDisclosures = DefaultMaxDisclosures
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	return l
}

var b64 = base64.RawURLEncoding.Strict()

// Digest returns the base64url SHA-256 of the US-ASCII bytes of s, a
// Disclosure or an SD-JWT (RFC 9901 sections 4.2.3 and 4.3.1).
func Digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return b64.EncodeToString(sum[:])
}

// A Disclosure is one decoded Disclosure (RFC 9901 section 4.2).
type Disclosure struct {
	// Encoded is the Disclosure as sent: base64url of the JSON array.
	Encoded string
	// Digest is [Digest] of Encoded.
	Digest string
	// Salt is the first element.
	Salt string
	// Name is the claim name of an object property; "" for an array
	// element (see IsArrayElement).
	Name string
	// IsArrayElement is set for the two-element form [salt, value].
	IsArrayElement bool
	// Value is the claim value, decoded strictly (numbers as json.Number).
	Value any
}

// EncodeDisclosure builds the Disclosure of an object property
// [salt, name, value], or of an array element [salt, value] when
// arrayElement is set (name is then ignored). The JSON array is written
// with ", " between elements and ": " after member names, object members
// in sorted order, non-ASCII characters as UTF-8 and no HTML escaping:
// the form of the RFC 9901 examples. A json.RawMessage value is written
// as it is, after a check that it is valid JSON without repeated member
// names. The claim name is not checked ([Issue] refuses "_sd" and "...";
// [DecodeDisclosure] refuses them on the way in).
func EncodeDisclosure(salt, name string, value any, arrayElement bool) (Disclosure, error) {
	var buf bytes.Buffer
	buf.WriteByte('[')
	writeString(&buf, salt)
	buf.WriteString(", ")
	if !arrayElement {
		writeString(&buf, name)
		buf.WriteString(", ")
	}
	if err := writeValue(&buf, value, 0); err != nil {
		return Disclosure{}, fmt.Errorf("encode disclosure: %w", err)
	}
	buf.WriteByte(']')
	enc := b64.EncodeToString(buf.Bytes())
	d := Disclosure{Encoded: enc, Digest: Digest(enc), Salt: salt, IsArrayElement: arrayElement, Value: value}
	if !arrayElement {
		d.Name = name
	}
	return d, nil
}

// writeString writes s as a JSON string without HTML escaping.
func writeString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	buf.Truncate(buf.Len() - 1)
}

// writeValue writes v as JSON in the Disclosure style.
func writeValue(buf *bytes.Buffer, v any, depth int) error {
	if depth > strictjson.MaxDepth {
		return strictjson.ErrTooDeep
	}
	switch v := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		buf.WriteString(strconv.FormatBool(v))
	case string:
		if !utf8.ValidString(v) {
			return fmt.Errorf("string %q is not UTF-8", v)
		}
		writeString(buf, v)
	case json.Number:
		if !isJSONNumber(string(v)) {
			return fmt.Errorf("%q is not a JSON number", string(v))
		}
		buf.WriteString(string(v))
	case json.RawMessage:
		if !json.Valid(v) {
			return errors.New("raw value is not valid JSON")
		}
		if err := strictjson.CheckDuplicates(v); err != nil {
			return err
		}
		buf.Write(v)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%v is not a JSON number", v)
		}
		b, _ := json.Marshal(v)
		buf.Write(b)
	case map[string]any:
		names := make([]string, 0, len(v))
		for k := range v {
			names = append(names, k)
		}
		slices.Sort(names)
		buf.WriteByte('{')
		for i, k := range names {
			if i > 0 {
				buf.WriteString(", ")
			}
			writeString(buf, k)
			buf.WriteString(": ")
			if err := writeValue(buf, v[k], depth+1); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				buf.WriteString(", ")
			}
			if err := writeValue(buf, e, depth+1); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	default:
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			buf.WriteString(strconv.FormatInt(rv.Int(), 10))
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			buf.WriteString(strconv.FormatUint(rv.Uint(), 10))
		case reflect.Float32:
			return writeValue(buf, rv.Float(), depth)
		default:
			return fmt.Errorf("value of type %T is not JSON data", v)
		}
	}
	return nil
}

// isJSONNumber reports whether s is a JSON number (RFC 8259 section 6).
func isJSONNumber(s string) bool {
	var v any
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if err := d.Decode(&v); err != nil || d.More() {
		return false
	}
	n, ok := v.(json.Number)
	return ok && string(n) == s
}

// DecodeDisclosure decodes one Disclosure: strict base64url of a JSON
// array of a string salt and either a string claim name and a value or
// a value alone, parsed strictly (no repeated member names, bounded
// nesting, no trailing data). The claim names "_sd" and "..." are
// refused (RFC 9901 section 7.1 step 3.3.2.2). Errors carry
// PARSING_ERROR or MALFORMED_VALUE_ERROR and wrap
// [ErrMalformedDisclosure] or [ErrForbiddenName].
func DecodeDisclosure(s string) (Disclosure, error) {
	if s == "" {
		return Disclosure{}, credential.Errorf(credential.ParsingError, "disclosure: %w: empty", ErrMalformedDisclosure)
	}
	if !isBase64URL(s) {
		return Disclosure{}, credential.Errorf(credential.ParsingError, "disclosure: %w: not base64url", ErrMalformedDisclosure)
	}
	raw, err := b64.DecodeString(s)
	if err != nil {
		return Disclosure{}, credential.Errorf(credential.ParsingError, "disclosure: %w: %v", ErrMalformedDisclosure, err)
	}
	arr, err := decodeArray(raw)
	if err != nil {
		return Disclosure{}, credential.Errorf(credential.ParsingError, "disclosure: %w: %v", ErrMalformedDisclosure, err)
	}
	d := Disclosure{Encoded: s, Digest: Digest(s)}
	switch len(arr) {
	case 2:
		d.IsArrayElement = true
		d.Value = arr[1]
	case 3:
		name, ok := arr[1].(string)
		if !ok {
			return Disclosure{}, credential.Errorf(credential.MalformedValueError, "disclosure: %w: claim name is not a string", ErrMalformedDisclosure)
		}
		if name == "_sd" || name == "..." {
			return Disclosure{}, credential.Errorf(credential.MalformedValueError, "disclosure: %w: claim name %q", ErrForbiddenName, name)
		}
		d.Name = name
		d.Value = arr[2]
	default:
		return Disclosure{}, credential.Errorf(credential.MalformedValueError, "disclosure: %w: an array of %d elements, want 2 or 3", ErrMalformedDisclosure, len(arr))
	}
	salt, ok := arr[0].(string)
	if !ok {
		return Disclosure{}, credential.Errorf(credential.MalformedValueError, "disclosure: %w: salt is not a string", ErrMalformedDisclosure)
	}
	d.Salt = salt
	return d, nil
}

// decodeArray parses b as one JSON array with strictjson's rules, by
// wrapping it as the single member of an object.
func decodeArray(b []byte) ([]any, error) {
	t := bytes.TrimLeft(b, " \t\r\n")
	if len(t) == 0 || t[0] != '[' {
		return nil, errors.New("not a JSON array")
	}
	w := make([]byte, 0, len(b)+6)
	w = append(append(append(w, `{"d":`...), b...), '}')
	m, err := strictjson.Object(w, 0)
	if err != nil {
		return nil, err
	}
	arr, ok := m["d"].([]any)
	if !ok || len(m) != 1 {
		return nil, errors.New("not one JSON array")
	}
	return arr, nil
}

// isBase64URL reports whether s is unpadded base64url that the strict
// decoder accepts.
func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return len(s)%4 != 1
}
