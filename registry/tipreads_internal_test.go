package registry

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/idmesh/idmesh/registry/smt"
)

// countingState is a StateReader of fixed values that counts its reads;
// keys starting with "fail" fail with a read error.
type countingState struct {
	mu    sync.Mutex
	vals  map[string][]byte
	reads map[string]int
}

func (s *countingState) Get(key []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads[string(key)]++
	if bytes.HasPrefix(key, []byte("fail")) {
		return nil, errors.New("disk on fire")
	}
	v, ok := s.vals[string(key)]
	if !ok {
		return nil, fmt.Errorf("state key: %w", ErrNotFound)
	}
	return bytes.Clone(v), nil
}

func (s *countingState) Node(smt.Hash) ([]byte, error) { return nil, smt.ErrMissingNode }

func (s *countingState) count(k string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads[k]
}

// TestTipReadsAnswers: the cache answers what the store answered (a
// value, an absence with the store's own error) and reads each key once;
// a read error and a value above MaxTipReadValue are not kept.
func TestTipReadsAnswers(t *testing.T) {
	big := bytes.Repeat([]byte{7}, MaxTipReadValue+1)
	st := &countingState{vals: map[string][]byte{"a": []byte("va"), "empty": {}, "big": big}, reads: map[string]int{}}
	r := tipReader{r: st, t: newTipReads()}
	for _, c := range []struct {
		key   string
		want  []byte
		err   error
		reads int // of the store, after three reads
	}{
		{"a", []byte("va"), nil, 1},
		{"empty", []byte{}, nil, 1},
		{"absent", nil, ErrNotFound, 1},
		{"fail-1", nil, nil, 3},
		{"big", big, nil, 3},
	} {
		var first error
		for i := range 3 {
			v, err := r.Get([]byte(c.key))
			switch {
			case c.key == "fail-1":
				if err == nil || errors.Is(err, ErrNotFound) {
					t.Fatalf("%s: %v, want the read error", c.key, err)
				}
			case c.err != nil:
				if !errors.Is(err, c.err) || v != nil {
					t.Fatalf("%s: %q %v, want %v", c.key, v, err, c.err)
				}
				if i == 0 {
					first = err
				} else if err.Error() != first.Error() {
					t.Fatalf("%s: %q, then %q", c.key, first, err)
				}
			case err != nil || !bytes.Equal(v, c.want) || v == nil:
				t.Fatalf("%s: %q %v, want %q", c.key, v, err, c.want)
			}
		}
		if n := st.count(c.key); n != c.reads {
			t.Errorf("%s: %d store reads, want %d", c.key, n, c.reads)
		}
	}
}

// TestTipReadsBounded: however many distinct keys and transactions are
// looked up (a flood of gossiped operations naming DIDs nobody created,
// many at once), the cache counts at most MaxTipReadBytes, and what it
// no longer keeps is still answered right, from the store.
func TestTipReadsBounded(t *testing.T) {
	st := &countingState{vals: map[string][]byte{}, reads: map[string]int{}}
	tr := newTipReads()
	r := tipReader{r: st, t: tr}
	key := func(i int) []byte { return fmt.Appendf(nil, "did\x00r\x00did:idmesh:%0200d", i) }
	n := 2 * MaxTipReadBytes / (len(key(0)) + tipReadEntryCost)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < n; i += 4 {
				if _, err := r.Get(key(i)); !errors.Is(err, ErrNotFound) {
					t.Errorf("key %d: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	entries, cost := tr.len()
	if cost > MaxTipReadBytes || entries == 0 || entries >= n {
		t.Fatalf("%d entries of %d keys, %d bytes (bound %d)", entries, n, cost, MaxTipReadBytes)
	}
	// The cache is full: a new key read absent is not kept, and is read
	// again from the store once it exists.
	if _, err := r.Get(key(n)); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	st.mu.Lock()
	st.vals[string(key(n))] = []byte("late")
	st.mu.Unlock()
	if v, err := r.Get(key(n)); err != nil || string(v) != "late" {
		t.Fatalf("a key read past the bound was kept: %q %v", v, err)
	}
	if _, cost := tr.len(); cost > MaxTipReadBytes {
		t.Fatalf("%d bytes", cost)
	}
}
