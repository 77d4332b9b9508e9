package hugepage

import "testing"

func TestGodebugOff(t *testing.T) {
	for in, want := range map[string]string{
		"":                              "",
		",":                             "",
		"disablethp=1":                  "disablethp=1",
		"disablethp=0":                  "",
		"gctrace=1,disablethp=1":        "disablethp=1",
		"gctrace=1, disablethp=1":       "", // the runtime does not trim either
		"disablethp=2":                  "disablethp=2",
		"disablethp=1,disablethp=x":     "disablethp=1", // not a number: no change
		"disablethp=1,disablethp=0":     "",             // the last wins
		"disablethp=99999999999":        "",             // not a 32-bit number
		"madvdontneed=1":                "",
		"madvdontneed=0":                "madvdontneed=0",
		"madvdontneed=0,madvdontneed=1": "",
		"harddecommit=1":                "harddecommit=1",
		"xdisablethp=1":                 "",
	} {
		if got := godebugOff(in); got != want {
			t.Errorf("godebugOff(%q) = %q, want %q", in, got, want)
		}
	}
}
