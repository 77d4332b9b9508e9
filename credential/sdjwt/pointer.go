package sdjwt

import (
	"strconv"
	"strings"
)

// parsePointer splits a JSON pointer (RFC 6901) into its reference
// tokens, unescaped. The root pointer "" has no tokens.
func parsePointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, errPointer(p, "does not start with /")
	}
	parts := strings.Split(p[1:], "/")
	for i, t := range parts {
		for j := 0; j < len(t); j++ {
			if t[j] == '~' && (j+1 == len(t) || t[j+1] != '0' && t[j+1] != '1') {
				return nil, errPointer(p, "has a ~ that is not ~0 or ~1")
			}
		}
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return parts, nil
}

// formatPointer joins unescaped tokens into a JSON pointer.
func formatPointer(tokens []string) string {
	var sb strings.Builder
	for _, t := range tokens {
		sb.WriteByte('/')
		sb.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return sb.String()
}

// arrayIndex reads a reference token as an array index: digits without
// a leading zero (RFC 6901 section 4).
func arrayIndex(t string) (int, bool) {
	if t == "" || len(t) > 9 || len(t) > 1 && t[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(t)
	return n, err == nil
}

type pointerError struct{ p, why string }

func errPointer(p, why string) error { return &pointerError{p, why} }

func (e *pointerError) Error() string { return "JSON pointer " + strconv.Quote(e.p) + " " + e.why }

func (e *pointerError) Unwrap() error { return ErrBadPointer }

// child appends a token to a path, copying it.
func child(path []string, t string) []string {
	out := make([]string, len(path)+1)
	copy(out, path)
	out[len(path)] = t
	return out
}

// isPrefix reports whether a is a prefix of b (or equal).
func isPrefix(a, b []string) bool {
	if len(a) > len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
