package did

import (
	"fmt"
	"strings"
)

// MaxLength is the longest DID or DID URL that [Parse] and [ParseURL]
// accept, in bytes.
const MaxLength = 2048

// DID is a parsed decentralized identifier. ID is the method-specific-id
// exactly as written, pct-encoding included. The zero value is not a DID.
type DID struct {
	// Method is the method name, for example "key" or "web".
	Method string
	// ID is the method-specific-id.
	ID string
}

// Parse parses s as a DID per the DID Core 1.0 ABNF. It rejects DID URLs
// (path, query or fragment), uppercase or empty method names, an empty or
// ':'-terminated method-specific-id, malformed pct-encoding and strings
// longer than [MaxLength]. Errors wrap [ErrInvalidDID].
func Parse(s string) (DID, error) {
	if len(s) > MaxLength {
		return DID{}, fmt.Errorf("parse did: %w: longer than %d bytes", ErrInvalidDID, MaxLength)
	}
	rest, ok := strings.CutPrefix(s, "did:")
	if !ok {
		return DID{}, fmt.Errorf("parse did %s: %w: missing \"did:\" prefix", quote(s), ErrInvalidDID)
	}
	method, id, ok := strings.Cut(rest, ":")
	if !ok {
		return DID{}, fmt.Errorf("parse did %s: %w: missing method-specific-id", quote(s), ErrInvalidDID)
	}
	if err := checkMethod(method); err != nil {
		return DID{}, fmt.Errorf("parse did %s: %w: %w", quote(s), ErrInvalidDID, err)
	}
	if err := checkMethodSpecificID(id); err != nil {
		return DID{}, fmt.Errorf("parse did %s: %w: %w", quote(s), ErrInvalidDID, err)
	}
	return DID{Method: method, ID: id}, nil
}

// MustParse is like [Parse] but panics on error. It is for constants in
// tests and examples.
func MustParse(s string) DID {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// String returns "did:" + Method + ":" + ID.
func (d DID) String() string { return "did:" + d.Method + ":" + d.ID }

// IsZero reports whether d is the zero value.
func (d DID) IsZero() bool { return d.Method == "" && d.ID == "" }

// syntaxError is a reason without the sentinel; callers wrap it.
type syntaxError string

func (e syntaxError) Error() string { return string(e) }

func checkMethod(m string) error {
	if m == "" {
		return syntaxError("empty method name")
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return syntaxError(fmt.Sprintf("method name: invalid character %q at %d (want [a-z0-9])", c, i))
		}
	}
	return nil
}

func checkMethodSpecificID(id string) error {
	if id == "" {
		return syntaxError("empty method-specific-id")
	}
	if id[len(id)-1] == ':' {
		return syntaxError("method-specific-id ends with ':'")
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case isAlnum(c) || c == '.' || c == '-' || c == '_' || c == ':':
		case c == '%':
			if i+2 >= len(id) || !isHex(id[i+1]) || !isHex(id[i+2]) {
				return syntaxError(fmt.Sprintf("method-specific-id: malformed pct-encoding at %d", i))
			}
			i += 2
		default:
			return syntaxError(fmt.Sprintf("method-specific-id: invalid character %q at %d", c, i))
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// quote quotes s for an error message, shortening long input.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		return fmt.Sprintf("%q...", s[:max])
	}
	return fmt.Sprintf("%q", s)
}
