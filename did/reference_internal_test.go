package did

import "testing"

// TestResolveReferenceRFC3986 runs every example of RFC 3986 section 5.4
// (normal and abnormal) against its base URI.
func TestResolveReferenceRFC3986(t *testing.T) {
	const base = "http://a/b/c/d;p?q"
	examples := []struct{ ref, want string }{
		// 5.4.1 Normal Examples
		{"g:h", "g:h"},
		{"g", "http://a/b/c/g"},
		{"./g", "http://a/b/c/g"},
		{"g/", "http://a/b/c/g/"},
		{"/g", "http://a/g"},
		{"//g", "http://g"},
		{"?y", "http://a/b/c/d;p?y"},
		{"g?y", "http://a/b/c/g?y"},
		{"#s", "http://a/b/c/d;p?q#s"},
		{"g#s", "http://a/b/c/g#s"},
		{"g?y#s", "http://a/b/c/g?y#s"},
		{";x", "http://a/b/c/;x"},
		{"g;x", "http://a/b/c/g;x"},
		{"g;x?y#s", "http://a/b/c/g;x?y#s"},
		{"", "http://a/b/c/d;p?q"},
		{".", "http://a/b/c/"},
		{"./", "http://a/b/c/"},
		{"..", "http://a/b/"},
		{"../", "http://a/b/"},
		{"../g", "http://a/b/g"},
		{"../..", "http://a/"},
		{"../../", "http://a/"},
		{"../../g", "http://a/g"},
		// 5.4.2 Abnormal Examples
		{"../../../g", "http://a/g"},
		{"../../../../g", "http://a/g"},
		{"/./g", "http://a/g"},
		{"/../g", "http://a/g"},
		{"g.", "http://a/b/c/g."},
		{".g", "http://a/b/c/.g"},
		{"g..", "http://a/b/c/g.."},
		{"..g", "http://a/b/c/..g"},
		{"./../g", "http://a/b/g"},
		{"./g/.", "http://a/b/c/g/"},
		{"g/./h", "http://a/b/c/g/h"},
		{"g/../h", "http://a/b/c/h"},
		{"g;x=1/./y", "http://a/b/c/g;x=1/y"},
		{"g;x=1/../y", "http://a/b/c/y"},
		{"g?y/./x", "http://a/b/c/g?y/./x"},
		{"g?y/../x", "http://a/b/c/g?y/../x"},
		{"g#s/./x", "http://a/b/c/g#s/./x"},
		{"g#s/../x", "http://a/b/c/g#s/../x"},
		{"http:g", "http:g"}, // strict parser
	}
	for _, e := range examples {
		if got := resolveReference(base, e.ref); got != e.want {
			t.Errorf("resolve %q against %s = %q, want %q", e.ref, base, got, e.want)
		}
	}
}

// TestResolveReferenceBases covers bases the RFC examples do not: an
// authority with an empty path (section 5.2.3), a trailing slash, and
// the DID Resolution example.
func TestResolveReferenceBases(t *testing.T) {
	for _, e := range []struct{ base, ref, want string }{
		{"https://example.com", "x", "https://example.com/x"},
		{"https://example.com", "/x?y", "https://example.com/x?y"},
		{"https://example.com/files/", "a/b.pdf", "https://example.com/files/a/b.pdf"},
		{"https://example.com/files", "a/b.pdf", "https://example.com/a/b.pdf"},
		{"https://example.com/messages/8377464", "/some/path?query", "https://example.com/some/path?query"},
		{"https://example.com/a?q=1", "", "https://example.com/a?q=1"},
		{"https://example.com/a/b/", "../../../../etc", "https://example.com/etc"},
		{"urn:example:a", "?x", "urn:example:a?x"},
	} {
		if got := resolveReference(e.base, e.ref); got != e.want {
			t.Errorf("resolve %q against %s = %q, want %q", e.ref, e.base, got, e.want)
		}
	}
}

func TestNormalizePct(t *testing.T) {
	for in, want := range map[string]string{
		"key-1":        "key-1",
		"key%2D1":      "key-1",
		"key%2d1":      "key-1",
		"a%2fb":        "a%2Fb",
		"a%7E":         "a~",
		"%":            "%",
		"%4":           "%4",
		"%zz":          "%zz",
		"did:ex:1#%41": "did:ex:1#A",
	} {
		if got := normalizePct(in); got != want {
			t.Errorf("normalizePct(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzResolveReference checks that resolution never panics, and that a
// relativeRef that checkRelativeRef accepts keeps an http(s) base's
// scheme and authority: no reference leaves the service's host.
func FuzzResolveReference(f *testing.F) {
	for _, s := range []string{"g", "../g", "//evil.example/x", "/a?b#c", "?", "#", "..", "a:b", "%2F%2Fevil", "/..//evil", "./:x"} {
		f.Add("https://svc.example:8443/base/path", s)
	}
	f.Fuzz(func(t *testing.T, base, ref string) {
		got := resolveReference(base, ref)
		if checkRelativeRef(ref) != nil || !isURI(base) {
			return
		}
		b, g := splitURI(base), splitURI(got)
		if g.scheme != b.scheme || g.hasAuthority != b.hasAuthority || g.authority != b.authority {
			t.Fatalf("resolve %q against %q = %q: scheme or authority changed", ref, base, got)
		}
	})
}
