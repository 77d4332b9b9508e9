package hugepage_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/node/hugepage"
)

const maps = `00400000-004ab000 r-xp 00000000 fe:00 9978561                            /tmp/x
00599000-005cf000 rw-p 00000000 00:00 0 
3f7688000000-3f7689000000 ---p 00000000 00:00 0 
3f7689000000-3f768f800000 rw-p 00000000 00:00 0 
3f768f800000-3f7690000000 ---p 00000000 00:00 0 
3f7690000000-3f7691000000 rw-p 00000000 00:00 0                          [anon:other]
7fda199a0000-7fda19b00000 rw-p 00000000 00:00 0 
7fda19b00000-7fda1bc00000 rw-p 00000000 00:00 0 
7fda1bc00000-7fda1bd00000 rw-p 00000000 fe:00 12                         /dev/shm/x
7ffd00ba9000-7ffd00bca000 rw-p 00000000 00:00 0                          [stack]
`

func TestRunEnd(t *testing.T) {
	for _, c := range []struct {
		lo, want uintptr
		err      error
	}{
		{0x3f7688000000, 0x3f7690000000, nil}, // reserved, mapped, reserved; then a named mapping
		{0x3f768a000000, 0x3f7690000000, nil}, // from inside the run
		{0x7fda199a0000, 0x7fda1bc00000, nil}, // two anonymous; then a file
		{0x00599000, 0x005cf000, nil},
		{0x3f7690000000, 0, hugepage.ErrNoRun}, // named
		{0x00400000, 0, hugepage.ErrNoRun},     // a file
		{0x7ffd00ba9000, 0, hugepage.ErrNoRun}, // [stack]
		{0x1000, 0, hugepage.ErrNoRun},         // unmapped
	} {
		got, err := hugepage.RunEnd(strings.NewReader(maps), c.lo)
		if got != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("RunEnd(%#x) = %#x, %v; want %#x, %v", c.lo, got, err, c.want, c.err)
		}
	}
	for _, bad := range []string{"x\n", "1000-800 rw-p 0 00:00 0\n", "1000 rw-p 0 00:00 0\n", "zz-1000 rw-p 0 00:00 0\n", strings.Repeat("a", 9000) + "\n"} {
		if _, err := hugepage.RunEnd(strings.NewReader(bad), 0x1000); err == nil || errors.Is(err, hugepage.ErrNoRun) {
			t.Errorf("RunEnd(%.40q): %v, want a parse error", bad, err)
		}
	}
}

func FuzzRunEnd(f *testing.F) {
	f.Add(maps, uint64(0x3f7688000000))
	f.Add("1000-2000 rw-p 0 00:00 0\n2000-3000 rw-p 0 00:00 0\n", uint64(0x1800))
	f.Fuzz(func(t *testing.T, s string, lo uint64) {
		end, err := hugepage.RunEnd(strings.NewReader(s), uintptr(lo))
		if err == nil && end <= uintptr(lo) {
			t.Fatalf("RunEnd(%q, %#x) = %#x, not above lo", s, lo, end)
		}
	})
}
