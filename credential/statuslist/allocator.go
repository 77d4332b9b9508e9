package statuslist

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

var (
	// ErrFull is returned by [Allocator.Allocate] when every index is taken.
	ErrFull = errors.New("status list full")
	// ErrTaken is returned by [Allocator.Reserve] for an index already taken.
	ErrTaken = errors.New("status list index taken")
)

// rejectionTries is how many uniform draws Allocate makes before it falls
// back to choosing the k-th free index by a scan.
const rejectionTries = 32

// Allocator hands out status list indexes uniformly at random among those
// not yet taken, and never twice, so that an index reveals neither when a
// credential was issued nor how many were (the specification's SHOULD).
// Its state is the set of taken indexes, a [Bitstring] with a bit per
// index; the caller persists [Allocator.Taken] after each allocation
// (before issuing the credential) and resumes with [LoadAllocator].
//
// An Allocator is not safe for concurrent use; one goroutine owns it.
type Allocator struct {
	taken *Bitstring
	free  int
}

// NewAllocator returns an allocator over indexes [0, length), a positive
// multiple of 8. used, if not nil, reports indexes already taken (for
// example by credentials issued before the allocator existed).
func NewAllocator(length int, used func(i int) bool) (*Allocator, error) {
	t, err := New(length)
	if err != nil {
		return nil, err
	}
	if used != nil {
		for i := range length {
			if used(i) {
				_ = t.Set(i, true)
			}
		}
	}
	return LoadAllocator(t), nil
}

// LoadAllocator resumes an allocator from a taken set saved from
// [Allocator.Taken] (for example through Encode and Decode). It copies it.
func LoadAllocator(taken *Bitstring) *Allocator {
	t := taken.Clone()
	return &Allocator{taken: t, free: t.Len() - t.Count()}
}

// Len returns the number of indexes.
func (a *Allocator) Len() int { return a.taken.Len() }

// Free returns the number of indexes not yet taken.
func (a *Allocator) Free() int { return a.free }

// Taken returns a copy of the set of taken indexes, to persist.
func (a *Allocator) Taken() *Bitstring { return a.taken.Clone() }

// Reserve marks index i as taken; it fails with [ErrTaken] if it was.
func (a *Allocator) Reserve(i int) error {
	was, err := a.taken.Get(i)
	if err != nil {
		return err
	}
	if was {
		return fmt.Errorf("reserve index %d: %w", i, ErrTaken)
	}
	_ = a.taken.Set(i, true)
	a.free--
	return nil
}

// Allocate takes an index chosen uniformly among the free ones, with
// randomness from rand (crypto/rand.Reader in production). It draws
// indexes and rejects taken ones; when the list is nearly full and
// [rejectionTries] draws miss, it picks the k-th free index for a uniform
// k instead. Either way each free index is equally likely. It fails with
// [ErrFull] when no index is free, and with rand's error.
func (a *Allocator) Allocate(rand io.Reader) (int, error) {
	if a.free == 0 {
		return 0, ErrFull
	}
	n := a.taken.Len()
	if a.free*16 >= n { // at least 1/16 free: all draws miss with P < 0.13
		for range rejectionTries {
			i, err := uniform(rand, n)
			if err != nil {
				return 0, err
			}
			if set, _ := a.taken.Get(i); !set {
				_ = a.taken.Set(i, true)
				a.free--
				return i, nil
			}
		}
	}
	k, err := uniform(rand, a.free)
	if err != nil {
		return 0, err
	}
	i := a.kthFree(k)
	_ = a.taken.Set(i, true)
	a.free--
	return i, nil
}

// kthFree returns the index of the k-th (from 0) unset bit; k < a.free.
func (a *Allocator) kthFree(k int) int {
	for j, c := range a.taken.b {
		z := 8 - bits.OnesCount8(c)
		if k >= z {
			k -= z
			continue
		}
		for bit := range 8 {
			if c&(0x80>>bit) == 0 {
				if k == 0 {
					return j*8 + bit
				}
				k--
			}
		}
	}
	panic("statuslist: free count out of sync with the taken set")
}

// uniform returns an integer uniformly distributed in [0, n), n > 0, by
// rejection of 64-bit draws at or above a multiple of n.
func uniform(rand io.Reader, n int) (int, error) {
	const max64 = ^uint64(0)
	limit := max64 - max64%uint64(n) // a multiple of n
	var b [8]byte
	for {
		if _, err := io.ReadFull(rand, b[:]); err != nil {
			return 0, fmt.Errorf("read randomness: %w", err)
		}
		v := binary.BigEndian.Uint64(b[:])
		if v < limit {
			return int(v % uint64(n)), nil
		}
	}
}
