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
