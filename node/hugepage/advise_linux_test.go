package hugepage

import (
	"bufio"
	"errors"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// requireTHP skips the test where the kernel gives no huge pages on
// request.
func requireTHP(t *testing.T) {
	t.Helper()
	raw, err := os.ReadFile(ModeFile)
	if err != nil {
		t.Skipf("no THP here: %v", err)
	}
	if mode, err := ParseMode(string(raw)); err != nil || mode == ModeNever {
		t.Skipf("THP mode %q (%v)", mode, err)
	}
}

// vmaFlags returns the VmFlags of the mapping of this process holding
// addr, from /proc/self/smaps.
func vmaFlags(t *testing.T, addr uintptr) []string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		if lo, hi, ok := mappingRange(line); ok {
			in = lo <= addr && addr < hi
			continue
		}
		if rest, ok := strings.CutPrefix(line, "VmFlags:"); ok && in {
			return strings.Fields(rest)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Fatalf("no mapping holds %#x", addr)
	return nil
}

// mappingRange parses the "lo-hi perms ..." header of a mapping in
// smaps.
func mappingRange(line string) (lo, hi uintptr, ok bool) {
	r, _, found := strings.Cut(line, " ")
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(r, "-")
	if !found {
		return 0, 0, false
	}
	x, err1 := strconv.ParseUint(a, 16, 64)
	y, err2 := strconv.ParseUint(b, 16, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return uintptr(x), uintptr(y), true
}

func marked(flags []string) bool { return slices.Contains(flags, "hg") }

// TestAdviseMarksTheReserve: the reserve's address space, which the
// heap's growth reuses, is marked, and an allocation made in it after
// Advise lies in marked memory.
func TestAdviseMarksTheReserve(t *testing.T) {
	requireTHP(t)
	const reserve = 64 << 20
	h, err := Advise(reserve)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	if h.Reserve != reserve || h.Marks() == 0 {
		t.Fatalf("reserve %d, marks %d", h.Reserve, h.Marks())
	}
	for a := h.start; a < h.start+reserve; a += hugeSize {
		if f := vmaFlags(t, a); !marked(f) {
			t.Fatalf("the reserve at %#x: a mapping without hg: %v", a, f)
		}
	}
	// A fresh 8 MiB object: the page allocator takes the lowest free
	// addresses, which the freed reserve offers.
	b := make([]byte, 8<<20)
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if addr < h.lo {
		t.Skipf("the object at %#x is below the reserve's arena %#x (an older arena of this test binary)", addr, h.lo)
	}
	if f := vmaFlags(t, addr); !marked(f) {
		t.Errorf("an 8 MiB object allocated after Advise lies in a mapping without hg: %v", f)
	}
	runtime.KeepAlive(b)
}

// TestAdviseMarksLaterPieces: a piece of heap mapped beyond the reserve
// is marked after the next collection.
func TestAdviseMarksLaterPieces(t *testing.T) {
	requireTHP(t)
	h, err := Advise(hugeSize)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	// Far more than the reserve and whatever the heap had free: the
	// runtime maps a new piece for it.
	// Its last page lies in the new piece (the object may start in the
	// freed reserve).
	big := make([]byte, 256<<20)
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(big))) + uintptr(len(big)) - 1
	if addr < h.lo || addr >= h.lo+window {
		t.Skipf("the object's end %#x is outside the window from %#x", addr, h.lo)
	}
	if f := vmaFlags(t, addr); marked(f) {
		t.Skipf("the new piece at %#x is marked already: %v", addr, f)
	}
	before := h.Marks()
	deadline := time.Now().Add(30 * time.Second)
	for h.Marks() == before {
		if time.Now().After(deadline) {
			t.Fatal("no mark after collections for 30 s")
		}
		runtime.GC()
		runtime.Gosched()
	}
	if f := vmaFlags(t, addr); !marked(f) {
		t.Errorf("a 256 MiB object's mapping has no hg after a collection: %v", f)
	}
	runtime.KeepAlive(big)
}

// TestAdviseStop: after Stop no collection marks the heap again (one
// cleanup already running may still mark once).
func TestAdviseStop(t *testing.T) {
	requireTHP(t)
	h, err := Advise(hugeSize)
	if err != nil {
		t.Fatal(err)
	}
	h.Stop()
	m := h.Marks()
	for range 5 {
		runtime.GC()
	}
	if got := h.Marks(); got > m+1 {
		t.Errorf("%d marks after Stop", got-m)
	}
}

func TestAdviseGodebugOff(t *testing.T) {
	t.Setenv("GODEBUG", "disablethp=1")
	if _, err := Advise(hugeSize); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Advise with GODEBUG=disablethp=1: %v, want ErrUnavailable", err)
	}
}

func TestAnonHugeBytes(t *testing.T) {
	n, err := AnonHugeBytes()
	if err != nil {
		t.Skipf("no smaps_rollup: %v", err)
	}
	if n < 0 {
		t.Fatal(n)
	}
}
