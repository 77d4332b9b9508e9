package node

import (
	"testing"
	"time"
)

func TestQuietStart(t *testing.T) {
	for _, tc := range []struct {
		name              string
		waiting, proposer bool
		n, last           int
		start, again      bool
	}{
		{"first check", true, true, 40, -1, false, true},
		{"still growing", true, true, 40, 30, false, true},
		{"quiet", true, true, 40, 40, true, false},
		{"quiet at the floor", true, true, QuietMinTxs, QuietMinTxs, true, false},
		{"quiet below the floor", true, true, QuietMinTxs - 1, QuietMinTxs - 1, false, true},
		{"empty", true, true, 0, 0, false, true},
		{"another validator proposes", true, false, 40, 40, false, false},
		{"the height started", false, true, 40, 40, false, false},
	} {
		start, again := quietStart(tc.waiting, tc.proposer, tc.n, tc.last)
		if start != tc.start || again != tc.again {
			t.Errorf("%s: start %v again %v, want %v %v", tc.name, start, again, tc.start, tc.again)
		}
	}
}

// TestQuietFloor: a positive Quiet below MinQuiet is raised to it, so
// that the checks cannot keep a core busy; zero stays off.
func TestQuietFloor(t *testing.T) {
	for _, tc := range []struct{ in, want time.Duration }{{0, 0}, {time.Nanosecond, MinQuiet}, {MinQuiet, MinQuiet}, {5 * time.Millisecond, 5 * time.Millisecond}} {
		c := &Consensus{Quiet: tc.in}
		c.defaults()
		if c.Quiet != tc.want {
			t.Errorf("Quiet %v became %v, want %v", tc.in, c.Quiet, tc.want)
		}
	}
}
