package api

import (
	"strconv"
	"testing"
)

// FuzzProofHeight: the height parameter accepts exactly the canonical
// decimal spellings of a uint64, and nothing else.
func FuzzProofHeight(f *testing.F) {
	for _, s := range []string{"0", "1", "01", "", "-1", "+1", "18446744073709551615", "18446744073709551616", " 1", "1e3", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseProofHeight([]string{s})
		if err != nil {
			if len(err.Error()) > 200 {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			return
		}
		if strconv.FormatUint(h, 10) != s {
			t.Fatalf("%q parsed as %d", s, h)
		}
	})
}
