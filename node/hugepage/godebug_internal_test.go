package hugepage

import "testing"

func TestThpOffByGodebug(t *testing.T) {
	for in, want := range map[string]bool{
		"":                          false,
		"disablethp=1":              true,
		"disablethp=0":              false,
		"gctrace=1,disablethp=1":    true,
		"gctrace=1, disablethp=1":   false, // the runtime does not trim either
		"disablethp=2":              true,
		"disablethp=1,disablethp=x": true,
		"madvdontneed=1":            false,
		"xdisablethp=1":             false,
		"disablethp=1,disablethp=0": false, // the last wins, as in the runtime
		"disablethp=0,disablethp=1": true,
	} {
		if got := thpOffByGodebug(in); got != want {
			t.Errorf("thpOffByGodebug(%q) = %v, want %v", in, got, want)
		}
	}
}
