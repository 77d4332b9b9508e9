// Package strictjson decodes JSON the way signed identity data needs it:
// one meaning per document. Repeated member names (which parsers resolve
// differently), nesting beyond a bound, trailing data and oversize input
// are errors. DID operations and verifiable credentials both decode with it.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unsafe"
)

// MaxDepth is the deepest nesting of arrays and objects accepted.
const MaxDepth = 64

// Errors wrapped by this package's functions.
var (
	// ErrDuplicate reports an object with a repeated member name.
	ErrDuplicate = errors.New("duplicate member")
	// ErrTooDeep reports nesting beyond MaxDepth.
	ErrTooDeep = errors.New("nested too deeply")
	// ErrTooLarge reports input beyond the caller's size bound.
	ErrTooLarge = errors.New("too large")
	// ErrTrailing reports data after the JSON value.
	ErrTrailing = errors.New("trailing data after the JSON value")
)

// CheckDuplicates rejects a JSON text with an object that repeats a
// member name or that nests deeper than MaxDepth.
func CheckDuplicates(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	type frame struct {
		obj  bool
		keys map[string]bool
		key  bool // next token in an object is a key
	}
	var stack []*frame
	for {
		t, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.key {
			if k, ok := t.(string); ok {
				if top.keys[k] {
					return fmt.Errorf("%w %q", ErrDuplicate, k)
				}
				top.keys[k] = true
				top.key = false
				continue
			}
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			if len(stack) >= MaxDepth {
				return ErrTooDeep
			}
			if top != nil && top.obj {
				top.key = true
			}
			stack = append(stack, &frame{obj: t == json.Delim('{'), keys: map[string]bool{}, key: true})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		default:
			if top != nil && top.obj {
				top.key = true
			}
		}
	}
}

// Object decodes b, at most maxBytes long (0: no bound), as one JSON
// object in a single pass: repeated member names, nesting beyond MaxDepth
// and trailing data are errors. Numbers stay json.Number so that values
// survive a round trip unchanged.
func Object(b []byte, maxBytes int) (map[string]any, error) {
	if maxBytes > 0 && len(b) > maxBytes {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(b), maxBytes)
	}
	// The bytes are only read during the call, and every string of the
	// result is copied from them.
	return decodeObject(unsafe.String(unsafe.SliceData(b), len(b)), false)
}

// ObjectString is [Object] for a string: the same rules, errors and
// result, but the result's names, numbers and strings without escapes
// are substrings of s, not copies (one allocation fewer per string), so
// that any of them keeps all of s in memory. Use it where s is bounded
// and the result is short-lived (a request's body or token).
func ObjectString(s string, maxBytes int) (map[string]any, error) {
	m, _, err := ObjectStringMarshaled(s, maxBytes)
	return m, err
}

// ObjectStringMarshaled is [ObjectString] that also reports whether s is
// byte for byte what encoding/json's Marshal writes for the result: no
// space, members sorted by name, every string printable ASCII that Marshal
// writes as it is (no escapes, none of '<', '>' and '&'), numbers as they
// are. A caller that would encode the result again can then use s itself.
// (It reports false for some texts Marshal does write, such as non-ASCII
// strings.)
func ObjectStringMarshaled(s string, maxBytes int) (map[string]any, bool, error) {
	if maxBytes > 0 && len(s) > maxBytes {
		return nil, false, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(s), maxBytes)
	}
	return decodeObjectMarshaled(s, true)
}
