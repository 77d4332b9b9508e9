// Package hugepage asks the kernel to back the process's Go heap with
// transparent huge pages (THP) where the kernel gives them on request.
//
// # Why
//
// Every first touch of a 4 KiB page of anonymous memory is a page fault.
// On bare metal one costs well under a microsecond; on some virtual
// machines (the Firecracker microVMs idmesh is measured on) it costs 11
// to 15 µs. A validator's heap grows by some 130 MB in its first minute
// of load, about 32,000 faults, which was 15 to 20% of its CPU in
// BenchmarkNetwork (docs/benchmarks.md, stop 28). One 2 MiB huge page
// replaces 512 such faults.
//
// # How
//
// Most distributions run THP in "madvise" mode: huge pages only for
// memory marked with madvise(MADV_HUGEPAGE). The Go runtime marks only
// its own metadata, never the heap. The heap is mapped as it grows, each
// new piece a new mapping without the mark, and its pages are touched at
// once, so marking it after the fact comes too late for most of them.
// [Advise] therefore makes the heap map a reserve up front (one large
// allocation, never touched, so it costs no memory), marks that range,
// and frees the allocation: the heap's later growth reuses the marked
// address space, lowest addresses first. Pieces mapped beyond the reserve
// are marked after every garbage collection, so that their pages fault
// as huge pages once the runtime has returned them to the kernel and
// reuses them.
//
// Nothing changes in what memory holds: the mark is a hint, and the
// kernel falls back to 4 KiB pages when it has no huge page to give. In
// "always" mode the mark changes nothing; in "never" mode, with GODEBUG
// disablethp=1, or on other systems, Advise returns an error wrapping
// [ErrUnavailable] and does nothing.
package hugepage

import (
	"errors"
	"strconv"
	"strings"
)

// ErrUnavailable reports that the kernel gives no huge pages on request
// here: THP is off or missing, GODEBUG disablethp=1 turned it off for
// this process, or the system is not Linux.
var ErrUnavailable = errors.New("transparent huge pages unavailable")

// DefaultReserve is the address space Advise maps and marks up front:
// the heap's growth up to about this much is on huge pages from its
// first touch. It costs address space, not memory.
const DefaultReserve = 512 << 20

// Mode values: the kernel's THP setting (ModeFile).
const (
	ModeAlways  = "always"
	ModeMadvise = "madvise"
	ModeNever   = "never"
)

// ModeFile holds the kernel's THP mode on Linux.
const ModeFile = "/sys/kernel/mm/transparent_hugepage/enabled"

// ParseMode returns the selected mode of the contents of ModeFile, the
// word in brackets among the choices ("always [madvise] never" is
// madvise), or an error.
func ParseMode(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > 256 {
		return "", errors.New("thp mode: too long")
	}
	var mode string
	for _, w := range strings.Fields(s) {
		if len(w) > 2 && w[0] == '[' && w[len(w)-1] == ']' {
			if mode != "" {
				return "", errors.New("thp mode: two selected")
			}
			mode = w[1 : len(w)-1]
		}
	}
	if mode == "" {
		return "", errors.New("thp mode: none selected")
	}
	return mode, nil
}

// ParseAnonHuge returns the AnonHugePages figure of the contents of
// /proc/<pid>/smaps_rollup (or of one mapping in smaps), in bytes.
func ParseAnonHuge(s string) (int64, error) {
	for line := range strings.Lines(s) {
		rest, ok := strings.CutPrefix(line, "AnonHugePages:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, errors.New("smaps: AnonHugePages: not a kB figure")
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb < 0 || kb > 1<<43 {
			return 0, errors.New("smaps: AnonHugePages: bad number")
		}
		return kb << 10, nil
	}
	return 0, errors.New("smaps: no AnonHugePages line")
}

// thpOffByGodebug reports whether GODEBUG (as given) sets disablethp to
// a non-zero number, read as the runtime reads it (the last setting
// wins; one that is not a number changes nothing): the
// runtime then marks its heap NOHUGEPAGE, and the user asked for no huge
// pages.
func thpOffByGodebug(godebug string) bool {
	off := false
	for kv := range strings.SplitSeq(godebug, ",") {
		if v, ok := strings.CutPrefix(kv, "disablethp="); ok {
			if n, err := strconv.Atoi(v); err == nil {
				off = n != 0
			}
		}
	}
	return off
}
