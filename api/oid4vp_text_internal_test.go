package api

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestPrintableText: what a wallet presented reaches a result or an
// answer with its controls, format characters, separators and invalid
// bytes escaped, and cut to the bound.
func TestPrintableText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"plain text, déjà vu", 100, "plain text, déjà vu"},
		{"a\x1b[2Jb\x07", 100, `a\u001b[2Jb\u0007`},
		{"tab\tnl\ncr\r", 100, `tab\u0009nl\u000acr\u000d`},
		{"c1\u0085 bidi\u202e zwj\u200d ls\u2028 ps\u2029", 100, `c1\u0085 bidi\u202e zwj\u200d ls\u2028 ps\u2029`},
		{"bad\xff\xfe", 100, `bad\xff\xfe`},
		{"real\ufffd", 100, `real\ufffd`},
		{"tag\U000e0041", 100, `tag\U000e0041`},
		{"0123456789", 10, "0123456789"},
		{"0123456789a", 10, "0123456..."},
		{"\x1b\x1b\x1b", 10, `\u001b...`},
	} {
		if got := printableText(tc.in, tc.max); got != tc.want {
			t.Errorf("printableText(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

// FuzzPrintableText: whatever the input, the output is valid UTF-8 of
// printable runes (and spaces), at most the bound, and the input itself
// when it is short and printable.
func FuzzPrintableText(f *testing.F) {
	for _, s := range []string{"", "ok", "\x1b]0;x\x07", "\u202e", "\xff", strings.Repeat("\x00", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := printableText(s, 256)
		if len(got) > 256 || !utf8.ValidString(got) {
			t.Fatalf("%q: %q", s, got)
		}
		clean := true
		for _, r := range got {
			if r != ' ' && (!unicode.IsGraphic(r) || r == utf8.RuneError) {
				t.Fatalf("%q: %q holds %U", s, got, r)
			}
		}
		for _, r := range s {
			clean = clean && (r == ' ' || unicode.IsGraphic(r) && r != utf8.RuneError)
		}
		if clean && utf8.ValidString(s) && len(s) <= 256 && got != s {
			t.Fatalf("%q changed to %q", s, got)
		}
	})
}
