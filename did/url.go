package did

import (
	"fmt"
	"strings"
)

// URL is a parsed DID URL (DID Core 1.0 section 3.2):
//
//	did-url = did path-abempty [ "?" query ] [ "#" fragment ]
//
// Path keeps its leading '/', Query has no '?' and Fragment no '#'; all
// three keep their pct-encoding. An empty query or fragment ("did:ex:a?")
// is not distinguished from an absent one.
type URL struct {
	DID      DID
	Path     string
	Query    string
	Fragment string
}

// ParseURL parses an absolute DID URL. The DID part follows [Parse]; path,
// query and fragment must use only RFC 3986 pchar characters (plus '/' and
// '?' in query and fragment) with well-formed pct-encoding. Relative DID
// URLs ("#key-1") are not accepted. Errors wrap [ErrInvalidDIDURL].
func ParseURL(s string) (URL, error) {
	if len(s) > MaxLength {
		return URL{}, fmt.Errorf("parse did url: %w: longer than %d bytes", ErrInvalidDIDURL, MaxLength)
	}
	end := strings.IndexAny(s, "/?#")
	if end < 0 {
		end = len(s)
	}
	d, err := Parse(s[:end])
	if err != nil {
		return URL{}, fmt.Errorf("parse did url %s: %w: %w", quote(s), ErrInvalidDIDURL, err)
	}
	u := URL{DID: d}
	rest := s[end:]
	rest, u.Fragment, _ = strings.Cut(rest, "#")
	if err := checkURIPart(u.Fragment, "/?"); err != nil {
		return URL{}, fmt.Errorf("parse did url %s: %w: fragment: %w", quote(s), ErrInvalidDIDURL, err)
	}
	rest, u.Query, _ = strings.Cut(rest, "?")
	if err := checkURIPart(u.Query, "/?"); err != nil {
		return URL{}, fmt.Errorf("parse did url %s: %w: query: %w", quote(s), ErrInvalidDIDURL, err)
	}
	u.Path = rest
	if err := checkURIPart(u.Path, "/"); err != nil {
		return URL{}, fmt.Errorf("parse did url %s: %w: path: %w", quote(s), ErrInvalidDIDURL, err)
	}
	return u, nil
}

// String returns the DID URL; an empty Query or Fragment is omitted.
func (u URL) String() string {
	var b strings.Builder
	b.WriteString(u.DID.String())
	b.WriteString(u.Path)
	if u.Query != "" {
		b.WriteByte('?')
		b.WriteString(u.Query)
	}
	if u.Fragment != "" {
		b.WriteByte('#')
		b.WriteString(u.Fragment)
	}
	return b.String()
}

// checkURIPart checks that s consists of RFC 3986 pchar characters, the
// extra characters in extra, and well-formed pct-encoding.
func checkURIPart(s, extra string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isPchar(c) || strings.IndexByte(extra, c) >= 0:
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return syntaxError(fmt.Sprintf("malformed pct-encoding at %d", i))
			}
			i += 2
		default:
			return syntaxError(fmt.Sprintf("invalid character %q at %d", c, i))
		}
	}
	return nil
}

// isPchar reports whether c is an RFC 3986 pchar other than pct-encoded:
// unreserved / sub-delims / ":" / "@".
func isPchar(c byte) bool {
	if isAlnum(c) {
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@", c) >= 0
}

// isURI reports whether s is an absolute URI per RFC 3986: a scheme, ':'
// and then only URI characters with well-formed pct-encoding.
func isURI(s string) bool {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || scheme == "" || !isAlpha(scheme[0]) {
		return false
	}
	for i := 1; i < len(scheme); i++ {
		c := scheme[i]
		if !isAlnum(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	// gen-delims and sub-delims are all allowed somewhere in a URI; a
	// structural parse is not needed to reject what must never appear.
	return checkURIPart(rest, "/?#[]") == nil
}

// AbsoluteRef resolves a relative DID URL ("#frag") against the DID base.
// Other strings are returned unchanged.
func AbsoluteRef(base, ref string) string {
	if strings.HasPrefix(ref, "#") {
		return base + ref
	}
	return ref
}

func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
