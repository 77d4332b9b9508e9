package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/api"
)

// TestPrintTransactionHostile: what a wallet's answer put in a
// transaction (its error description, types, issuer, claim names and
// values) reaches the terminal without a control, escape or layout
// character, and each credential stays on its own lines; oneLine, which
// prints every error, strips them too.
func TestPrintTransactionHostile(t *testing.T) {
	const esc = "\x1b]0;pwned\x07\x1b[2J\u009b31m\u202e"
	var out bytes.Buffer
	printTransaction(env{stdout: &out}, api.VPTransaction{TransactionID: "tx", Status: "failed", Error: "bad " + esc + "\nforged line",
		Credentials: []api.VPCredential{{ID: "q" + esc, Format: "dc+sd-jwt", Issuer: "did:key:z" + esc, VCT: "urn:" + esc,
			Holder: "h" + esc, Claims: map[string]any{"name" + esc + "\n": "v" + esc}}}})
	got := out.String()
	for _, r := range got {
		if r != '\n' && (r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == '\u202e') {
			t.Fatalf("control character %U in %q", r, got)
		}
	}
	if n := strings.Count(got, "\n"); n != 6 {
		t.Fatalf("%d lines, want 6:\n%s", n, got)
	}
	if line := oneLine(errors.New("refused: " + esc + "\ntwo")); strings.ContainsAny(line, "\x1b\x07\n\u009b\u202e") {
		t.Fatalf("oneLine kept a control character: %q", line)
	}
}
