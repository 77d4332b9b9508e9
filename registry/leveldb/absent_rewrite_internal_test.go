package leveldb

import (
	"fmt"
	"testing"
	"time"
)

// TestAbsentRewrites: rewriting keys the filter holds does not count
// towards outgrowing it, so rebuilds follow the distinct keys, not the
// writes. Review R21.
func TestAbsentRewrites(t *testing.T) {
	oldMin := absentMinKeys
	absentMinKeys = 64
	defer func() { absentMinKeys = oldMin }()
	s, err := OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := pruneChain(t, s)
	for b := range 100 {
		var cmds []string
		for i := range 10 {
			cmds = append(cmds, fmt.Sprintf("set r%d v%d", i, b))
		}
		commitCmds(t, c, cmds)
	}
	var building bool
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
		s.wmu.Lock()
		building = s.absent.building
		added := s.absent.added
		s.wmu.Unlock()
		if !building {
			// 10 state keys, 1,000 transactions and the toy chain's few
			// others: at most that, not the 2,000 writes.
			if added > 1100 {
				t.Fatalf("%d keys counted for about 1,010 distinct ones", added)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a build still runs after 30 s")
		}
	}
	// Doublings from 64 to about 1,010 keys: 4 or 5 builds, not one per
	// 64 writes.
	if b := s.absent.built.Load(); b > 6 {
		t.Fatalf("%d builds for about 1,010 distinct keys", b)
	}
}

// TestAbsentFilterSize backs the memory the docs give (docs/operations.md,
// docs/security.md): 1 MiB at least; a build for n keys held sizes its
// filter for 2n, 2.5 to 5 bytes a key once past 419,000 keys, and 8 MiB
// for the 2,000,000 keys of a store of 1,000,000 DIDs.
func TestAbsentFilterSize(t *testing.T) {
	bytesOf := func(b *bloom) int { return 8 * len(b.words) }
	if got := bytesOf(newBloom(0)); got != 1<<20 {
		t.Fatalf("the smallest filter takes %d bytes, want 1 MiB", got)
	}
	if got := bytesOf(newBloom(2 * 2_000_000)); got != 8<<20 {
		t.Fatalf("the filter of 2,000,000 keys takes %d bytes, want 8 MiB", got)
	}
	for _, n := range []int{419_431, 500_000, 838_861, 1_000_000, 3_000_000, 10_000_000} {
		if per := float64(bytesOf(newBloom(2*n))) / float64(n); per < 2.5 || per > 5 {
			t.Errorf("%d keys: %.2f bytes a key, want 2.5 to 5", n, per)
		}
	}
}
