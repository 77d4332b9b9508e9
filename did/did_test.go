package did_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/did"
)

func TestParse(t *testing.T) {
	valid := []struct {
		in, method, id string
	}{
		{"did:example:123456789abcdefghi", "example", "123456789abcdefghi"},
		{"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "key", "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"},
		{"did:web:example.com%3A8443:user:alice", "web", "example.com%3A8443:user:alice"},
		{"did:web:w3c-ccg.github.io", "web", "w3c-ccg.github.io"},
		{"did:a1:b", "a1", "b"},
		{"did:0:0", "0", "0"},
		{"did:ex:a::b", "ex", "a::b"},
		{"did:ex::b", "ex", ":b"},
		{"did:ex:%41%2f", "ex", "%41%2f"},
		{"did:ex:A-Z_a.z", "ex", "A-Z_a.z"},
	}
	for _, tc := range valid {
		t.Run(tc.in, func(t *testing.T) {
			d, err := did.Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if d.Method != tc.method || d.ID != tc.id {
				t.Fatalf("Parse = %+v", d)
			}
			if d.String() != tc.in {
				t.Fatalf("String() = %q", d.String())
			}
		})
	}
	invalid := []struct{ name, in string }{
		{"empty", ""},
		{"no prefix", "example:123"},
		{"uppercase scheme", "DID:example:123"},
		{"missing id", "did:example"},
		{"empty id", "did:example:"},
		{"empty method", "did::123"},
		{"uppercase method", "did:Example:123"},
		{"method with dash", "did:ex-ample:123"},
		{"trailing colon", "did:example:123:"},
		{"only colon", "did:example::"},
		{"bad pct", "did:example:12%3"},
		{"bad pct hex", "did:example:%zz"},
		{"pct at end", "did:example:abc%"},
		{"space", "did:example:12 3"},
		{"path", "did:example:123/path"},
		{"query", "did:example:123?q"},
		{"fragment", "did:example:123#frag"},
		{"tilde", "did:example:a~b"},
		{"unicode", "did:example:é"},
		{"too long", "did:example:" + strings.Repeat("a", did.MaxLength)},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := did.Parse(tc.in); !errors.Is(err, did.ErrInvalidDID) {
				t.Fatalf("Parse(%q) error = %v, want ErrInvalidDID", tc.in, err)
			}
		})
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("MustParse did not panic")
		}
	}()
	did.MustParse("not a did")
}

func TestParseURL(t *testing.T) {
	valid := []struct {
		in                     string
		did, path, query, frag string
	}{
		{"did:example:123", "did:example:123", "", "", ""},
		{"did:example:123#key-1", "did:example:123", "", "", "key-1"},
		{"did:example:123/path/to/x", "did:example:123", "/path/to/x", "", ""},
		{"did:example:123?service=files&relativeRef=%2Fresume.pdf", "did:example:123", "", "service=files&relativeRef=%2Fresume.pdf", ""},
		{"did:example:123/p?versionId=1#frag", "did:example:123", "/p", "versionId=1", "frag"},
		{"did:example:123#a/b?c:@!$&'()*+,;=", "did:example:123", "", "", "a/b?c:@!$&'()*+,;="},
		{"did:example:123?q?r/s", "did:example:123", "", "q?r/s", ""},
		{"did:example:123/", "did:example:123", "/", "", ""},
		{"did:web:example.com%3A8443#owner", "did:web:example.com%3A8443", "", "", "owner"},
	}
	for _, tc := range valid {
		t.Run(tc.in, func(t *testing.T) {
			u, err := did.ParseURL(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if u.DID.String() != tc.did || u.Path != tc.path || u.Query != tc.query || u.Fragment != tc.frag {
				t.Fatalf("ParseURL = %+v", u)
			}
			if u.String() != tc.in {
				t.Fatalf("String() = %q", u.String())
			}
		})
	}
	invalid := []struct{ name, in string }{
		{"empty", ""},
		{"relative", "#key-1"},
		{"bad did", "did:Example:123#k"},
		{"empty id", "did:example:#k"},
		{"trailing colon", "did:example:123:#k"},
		{"fragment hash", "did:example:123#a#b"},
		{"fragment space", "did:example:123#a b"},
		{"fragment bad pct", "did:example:123#%g0"},
		{"query bracket", "did:example:123?a[0]=1"},
		{"path bad pct", "did:example:123/%2"},
		{"path backslash", "did:example:123/a\\b"},
		{"too long", "did:example:123#" + strings.Repeat("a", did.MaxLength)},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := did.ParseURL(tc.in); !errors.Is(err, did.ErrInvalidDIDURL) {
				t.Fatalf("ParseURL(%q) error = %v, want ErrInvalidDIDURL", tc.in, err)
			}
		})
	}
	t.Run("wraps ErrInvalidDID too", func(t *testing.T) {
		if _, err := did.ParseURL("did:X:1#a"); !errors.Is(err, did.ErrInvalidDID) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("empty query and fragment normalise", func(t *testing.T) {
		u, err := did.ParseURL("did:example:1?#")
		if err != nil {
			t.Fatal(err)
		}
		if u.String() != "did:example:1" {
			t.Fatalf("String() = %q", u.String())
		}
	})
}
