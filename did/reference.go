package did

import "strings"

// uriParts are the five components of a URI reference as RFC 3986
// Appendix B splits them. The has* fields tell an empty component from an
// absent one ("x?" has an empty query, "x" none).
type uriParts struct {
	scheme, authority, path, query, fragment string
	hasAuthority, hasQuery, hasFragment      bool
}

// splitURI splits a URI reference with the regular expression of RFC 3986
// Appendix B, ^(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?,
// written out. It never fails: any string splits.
func splitURI(s string) uriParts {
	var p uriParts
	if i := strings.IndexByte(s, '#'); i >= 0 {
		p.fragment, p.hasFragment, s = s[i+1:], true, s[:i]
	}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		p.query, p.hasQuery, s = s[i+1:], true, s[:i]
	}
	if i := strings.IndexAny(s, ":/"); i > 0 && s[i] == ':' {
		p.scheme, s = s[:i], s[i+1:]
	}
	if rest, ok := strings.CutPrefix(s, "//"); ok {
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			i = len(rest)
		}
		p.authority, p.hasAuthority, s = rest[:i], true, rest[i:]
	}
	p.path = s
	return p
}

// String recomposes the components (RFC 3986 section 5.3).
func (p uriParts) String() string {
	var b strings.Builder
	if p.scheme != "" {
		b.WriteString(p.scheme)
		b.WriteByte(':')
	}
	if p.hasAuthority {
		b.WriteString("//")
		b.WriteString(p.authority)
	} else if strings.HasPrefix(p.path, "//") {
		// Without an authority a path starting "//" would read back as
		// one (the ambiguity RFC 3986 section 5.2.4 leaves open); "/."
		// keeps it a path, as the WHATWG URL standard does.
		b.WriteString("/.")
	}
	b.WriteString(p.path)
	if p.hasQuery {
		b.WriteByte('?')
		b.WriteString(p.query)
	}
	if p.hasFragment {
		b.WriteByte('#')
		b.WriteString(p.fragment)
	}
	return b.String()
}

// resolveReference resolves the URI reference ref against the absolute
// URI base with the algorithm of RFC 3986 section 5.2 (strict: a ref with
// a scheme is taken as absolute even if it is base's scheme). It checks
// neither string; callers do.
func resolveReference(base, ref string) string {
	b, r := splitURI(base), splitURI(ref)
	var t uriParts
	switch {
	case r.scheme != "":
		t = r
		t.path = removeDotSegments(r.path)
	case r.hasAuthority:
		t = r
		t.scheme = b.scheme
		t.path = removeDotSegments(r.path)
	default:
		t.scheme, t.authority, t.hasAuthority = b.scheme, b.authority, b.hasAuthority
		switch {
		case r.path == "":
			t.path = b.path
			t.query, t.hasQuery = b.query, b.hasQuery
			if r.hasQuery {
				t.query, t.hasQuery = r.query, true
			}
		case strings.HasPrefix(r.path, "/"):
			t.path = removeDotSegments(r.path)
			t.query, t.hasQuery = r.query, r.hasQuery
		default:
			t.path = removeDotSegments(merge(b, r.path))
			t.query, t.hasQuery = r.query, r.hasQuery
		}
	}
	t.fragment, t.hasFragment = r.fragment, r.hasFragment
	return t.String()
}

// merge merges a relative-path reference with the base's path (RFC 3986
// section 5.2.3).
func merge(base uriParts, path string) string {
	if base.hasAuthority && base.path == "" {
		return "/" + path
	}
	i := strings.LastIndexByte(base.path, '/')
	return base.path[:i+1] + path
}

// removeDotSegments removes "." and ".." segments from a path (RFC 3986
// section 5.2.4), in time linear in the path's length.
func removeDotSegments(in string) string {
	var out []string // output segments, each with its leading '/' if it had one
	for in != "" {
		switch {
		case strings.HasPrefix(in, "../"):
			in = in[3:]
		case strings.HasPrefix(in, "./"):
			in = in[2:]
		case strings.HasPrefix(in, "/./"):
			in = in[2:]
		case in == "/.":
			in = "/"
		case strings.HasPrefix(in, "/../"):
			in = in[3:]
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case in == "/..":
			in = "/"
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case in == "." || in == "..":
			in = ""
		default:
			// Move the first segment (with its leading '/', if any) up to,
			// not including, the next '/'.
			start := 0
			if in[0] == '/' {
				start = 1
			}
			i := strings.IndexByte(in[start:], '/')
			if i < 0 {
				i = len(in)
			} else {
				i += start
			}
			out = append(out, in[:i])
			in = in[i:]
		}
	}
	return strings.Join(out, "")
}
