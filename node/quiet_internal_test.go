package node

import "testing"

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
