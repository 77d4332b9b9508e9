package statuslist_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/idmesh/idmesh/credential/statuslist"
)

// seeded returns a deterministic randomness source for tests.
func seeded(seed uint64) io.Reader { return rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}) }

// TestAllocatorExhausts allocates every index of a small list once, in
// both the rejection and the scan regimes, then fails with ErrFull.
func TestAllocatorExhausts(t *testing.T) {
	const n = 1024
	a, err := statuslist.NewAllocator(n, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := seeded(1)
	seen := make([]bool, n)
	for k := range n {
		i, err := a.Allocate(r)
		if err != nil {
			t.Fatalf("allocation %d: %v", k, err)
		}
		if seen[i] {
			t.Fatalf("index %d allocated twice", i)
		}
		seen[i] = true
		if a.Free() != n-k-1 {
			t.Fatalf("Free = %d after %d allocations", a.Free(), k+1)
		}
	}
	if _, err := a.Allocate(r); !errors.Is(err, statuslist.ErrFull) {
		t.Fatalf("full list: err = %v, want ErrFull", err)
	}
	if a.Taken().Count() != n {
		t.Fatalf("Taken has %d bits set", a.Taken().Count())
	}
}

// TestAllocatorUsed skips indexes the used callback reports, and
// Reserve refuses an index taken.
func TestAllocatorUsed(t *testing.T) {
	a, err := statuslist.NewAllocator(64, func(i int) bool { return i != 17 && i != 40 })
	if err != nil {
		t.Fatal(err)
	}
	if a.Free() != 2 || a.Len() != 64 {
		t.Fatalf("Free = %d, Len = %d", a.Free(), a.Len())
	}
	r := seeded(2)
	x, _ := a.Allocate(r)
	y, _ := a.Allocate(r)
	if (x != 17 || y != 40) && (x != 40 || y != 17) {
		t.Fatalf("allocated %d, %d; want 17 and 40", x, y)
	}
	b, _ := statuslist.NewAllocator(64, nil)
	if err := b.Reserve(3); err != nil {
		t.Fatal(err)
	}
	if err := b.Reserve(3); !errors.Is(err, statuslist.ErrTaken) {
		t.Fatalf("second Reserve: %v", err)
	}
	if err := b.Reserve(64); err == nil {
		t.Fatal("Reserve out of range succeeded")
	}
	if _, err := statuslist.NewAllocator(12, nil); err == nil {
		t.Fatal("NewAllocator(12) succeeded")
	}
}

// TestAllocatorPersist saves the taken set through Encode and resumes.
func TestAllocatorPersist(t *testing.T) {
	a, _ := statuslist.NewAllocator(statuslist.MinLength, nil)
	r := seeded(3)
	got := map[int]bool{}
	for range 1000 {
		i, err := a.Allocate(r)
		if err != nil {
			t.Fatal(err)
		}
		got[i] = true
	}
	saved, err := a.Taken().Encode()
	if err != nil {
		t.Fatal(err)
	}
	taken, err := statuslist.Decode(saved, statuslist.MinLength)
	if err != nil {
		t.Fatal(err)
	}
	b := statuslist.LoadAllocator(taken)
	if b.Free() != statuslist.MinLength-1000 {
		t.Fatalf("resumed Free = %d", b.Free())
	}
	for range 1000 {
		i, _ := b.Allocate(r)
		if got[i] {
			t.Fatalf("index %d reused after resuming", i)
		}
		got[i] = true
	}
	// Taken is a copy.
	taken.Set(0, !mustGet(t, taken, 0))
	if b.Taken().Equal(taken) {
		t.Fatal("LoadAllocator shares the caller's bitstring")
	}
}

func mustGet(tb testing.TB, b *statuslist.Bitstring, i int) bool {
	tb.Helper()
	v, err := b.Get(i)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// TestAllocatorUniform checks with a chi-squared statistic that first
// allocations spread evenly, in the rejection regime (empty list) and the
// scan regime (all but 32 indexes taken, under the 1/16 threshold).
func TestAllocatorUniform(t *testing.T) {
	const n, buckets, trials = 1024, 32, 32 * 500
	for _, tt := range []struct {
		name string
		used func(int) bool
	}{
		{"rejection", nil},
		{"scan", func(i int) bool { return i%(n/buckets) != 3 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := seeded(4)
			var counts [buckets]int
			for range trials {
				a, err := statuslist.NewAllocator(n, tt.used)
				if err != nil {
					t.Fatal(err)
				}
				i, err := a.Allocate(r)
				if err != nil {
					t.Fatal(err)
				}
				if tt.used != nil && tt.used(i) {
					t.Fatalf("allocated taken index %d", i)
				}
				counts[i/(n/buckets)]++
			}
			exp := float64(trials) / buckets
			chi := 0.0
			for _, c := range counts {
				chi += (float64(c) - exp) * (float64(c) - exp) / exp
			}
			// 31 degrees of freedom: P(chi2 > 70) < 0.0001.
			if chi > 70 {
				t.Fatalf("chi-squared %.1f over 70: %v", chi, counts)
			}
			t.Logf("chi-squared %.1f", chi)
		})
	}
}

func TestAllocatorRandError(t *testing.T) {
	a, _ := statuslist.NewAllocator(64, nil)
	if _, err := a.Allocate(bytes.NewReader(nil)); err == nil {
		t.Fatal("Allocate with an empty reader succeeded")
	}
	if a.Free() != 64 {
		t.Fatal("a failed allocation took an index")
	}
}
