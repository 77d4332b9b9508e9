package hugepage_test

import (
	"strings"
	"testing"

	"github.com/idmesh/idmesh/node/hugepage"
)

func TestParseMode(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"always [madvise] never\n", "madvise", true},
		{"[always] madvise never", "always", true},
		{"always madvise [never]", "never", true},
		{"always defer defer+madvise [madvise] never", "madvise", true},
		{"always madvise never", "", false},
		{"[always] [never]", "", false},
		{"[]", "", false},
		{"", "", false},
		{strings.Repeat("a ", 200) + "[madvise]", "", false},
	} {
		got, err := hugepage.ParseMode(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseMode(%q) = %q, %v; want %q, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}

func FuzzParseMode(f *testing.F) {
	f.Add("always [madvise] never\n")
	f.Add("[x]")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := hugepage.ParseMode(s)
		if err != nil {
			return
		}
		if got == "" || !strings.Contains(s, "["+got+"]") {
			t.Fatalf("ParseMode(%q) = %q, not a bracketed word of it", s, got)
		}
	})
}

func TestParseAnonHuge(t *testing.T) {
	rollup := "55d0c0000000-7ffc7b5f1000 ---p 00000000 00:00 0 [rollup]\nRss:              174068 kB\nAnonymous:        160000 kB\nAnonHugePages:    131072 kB\nShmemPmdMapped:        0 kB\n"
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{rollup, 131072 << 10, true},
		{"AnonHugePages:         0 kB\n", 0, true},
		{"AnonHugePages: 12 MB\n", 0, false},
		{"AnonHugePages: -4 kB\n", 0, false},
		{"AnonHugePages: x kB\n", 0, false},
		{"AnonHugePages: 99999999999999999999 kB\n", 0, false},
		{"Rss: 4 kB\n", 0, false},
		{"", 0, false},
	} {
		got, err := hugepage.ParseAnonHuge(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseAnonHuge(%q) = %d, %v; want %d, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}

func FuzzParseAnonHuge(f *testing.F) {
	f.Add("AnonHugePages:    131072 kB\n")
	f.Add("Rss: 1 kB\nAnonHugePages: 0 kB")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := hugepage.ParseAnonHuge(s)
		if err == nil && (got < 0 || got%1024 != 0) {
			t.Fatalf("ParseAnonHuge(%q) = %d", s, got)
		}
	})
}
