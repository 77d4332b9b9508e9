package fifo

import (
	"reflect"
	"testing"
)

// TestRebuild: a Map whose map is rebuilt after every few deletions
// holds exactly the newest max entries, with their values and costs,
// whatever the rebuilds; and it does rebuild.
func TestRebuild(t *testing.T) {
	for _, c := range []struct{ max, minRebuild, puts int }{{1, 1, 50}, {5, 1, 200}, {5, 3, 200}, {64, 2, 1000}} {
		m := New[[32]byte, int](c.max)
		m.minRebuild = c.minRebuild
		key := func(i int) (k [32]byte) { k[0], k[1] = byte(i), byte(i>>8); return }
		rebuilds := 0
		for i := range c.puts {
			before := reflect.ValueOf(m.items).UnsafePointer()
			m.Put(key(i), i, 1)
			if reflect.ValueOf(m.items).UnsafePointer() != before {
				rebuilds++
			}
			for j := max(0, i-c.max-2); j <= i; j++ {
				v, ok := m.Get(key(j))
				if want := j > i-c.max; ok != want || ok && v != j {
					t.Fatalf("max %d, after %d puts: Get(%d) = %d, %v; want held %v", c.max, i+1, j, v, ok, want)
				}
			}
			if n, cost := m.Len(); n != min(i+1, c.max) || cost != n {
				t.Fatalf("max %d, after %d puts: Len %d, cost %d", c.max, i+1, n, cost)
			}
		}
		if rebuilds == 0 {
			t.Errorf("max %d, min rebuild %d: %d puts and no rebuild", c.max, c.minRebuild, c.puts)
		}
	}
}

// TestCostBound: entries are forgotten oldest first until the costs fit;
// one that could never fit is not added, nor is anything into a Map of
// no entries; a key held already is not replaced.
func TestCostBound(t *testing.T) {
	m := New[string, int](10)
	m.SetMaxCost(10)
	for i, k := range []string{"a", "b", "c"} {
		m.Put(k, i, 4)
	}
	if _, ok := m.Get("a"); ok {
		t.Fatal("a kept: costs 12 > 10")
	}
	if n, cost := m.Len(); n != 2 || cost != 8 {
		t.Fatalf("Len %d, cost %d; want 2, 8", n, cost)
	}
	m.Put("huge", 9, 11)
	if _, ok := m.Get("huge"); ok {
		t.Fatal("an entry above the bound was added")
	}
	if _, ok := m.Get("b"); !ok {
		t.Fatal("an entry above the bound made room anyway")
	}
	m.Put("b", 99, 1)
	if v, _ := m.Get("b"); v != 1 {
		t.Fatalf("b = %d: replaced", v)
	}
	none := New[string, int](0)
	none.Put("x", 1, 0)
	if n, _ := none.Len(); n != 0 {
		t.Fatal("a Map of no entries holds one")
	}
}

// FuzzModel: any sequence of puts and deletes leaves exactly the entries
// a simple model keeps (the newest that fit both bounds, oldest forgotten
// first, deleted ones gone), with rebuilds after every deletion or two.
// A byte b puts key b%16 at cost b/16, or, when b%16 is 15, deletes key
// b/16.
func FuzzModel(f *testing.F) {
	f.Add([]byte{1, 2, 3, 1, 4, 5, 6, 7}, uint8(3), uint8(0))
	f.Add([]byte{9, 9, 9, 8, 7, 200, 3}, uint8(5), uint8(12))
	f.Fuzz(func(t *testing.T, ops []byte, maxN, maxCost uint8) {
		m := New[byte, int](int(maxN % 16))
		m.minRebuild = 1 + int(maxN%2)
		m.SetMaxCost(int(maxCost % 32))
		var model []modelEntry
		for i, b := range ops {
			if b%16 == 15 {
				k := b / 16
				m.Delete(k)
				for j, e := range model {
					if e.k == k {
						model = append(model[:j:j], model[j+1:]...)
						break
					}
				}
				checkModel(t, m, i, model)
				continue
			}
			k, cost := b%16, int(b/16)
			m.Put(k, i, cost)
			held := false
			for _, e := range model {
				held = held || e.k == k
			}
			fits := m.max > 0 && (m.maxCost == 0 || cost <= m.maxCost)
			if !held && fits {
				sum := cost
				for _, e := range model {
					sum += e.cost
				}
				for len(model) > 0 && (len(model) >= m.max || (m.maxCost > 0 && sum > m.maxCost)) {
					sum -= model[0].cost
					model = model[1:]
				}
				model = append(model, modelEntry{k, cost})
			}
			checkModel(t, m, i, model)
		}
	})
}

// modelEntry is FuzzModel's model of an entry.
type modelEntry struct {
	k    byte
	cost int
}

// checkModel fails t unless m holds exactly model's entries, with its
// order no longer than twice the entry bound plus a compaction's slack
// (a Put can forget live entries from the front and leave dead ones
// behind them until the next Delete compacts).
func checkModel(t *testing.T, m *Map[byte, int], i int, model []modelEntry) {
	t.Helper()
	n, total := m.Len()
	want := 0
	for _, e := range model {
		want += e.cost
		if _, ok := m.Get(e.k); !ok {
			t.Fatalf("after %d operations: %d not held", i+1, e.k)
		}
	}
	if n != len(model) || total != want {
		t.Fatalf("after %d operations: Len %d, cost %d; model %d, %d", i+1, n, total, len(model), want)
	}
	if len(m.order) > 2*m.max+64 {
		t.Fatalf("after %d operations: %d entries in order for %d held, at most %d", i+1, len(m.order), n, m.max)
	}
}

// TestDelete: a deleted key is gone with its cost, its entry is skipped
// when it reaches the front (the entries after it keep their turn), a key
// put again after its deletion is held as new, and a Map whose keys are
// all deleted soon after their puts keeps its order slice small.
func TestDelete(t *testing.T) {
	m := New[int, int](3)
	m.SetMaxCost(100)
	for k := range 3 {
		m.Put(k, k, 10)
	}
	m.Delete(1)
	m.Delete(7) // not held: nothing
	if _, ok := m.Get(1); ok {
		t.Fatal("1 held after Delete")
	}
	if n, cost := m.Len(); n != 2 || cost != 20 {
		t.Fatalf("Len %d, cost %d; want 2, 20", n, cost)
	}
	m.Put(1, 11, 10) // again: now the newest
	m.Put(3, 3, 10)  // forgets the oldest, 0, and only it
	for k, want := range map[int]bool{0: false, 1: true, 2: true, 3: true} {
		if _, ok := m.Get(k); ok != want {
			t.Fatalf("Get(%d) held %v; want %v", k, ok, want)
		}
	}
	m.Put(4, 4, 10) // forgets 2 (the stale entry of 1 was skipped)
	if _, ok := m.Get(2); ok {
		t.Fatal("2 held: the deleted entry of 1 took its turn")
	}
	if v, ok := m.Get(1); !ok || v != 11 {
		t.Fatalf("Get(1) = %d, %v; want 11, true", v, ok)
	}
	if n, cost := m.Len(); n != 3 || cost != 30 {
		t.Fatalf("Len %d, cost %d; want 3, 30", n, cost)
	}

	big := New[int, int](1 << 20)
	for k := range 100_000 {
		big.Put(k, k, 1)
		if k >= 10 {
			big.Delete(k - 10)
		}
	}
	if n, cost := big.Len(); n != 10 || cost != 10 {
		t.Fatalf("Len %d, cost %d; want 10, 10", n, cost)
	}
	if len(big.order) > 2*10+64 {
		t.Fatalf("%d entries in order for 10 held", len(big.order))
	}
}
