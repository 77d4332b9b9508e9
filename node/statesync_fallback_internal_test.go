package node

import (
	"math"
	"slices"
	"testing"
)

// TestFallbackHeights: the heights a witness lacking the target is asked
// at step back from the target, doubling, end at 1, stay below the
// target and number at most 65 (no overflow at the top of the range).
func TestFallbackHeights(t *testing.T) {
	for _, tc := range []struct {
		target uint64
		want   []uint64
	}{
		{target: 1, want: nil},
		{target: 2, want: []uint64{1}},
		{target: 3, want: []uint64{2, 1}},
		{target: 8, want: []uint64{7, 6, 4, 1}},
		{target: 9, want: []uint64{8, 7, 5, 1}},
		{target: 78, want: []uint64{77, 76, 74, 70, 62, 46, 14, 1}},
	} {
		if got := fallbackHeights(tc.target); !slices.Equal(got, tc.want) {
			t.Errorf("fallbackHeights(%d) = %v, want %v", tc.target, got, tc.want)
		}
	}
	for _, target := range []uint64{math.MaxUint64, math.MaxUint64 - 1, 1 << 63, 1<<63 + 1, 1000} {
		hs := fallbackHeights(target)
		if len(hs) == 0 || len(hs) > 65 || hs[len(hs)-1] != 1 {
			t.Fatalf("fallbackHeights(%d): %d heights, last %v", target, len(hs), hs[len(hs)-1:])
		}
		for i, h := range hs {
			if h == 0 || h >= target || (i > 0 && h >= hs[i-1]) {
				t.Fatalf("fallbackHeights(%d): %v not descending below the target", target, hs)
			}
		}
	}
}
