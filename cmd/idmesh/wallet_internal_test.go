package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestInLine: text from a credential or a node cannot lay out the
// terminal: escape sequences, C1 controls, bidi overrides and line
// separators are dropped, and within a line breaks and tabs become
// spaces (security review 2, finding 5).
func TestInLine(t *testing.T) {
	for in, want := range map[string]string{
		"did:example:1":                     "did:example:1",
		"a\x1b[31mred\x1b[0m":               "a[31mred[0m",
		"x\u202eevil":                       "xevil",
		"row\ndid:example:fake  2026-01-01": "row did:example:fake  2026-01-01",
		"l\u2028s\u2029p":                   "lsp",
		"c1\u009bx":                         "c1x",
		"tab\there":                         "tab here",
	} {
		if got := inLine(in); got != want {
			t.Errorf("inLine(%q) = %q, want %q", in, got, want)
		}
	}
	if got := sanitize("a\nb\x1b"); got != "a\nb" {
		t.Errorf("sanitize keeps line breaks of a block: %q", got)
	}
}

// TestConfirm: only y or yes (any case) on the first line presents;
// anything else, an empty or closed input and a flood of bytes decline.
func TestConfirm(t *testing.T) {
	for in, want := range map[string]bool{
		"y\n": true, "YES\n": true, " yes \r\n": true, "y": true,
		"n\n": false, "\n": false, "": false, "yess\n": false, "no\ny\n": false,
		strings.Repeat("y", 1<<20): false,
	} {
		var stderr bytes.Buffer
		e := env{stdin: strings.NewReader(in), stderr: &stderr}
		if got := confirm(e, "Present? "); got != want {
			t.Errorf("confirm(%.20q) = %v, want %v", in, got, want)
		}
		if stderr.String() != "Present? " {
			t.Errorf("question %q", stderr.String())
		}
	}
	if isTerminalReader(strings.NewReader("y\n")) {
		t.Error("a string reader is a terminal")
	}
}
