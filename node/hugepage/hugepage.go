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
// are marked after every garbage collection (the run of anonymous
// mappings from the reserve's arena up, read from /proc/self/maps), so
// that their pages fault as huge pages once the runtime has returned
// them to the kernel and reuses them.
//
// Nothing changes in what memory holds: the mark is a hint, and the
// kernel falls back to 4 KiB pages when it has no huge page to give. In
// "always" mode the mark changes nothing; in "never" mode, with GODEBUG
// disablethp=1, madvdontneed=0 or harddecommit=1, under strict
// overcommit, or on other systems, Advise returns an error wrapping
// [ErrUnavailable] and does nothing. The advice is the process's (the
// heap is): every Advise shares it.
//
// # Costs
//
// The Go runtime stopped marking its heap itself (Go 1.21.1, GODEBUG
// disablethp, go.dev/issue/64332) because of memory overuse: the kernel's
// khugepaged may collapse a marked 2 MiB range that holds any page back
// into a whole huge page (khugepaged/max_ptes_none, 511 by default), so
// memory the runtime handed back can return, and resident memory exceed
// what the runtime counts, by up to the sparse parts of the marked range.
// A fault in marked memory may also wait for the kernel to compact
// memory into a free huge page (defrag "madvise", the default). For a
// node whose heap is mostly live and steady that is a small price;
// --huge-pages=false turns it off (docs/operations.md).
package hugepage

import (
	"bufio"
	"errors"
	"fmt"
	"io"
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

// godebugOff returns why the GODEBUG settings (as the runtime reads
// them: comma-separated, the last setting of a name winning, one that is
// not a 32-bit number changing nothing) rule out marking the heap, or "":
// disablethp asks for no huge pages; with madvdontneed=0 the runtime
// zeroes memory it handed back, so the reserve would be touched; with
// harddecommit the runtime maps freed memory again, without the mark.
func godebugOff(settings string) string {
	val := map[string]int64{"madvdontneed": 1}
	for kv := range strings.SplitSeq(settings, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(v, 10, 32); err == nil {
			val[k] = n
		}
	}
	switch {
	case val["disablethp"] != 0:
		return "disablethp=" + strconv.FormatInt(val["disablethp"], 10)
	case val["madvdontneed"] == 0:
		return "madvdontneed=0"
	case val["harddecommit"] != 0:
		return "harddecommit=" + strconv.FormatInt(val["harddecommit"], 10)
	}
	return ""
}

// ErrNoRun reports that no anonymous mapping holds the address RunEnd
// was given.
var ErrNoRun = errors.New("no anonymous mapping there")

// maxMapsLine bounds a line of /proc/self/maps (a path is at most 4,096
// bytes).
const maxMapsLine = 8 << 10

// RunEnd reads a /proc/<pid>/maps listing and returns the end of the run
// of anonymous mappings (no file, no name) that holds lo, each starting
// where the one before ends: the Go heap's arenas, mapped and reserved.
// It stops at the first gap or named or file mapping.
func RunEnd(maps io.Reader, lo uintptr) (uintptr, error) {
	sc := bufio.NewScanner(maps)
	sc.Buffer(make([]byte, 0, 4096), maxMapsLine)
	var end uintptr
	in := false
	for sc.Scan() {
		start, stop, anon, err := parseMapping(sc.Text())
		if err != nil {
			return 0, err
		}
		switch {
		case !in && anon && start <= lo && lo < stop:
			in, end = true, stop
		case in && anon && start == end:
			end = stop
		case in:
			return end, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("maps: %w", err)
	}
	if !in {
		return 0, fmt.Errorf("%w: %#x", ErrNoRun, lo)
	}
	return end, nil
}

// parseMapping parses one line of /proc/<pid>/maps: "start-end perms
// offset dev inode [path]". anon is true for a mapping of no file and no
// name ([heap], [stack] and the like are named).
func parseMapping(line string) (start, end uintptr, anon bool, err error) {
	f := strings.Fields(line)
	if len(f) < 5 {
		return 0, 0, false, fmt.Errorf("maps: short line %.80q", line)
	}
	a, b, ok := strings.Cut(f[0], "-")
	x, err1 := strconv.ParseUint(a, 16, 64)
	y, err2 := strconv.ParseUint(b, 16, 64)
	if !ok || err1 != nil || err2 != nil || y <= x || uint64(uintptr(y)) != y {
		return 0, 0, false, fmt.Errorf("maps: bad range %.80q", f[0])
	}
	return uintptr(x), uintptr(y), f[4] == "0" && len(f) == 5, nil
}
