//go:build linux && (amd64 || arm64 || ppc64le || s390x || riscv64 || loong64)

package hugepage

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

const (
	madvHugepage = 14 // MADV_HUGEPAGE
	// arenaSize is the Go heap's arena size on 64-bit Linux: the heap is
	// mapped in arenas aligned to it, growing upwards.
	arenaSize = 64 << 20
	// sizeFile holds the size of a huge page.
	sizeFile = "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size"
	// overcommitFile holds the kernel's overcommit policy (2: strict).
	overcommitFile = "/proc/sys/vm/overcommit_memory"
)

// process is the one advice of this process: the heap is the process's,
// so every Advise shares it, and the last Stop ends it.
var process struct {
	mu   sync.Mutex
	heap *Heap
	refs int
}

// Heap is the huge-page advice in force for the process's Go heap.
type Heap struct {
	// Mode is the kernel's THP mode when Advise ran.
	Mode string
	// Reserve is the address space marked up front.
	Reserve int

	lo      uintptr // the start of the reserve's arena: the heap's run of mappings
	start   uintptr // the reserve's
	stopped atomic.Bool
	marks   atomic.Uint64
	arms    atomic.Uint64
	err     atomic.Pointer[error] // the last mark's, nil after a success
}

// Advise marks the Go heap for huge pages: reserve bytes of it up front,
// and its later pieces after every garbage collection until Stop. Call
// it early, before the heap grows: memory already touched stays on
// 4 KiB pages. reserve is lowered to a quarter of the memory limit
// (debug.SetMemoryLimit) if that is lower. The advice is the process's:
// a second Advise before the last Stop returns the same Heap (and its
// reserve); call Stop once for each Advise that succeeded.
func Advise(reserve int) (*Heap, error) {
	process.mu.Lock()
	defer process.mu.Unlock()
	if process.heap != nil {
		process.refs++
		return process.heap, nil
	}
	h, err := advise(reserve)
	if err != nil {
		return nil, err
	}
	process.heap, process.refs = h, 1
	return h, nil
}

func advise(reserve int) (*Heap, error) {
	if reason := godebugOff(buildGodebug() + "," + os.Getenv("GODEBUG")); reason != "" {
		return nil, fmt.Errorf("%w: GODEBUG %s", ErrUnavailable, reason)
	}
	raw, err := os.ReadFile(ModeFile)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	mode, err := ParseMode(string(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrUnavailable, ModeFile, err)
	}
	if mode == ModeNever {
		return nil, fmt.Errorf("%w: the kernel's mode is %q (%s)", ErrUnavailable, mode, ModeFile)
	}
	// Under strict overcommit the reserve would be charged for the
	// process's life (the runtime never unmaps its heap).
	if raw, err := os.ReadFile(overcommitFile); err == nil && strings.TrimSpace(string(raw)) == "2" {
		return nil, fmt.Errorf("%w: strict overcommit (%s is 2)", ErrUnavailable, overcommitFile)
	}
	huge := 2 << 20
	if raw, err := os.ReadFile(sizeFile); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(raw))); err == nil && n > 0 && n&(n-1) == 0 {
			huge = n
		}
	}
	if limit := debug.SetMemoryLimit(-1); int64(reserve) > limit/4 {
		reserve = int(limit / 4)
	}
	reserve = max(reserve&^(huge-1), huge)
	// One large allocation maps reserve bytes of heap, which the runtime
	// does not touch unless it must zero it: it zeroes a large allocation
	// that starts in address space its heap used before (mheap.
	// allocNeedsZero goes by each arena's zeroedBase, not by what was
	// handed back to the kernel), and so touches the whole reserve. That
	// happens when free pages lie at the top of the used heap; seen once
	// in a profile (docs/benchmarks.md, stop 30: about 0.5 s of CPU at a
	// validator's start), left to fix. No collection runs first: it
	// would only free more of the used heap for the allocation to start
	// in. (One did, with debug.FreeOSMemory, on the belief that memory
	// handed back would not need zeroing; it does.)
	buf := make([]byte, reserve)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	h := &Heap{Mode: mode, Reserve: reserve, lo: start &^ (arenaSize - 1), start: start}
	err = h.mark()
	runtime.KeepAlive(buf) // dead from here: the collection below frees it
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	// Free the reserve and hand it back to the kernel now (it was never
	// touched, so this is cheap), rather than leave it to the background
	// scavenger, a few pages at a time.
	debug.FreeOSMemory()
	h.arm()
	return h, nil
}

// Stop ends the marking after collections once every Advise that
// returned h is stopped. Marks already made stay.
func (h *Heap) Stop() {
	process.mu.Lock()
	defer process.mu.Unlock()
	if process.heap != h {
		return
	}
	if process.refs--; process.refs == 0 {
		h.stopped.Store(true)
		process.heap = nil
	}
}

// Marks returns how many times the heap was marked: once by Advise,
// then once after each garbage collection.
func (h *Heap) Marks() uint64 { return h.marks.Load() }

// Err returns the error of the last mark after a collection, nil if it
// succeeded. A failed mark is tried again after the next collection.
func (h *Heap) Err() error {
	if p := h.err.Load(); p != nil {
		return *p
	}
	return nil
}

// mark marks the heap's run of mappings from lo.
func (h *Heap) mark() error {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return err
	}
	hi, err := RunEnd(f, h.lo)
	f.Close()
	if err != nil {
		return err
	}
	if err := madvise(h.lo, hi-h.lo); err != nil {
		return fmt.Errorf("madvise %#x-%#x: %w", h.lo, hi, err)
	}
	h.marks.Add(1)
	return nil
}

// sentinel is garbage from birth: its cleanup runs after the next
// collection. It holds a pointer and is 64 bytes, so the runtime gives
// it an object of its own (the tiny allocator combines small objects
// without pointers).
type sentinel struct {
	_ *byte
	_ [56]byte
}

// arm marks the heap after the next collection, and re-arms.
func (h *Heap) arm() {
	h.arms.Add(1)
	runtime.AddCleanup(new(sentinel), func(h *Heap) {
		if h.stopped.Load() {
			return
		}
		if err := h.mark(); err != nil {
			h.err.Store(&err)
		} else {
			h.err.Store(nil)
		}
		h.arm()
	}, h)
}

// madvise marks [lo, lo+n) MADV_HUGEPAGE.
func madvise(lo, n uintptr) error {
	if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, lo, n, madvHugepage); e != 0 {
		return e
	}
	return nil
}

// buildGodebug returns the GODEBUG settings built into the binary (go.mod
// godebug lines and //go:debug directives), which the runtime applies
// before the environment's.
func buildGodebug() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range bi.Settings {
		if s.Key == "DefaultGODEBUG" {
			return s.Value
		}
	}
	return ""
}

// AnonHugeBytes returns the process's anonymous memory on huge pages,
// from /proc/self/smaps_rollup.
func AnonHugeBytes() (int64, error) {
	raw, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		return 0, err
	}
	return ParseAnonHuge(string(raw))
}
