//go:build linux && (amd64 || arm64 || ppc64le || s390x || riscv64 || loong64)

package hugepage

import (
	"bufio"
	"os"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

const testHuge = 2 << 20

// requireTHP skips the test where the kernel gives no huge pages on
// request.
func requireTHP(t testing.TB) {
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
	sc.Buffer(nil, maxMapsLine)
	in := false
	for sc.Scan() {
		line := sc.Text()
		if lo, hi, _, err := parseMapping(line); err == nil {
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

func marked(flags []string) bool { return slices.Contains(flags, "hg") }

// mustAdvise calls Advise and stops it at the test's end.
func mustAdvise(t *testing.T, reserve int) *Heap {
	t.Helper()
	requireTHP(t)
	h, err := Advise(reserve)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Stop)
	return h
}

// TestAdviseMarksTheReserve: the reserve's address space, which the
// heap's growth reuses, is marked, and an allocation made in it after
// Advise lies in marked memory.
func TestAdviseMarksTheReserve(t *testing.T) {
	const reserve = 64 << 20
	h := mustAdvise(t, reserve)
	if h.Reserve != reserve || h.Marks() == 0 {
		t.Fatalf("reserve %d, marks %d", h.Reserve, h.Marks())
	}
	for a := h.start; a < h.start+reserve; a += testHuge {
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

// TestMarkCoversNewMappings: a mapping that extends the heap's run (as
// the runtime's next piece of heap does) is unmarked when it comes and
// marked by the next mark. The test maps it itself, right after the run.
func TestMarkCoversNewMappings(t *testing.T) {
	h := mustAdvise(t, testHuge)
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	hi, err := RunEnd(f, h.lo)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	const mapFixedNoreplace = 0x100000
	p, _, e := syscall.Syscall6(syscall.SYS_MMAP, hi, testHuge, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|mapFixedNoreplace, ^uintptr(0), 0)
	if e != 0 || p != hi {
		t.Skipf("cannot map at the run's end %#x: %v (%#x)", hi, e, p)
	}
	t.Cleanup(func() { syscall.Syscall(syscall.SYS_MUNMAP, hi, testHuge, 0) })
	if fl := vmaFlags(t, hi); marked(fl) {
		t.Fatalf("a fresh mapping at %#x is marked: %v", hi, fl)
	}
	m := h.Marks()
	if err := h.mark(); err != nil {
		t.Fatal(err)
	}
	if fl := vmaFlags(t, hi); !marked(fl) || h.Marks() != m+1 {
		t.Errorf("after a mark the new mapping's flags are %v, marks %d → %d", fl, m, h.Marks())
	}
}

// TestMarksAfterCollections: each collection marks the heap again.
func TestMarksAfterCollections(t *testing.T) {
	h := mustAdvise(t, testHuge)
	for want := h.Marks() + 3; h.Marks() < want; {
		waitMarks(t, h, h.Marks()+1)
	}
	if err := h.Err(); err != nil {
		t.Fatal(err)
	}
}

// waitMarks collects garbage until h has marked n times.
func waitMarks(t *testing.T, h *Heap, n uint64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for h.Marks() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d marks after 30 s of collections, want %d", h.Marks(), n)
		}
		runtime.GC()
		runtime.Gosched()
	}
}

// TestAdviseShared: the advice is the process's; it ends with the last
// Stop, and the chain of marks after collections ends with it.
func TestAdviseShared(t *testing.T) {
	requireTHP(t)
	h, err := Advise(testHuge)
	if err != nil {
		t.Fatal(err)
	}
	h2, err := Advise(64 << 20)
	if err != nil || h2 != h {
		t.Fatalf("a second Advise: %p, %v; want the first's %p", h2, err, h)
	}
	h.Stop()
	waitMarks(t, h, h.Marks()+1) // still marking after one of two Stops
	h2.Stop()
	// At most one cleanup already queued runs, sees the stop and does
	// not re-arm.
	a := h.arms.Load()
	for range 5 {
		runtime.GC()
	}
	if got := h.arms.Load(); got > a+1 { // one cleanup may be past its check of the stop
		t.Errorf("re-armed %d times after the last Stop", got-a)
	}
	h3, err := Advise(testHuge)
	if err != nil {
		t.Fatal(err)
	}
	defer h3.Stop()
	if h3 == h {
		t.Error("Advise after the last Stop returned the stopped advice")
	}
}
