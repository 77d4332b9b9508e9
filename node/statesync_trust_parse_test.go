package node_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/registry"
)

const testBlockID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// TestParseStateSyncTrust: HEIGHT:BLOCKID is read strictly; anything
// else wraps ErrTrustSyntax.
func TestParseStateSyncTrust(t *testing.T) {
	id, _ := registry.ParseHash(testBlockID)
	for _, c := range []struct {
		in   string
		want node.StateSyncTrust
		ok   bool
	}{
		{"1:" + testBlockID, node.StateSyncTrust{Height: 1, BlockID: id}, true},
		{"1000:" + testBlockID, node.StateSyncTrust{Height: 1000, BlockID: id}, true},
		{"1000:" + strings.ToUpper(testBlockID), node.StateSyncTrust{Height: 1000, BlockID: id}, true},
		{"18446744073709551615:" + testBlockID, node.StateSyncTrust{Height: 1<<64 - 1, BlockID: id}, true},
		{"", node.StateSyncTrust{}, false},
		{"1000", node.StateSyncTrust{}, false},
		{testBlockID, node.StateSyncTrust{}, false},
		{":" + testBlockID, node.StateSyncTrust{}, false},
		{"1000:", node.StateSyncTrust{}, false},
		{"0:" + testBlockID, node.StateSyncTrust{}, false},
		{"01:" + testBlockID, node.StateSyncTrust{}, false},
		{"+1:" + testBlockID, node.StateSyncTrust{}, false},
		{"-1:" + testBlockID, node.StateSyncTrust{}, false},
		{" 1:" + testBlockID, node.StateSyncTrust{}, false},
		{"1 :" + testBlockID, node.StateSyncTrust{}, false},
		{"1: " + testBlockID, node.StateSyncTrust{}, false},
		{"1:" + testBlockID + "\n", node.StateSyncTrust{}, false},
		{"1_000:" + testBlockID, node.StateSyncTrust{}, false},
		{"0x10:" + testBlockID, node.StateSyncTrust{}, false},
		{"1e3:" + testBlockID, node.StateSyncTrust{}, false},
		{"18446744073709551616:" + testBlockID, node.StateSyncTrust{}, false},
		{"1:" + testBlockID[:63], node.StateSyncTrust{}, false},
		{"1:" + testBlockID + "0", node.StateSyncTrust{}, false},
		{"1:" + testBlockID[:62] + "zz", node.StateSyncTrust{}, false},
		{"1:0x" + testBlockID[:62], node.StateSyncTrust{}, false},
		{"1:" + testBlockID + ":2", node.StateSyncTrust{}, false},
		{"1::" + testBlockID, node.StateSyncTrust{}, false},
		{strings.Repeat("9", 1<<20) + ":" + testBlockID, node.StateSyncTrust{}, false},
	} {
		got, err := node.ParseStateSyncTrust(c.in)
		short := c.in
		if len(short) > 90 {
			short = short[:90] + "…"
		}
		switch {
		case c.ok && (err != nil || got != c.want):
			t.Errorf("%q: %+v, %v; want %+v", short, got, err, c.want)
		case !c.ok && !errors.Is(err, node.ErrTrustSyntax):
			t.Errorf("%q: %+v, %v; want ErrTrustSyntax", short, got, err)
		case !c.ok && len(err.Error()) > 400:
			t.Errorf("%q: an error of %d bytes", short, len(err.Error()))
		}
	}
}

// TestParseCrossCheckMode: exactly best-effort or required.
func TestParseCrossCheckMode(t *testing.T) {
	for in, want := range map[string]node.CrossCheckMode{"best-effort": node.CrossCheckBestEffort, "required": node.CrossCheckRequired} {
		if got, err := node.ParseCrossCheckMode(in); err != nil || got != want || got.String() != in {
			t.Errorf("%q: %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "Required", "besteffort", "best_effort", "required ", "off", "on", "true", strings.Repeat("x", 1<<16)} {
		if _, err := node.ParseCrossCheckMode(in); !errors.Is(err, node.ErrCrossCheckMode) || len(err.Error()) > 200 {
			t.Errorf("%.40q: %v", in, err)
		}
	}
}

// FuzzParseStateSyncTrust: the parser never panics, accepts only what
// its canonical form reads back to, and accepts no more than 85 bytes.
func FuzzParseStateSyncTrust(f *testing.F) {
	for _, s := range []string{"1:" + testBlockID, "0:" + testBlockID, "18446744073709551615:" + testBlockID, "1:", ":", "", "01:ab"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := node.ParseStateSyncTrust(s)
		if err != nil {
			if !errors.Is(err, node.ErrTrustSyntax) {
				t.Fatalf("%q: %v does not wrap ErrTrustSyntax", s, err)
			}
			return
		}
		if len(s) > 85 || got.Height == 0 {
			t.Fatalf("%q accepted: %+v", s, got)
		}
		again, err := node.ParseStateSyncTrust(got.String())
		if err != nil || again != got || !strings.EqualFold(got.String(), s) {
			t.Fatalf("%q: %+v reads back as %+v, %v", s, got, again, err)
		}
	})
}
