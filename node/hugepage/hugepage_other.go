//go:build !(linux && (amd64 || arm64 || ppc64le || s390x || riscv64 || loong64))

package hugepage

import "fmt"

// Heap is the huge-page advice in force for the process's Go heap
// (Linux only).
type Heap struct {
	// Mode is the kernel's THP mode when Advise ran.
	Mode string
	// Reserve is the address space marked up front.
	Reserve int
}

// Advise returns an error wrapping ErrUnavailable: transparent huge
// pages are a Linux feature, and the heap's layout here is that of
// 64-bit systems.
func Advise(reserve int) (*Heap, error) {
	return nil, fmt.Errorf("%w: not 64-bit Linux", ErrUnavailable)
}

// Stop does nothing.
func (h *Heap) Stop() {}

// Marks returns 0.
func (h *Heap) Marks() uint64 { return 0 }

// Err returns nil.
func (h *Heap) Err() error { return nil }

// AnonHugeBytes returns an error wrapping ErrUnavailable.
func AnonHugeBytes() (int64, error) {
	return 0, fmt.Errorf("%w: not 64-bit Linux", ErrUnavailable)
}
