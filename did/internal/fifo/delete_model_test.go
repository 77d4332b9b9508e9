package fifo

import (
	"math/rand/v2"
	"testing"
)

// TestDeleteModelLong: long seeded runs of puts and deletes over more
// keys than a compaction needs (FuzzModel's 15 keys never reach its 64
// dead entries) leave exactly the entries a simple model keeps, with
// the invariants Delete and Put rely on checked after every operation:
// order sorted by sequence number (Delete's binary search), each held
// key's entry in it at its sequence number, dead counting exactly the
// entries of order that are not, the costs adding up, and order no
// longer than twice the entry bound plus a compaction's slack. Runs with
// a cost bound make Put forget live entries from the front past dead
// ones; keys deleted and put again make stale entries of held keys.
func TestDeleteModelLong(t *testing.T) {
	for _, c := range []struct {
		max, maxCost, keys, minRebuild, pctDelete int
		seed                                      uint64
	}{
		{max: 100, keys: 120, minRebuild: 3, pctDelete: 40, seed: 1},
		{max: 100, keys: 150, minRebuild: 1, pctDelete: 55, seed: 2},
		{max: 300, maxCost: 900, keys: 500, minRebuild: 7, pctDelete: 45, seed: 3},
		{max: 1000, maxCost: 400, keys: 160, minRebuild: 4096, pctDelete: 50, seed: 4},
		{max: 200, keys: 210, minRebuild: 2, pctDelete: 30, seed: 5},
	} {
		r := rand.New(rand.NewPCG(c.seed, 0))
		m := New[int, int](c.max)
		m.minRebuild = c.minRebuild
		m.SetMaxCost(c.maxCost)
		var model []modelIntEntry
		compactions := 0
		for i := range 15_000 {
			k := r.IntN(c.keys)
			if r.IntN(100) < c.pctDelete {
				before := m.dead
				m.Delete(k)
				if before >= 63 && m.dead == 0 {
					compactions++
				}
				for j, e := range model {
					if e.k == k {
						model = append(model[:j:j], model[j+1:]...)
						break
					}
				}
			} else {
				cost := r.IntN(8)
				m.Put(k, i, cost)
				held := false
				for _, e := range model {
					held = held || e.k == k
				}
				if !held && (c.maxCost == 0 || cost <= c.maxCost) {
					sum := 0
					for _, e := range model {
						sum += e.cost
					}
					for len(model) > 0 && (len(model) >= c.max || (c.maxCost > 0 && sum+cost > c.maxCost)) {
						sum -= model[0].cost
						model = model[1:]
					}
					model = append(model, modelIntEntry{k, cost, i})
				}
			}
			checkInvariants(t, m, i, model)
		}
		if compactions == 0 {
			t.Errorf("case %+v: no compaction", c)
		}
	}
}

type modelIntEntry struct{ k, cost, v int }

func checkInvariants(t *testing.T, m *Map[int, int], i int, model []modelIntEntry) {
	t.Helper()
	want := 0
	for _, e := range model {
		want += e.cost
		if v, ok := m.Get(e.k); !ok || v != e.v {
			t.Fatalf("after %d operations: Get(%d) = %d, %v; want %d, true", i+1, e.k, v, ok, e.v)
		}
	}
	if n, cost := m.Len(); n != len(model) || cost != want {
		t.Fatalf("after %d operations: Len %d, cost %d; model %d, %d", i+1, n, cost, len(model), want)
	}
	dead, live := 0, 0
	for j, e := range m.order {
		if j > 0 && m.order[j-1].seq >= e.seq {
			t.Fatalf("after %d operations: order not sorted at %d", i+1, j)
		}
		if s, ok := m.items[e.k]; ok && s.seq == e.seq {
			live++
		} else {
			dead++
		}
	}
	if live != len(m.items) || dead != m.dead {
		t.Fatalf("after %d operations: order has %d live, %d dead entries; items %d, dead %d", i+1, live, dead, len(m.items), m.dead)
	}
	if len(m.order) > 2*m.max+64 {
		t.Fatalf("after %d operations: %d entries in order for a bound of %d", i+1, len(m.order), m.max)
	}
}

// TestDeleteOrderAfterCostEviction documents a bound of order looser than
// FuzzModel's checkModel states (twice the held entries plus 64): dead
// entries behind live ones that a costly Put forgets stay until the next
// Delete or until they reach the front, so order can hold many times the
// entries held, though never more than twice the entry bound plus 64.
func TestDeleteOrderAfterCostEviction(t *testing.T) {
	m := New[int, int](10_000)
	m.SetMaxCost(3000)
	for k := range 1000 { // 1000 live at the front
		m.Put(k, k, 1)
	}
	for k := 1000; k < 1999; k++ { // 999 dead behind them: not most of order
		m.Put(k, k, 1)
		m.Delete(k)
	}
	m.Put(1999, 1999, 1)
	m.Put(-1, -1, 2999) // forgets the 1000 at the front, and only them
	n, _ := m.Len()
	if n != 2 || m.dead != 999 || len(m.order) != 1001 {
		t.Fatalf("%d held, %d entries in order, %d dead; want 2, 1001, 999", n, len(m.order), m.dead)
	}
	if len(m.order) > 2*m.max+64 {
		t.Fatalf("%d entries in order for a bound of %d", len(m.order), m.max)
	}
	m.Delete(1999) // the next Delete compacts
	if len(m.order) != 1 || m.dead != 0 {
		t.Fatalf("after a Delete: %d entries in order, %d dead; want 1, 0", len(m.order), m.dead)
	}
}
