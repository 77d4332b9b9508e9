//go:build !linux

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
// pages are a Linux feature.
func Advise(reserve int) (*Heap, error) {
	return nil, fmt.Errorf("%w: not Linux", ErrUnavailable)
}

// Stop does nothing.
func (h *Heap) Stop() {}

// Marks returns 0.
func (h *Heap) Marks() uint64 { return 0 }

// AnonHugeBytes returns an error wrapping ErrUnavailable.
func AnonHugeBytes() (int64, error) {
	return 0, fmt.Errorf("%w: not Linux", ErrUnavailable)
}
