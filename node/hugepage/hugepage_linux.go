package hugepage

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"unsafe"
)

const (
	madvHugepage = 14 // MADV_HUGEPAGE
	hugeSize     = 2 << 20
	// arenaSize is the Go heap's arena size on 64-bit Linux: the heap is
	// mapped in arenas aligned to it, growing upwards.
	arenaSize = 64 << 20
	// window is how far above the reserve's arena later pieces of the
	// heap are looked for after each collection. madvise skips the
	// holes, and walks only the mappings in the range.
	window = 64 << 30
)

// Heap is the huge-page advice in force for the process's Go heap.
type Heap struct {
	// Mode is the kernel's THP mode when Advise ran.
	Mode string
	// Reserve is the address space marked up front.
	Reserve int

	lo      uintptr // the start of the reserve's arena
	start   uintptr // the reserve's
	stopped atomic.Bool
	marks   atomic.Uint64
}

// Advise marks the Go heap for huge pages: reserve bytes of it up front,
// and its later pieces after every garbage collection until Stop. Call
// it early, before the heap grows: memory already touched stays on
// 4 KiB pages. reserve is lowered to a quarter of the memory limit
// (debug.SetMemoryLimit) if that is lower.
func Advise(reserve int) (*Heap, error) {
	if thpOffByGodebug(os.Getenv("GODEBUG")) {
		return nil, fmt.Errorf("%w: GODEBUG disablethp", ErrUnavailable)
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
	if limit := debug.SetMemoryLimit(-1); int64(reserve) > limit/4 {
		reserve = int(limit / 4)
	}
	reserve &^= hugeSize - 1
	if reserve < hugeSize {
		reserve = hugeSize
	}
	// One large allocation maps reserve bytes of fresh heap, which the
	// runtime does not touch (fresh mappings are known to be zero).
	buf := make([]byte, reserve)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	h := &Heap{Mode: mode, Reserve: reserve, lo: start &^ (arenaSize - 1), start: start}
	err = madvise(h.lo, start+uintptr(reserve)-h.lo)
	runtime.KeepAlive(buf)
	buf = nil
	if err != nil {
		return nil, fmt.Errorf("%w: madvise: %w", ErrUnavailable, err)
	}
	h.marks.Add(1)
	// Free the reserve and hand it back to the kernel now (it was never
	// touched, so this is cheap), rather than leave it to the background
	// scavenger, a few pages at a time.
	debug.FreeOSMemory()
	h.arm()
	return h, nil
}

// Stop ends the marking after collections. Marks already made stay. A
// mark that fails (it cannot, once Advise succeeded) stops it too.
func (h *Heap) Stop() { h.stopped.Store(true) }

// Marks returns how many times the heap was marked: once by Advise,
// then once after each garbage collection.
func (h *Heap) Marks() uint64 { return h.marks.Load() }

// sentinel is garbage from birth: its cleanup runs after the next
// collection. It holds a pointer and is 64 bytes, so the runtime gives
// it an object of its own (the tiny allocator combines small objects
// without pointers).
type sentinel struct {
	_ *byte
	_ [56]byte
}

// arm marks the heap's window after the next collection, and re-arms.
func (h *Heap) arm() {
	runtime.AddCleanup(new(sentinel), func(h *Heap) {
		if h.stopped.Load() {
			return
		}
		if err := madvise(h.lo, window); err != nil {
			h.stopped.Store(true)
			return
		}
		h.marks.Add(1)
		h.arm()
	}, h)
}

// madvise marks [lo, lo+n) MADV_HUGEPAGE. ENOMEM reports holes in the
// range, which the kernel skips after marking the mappings around them.
func madvise(lo, n uintptr) error {
	_, _, e := syscall.Syscall(syscall.SYS_MADVISE, lo, n, madvHugepage)
	if e != 0 && !errors.Is(e, syscall.ENOMEM) {
		return e
	}
	return nil
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
