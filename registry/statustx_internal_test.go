package registry

import (
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential/statuslist"
)

// TestSuccessor covers the rules between two versions of a list directly,
// including a changed issuer, which the prefix rule stops before it can
// reach them through a transaction (an issuer's prefix is its own).
func TestSuccessor(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	list := func(issuer string, purposes []string, n int, from time.Time, set ...int) *statuslist.List {
		bits, err := statuslist.New(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range set {
			if err := bits.Set(i, true); err != nil {
				t.Fatal(err)
			}
		}
		return &statuslist.List{Issuer: issuer, Purposes: purposes, Bits: bits, ValidFrom: from}
	}
	rev := []string{statuslist.PurposeRevocation}
	sus := []string{statuslist.PurposeSuspension}
	both := []string{statuslist.PurposeRevocation, statuslist.PurposeSuspension}
	const n = statuslist.MinLength
	later := t0.Add(time.Millisecond)
	for _, c := range []struct {
		name       string
		prev, next *statuslist.List
		want       string // "" for success
	}{
		{"more bits", list("did:key:a", rev, n, t0, 1), list("did:key:a", rev, n, later, 1, 2), ""},
		{"same bits, later", list("did:key:a", rev, n, t0, 1), list("did:key:a", rev, n, later, 1), ""},
		{"other issuer", list("did:key:a", rev, n, t0), list("did:key:b", rev, n, later), "issuer did:key:b"},
		{"other purpose", list("did:key:a", rev, n, t0), list("did:key:a", sus, n, later), "purposes"},
		{"purpose added", list("did:key:a", rev, n, t0), list("did:key:a", both, n, later), "purposes"},
		{"longer", list("did:key:a", rev, n, t0), list("did:key:a", rev, n+8, later), "entries"},
		{"shorter", list("did:key:a", rev, n+8, t0), list("did:key:a", rev, n, later), "entries"},
		{"same validFrom", list("did:key:a", rev, n, t0), list("did:key:a", rev, n, t0, 1), "not after"},
		{"earlier validFrom", list("did:key:a", rev, n, t0), list("did:key:a", rev, n, t0.Add(-time.Millisecond), 1), "not after"},
		{"revoked bit cleared", list("did:key:a", rev, n, t0, 3, 13), list("did:key:a", rev, n, later, 3), "entry 13 is revoked"},
		{"first revoked bit cleared", list("did:key:a", rev, n, t0, 0), list("did:key:a", rev, n, later, 1), "entry 0 is revoked"},
		{"last revoked bit cleared", list("did:key:a", rev, n, t0, n-1), list("did:key:a", rev, n, later), "entry 131071 is revoked"},
		{"suspension bit cleared", list("did:key:a", sus, n, t0, 3), list("did:key:a", sus, n, later), ""},
		{"bit cleared in a revocation and suspension list", list("did:key:a", both, n, t0, 3), list("did:key:a", both, n, later), "revocation is final"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := successor(c.prev, c.next)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
}
