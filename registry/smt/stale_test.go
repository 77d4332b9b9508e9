package smt_test

import (
	"bytes"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/idmesh/idmesh/registry/smt"
)

// reachable returns the hashes of every node of the tree under root.
func reachable(t tb, store smt.NodeReader, root smt.Hash) map[smt.Hash]bool {
	out := make(map[smt.Hash]bool)
	var visit func(h smt.Hash)
	visit = func(h smt.Hash) {
		if h == smt.Empty || out[h] {
			return
		}
		enc, err := store.Node(h)
		if err != nil {
			t.Fatalf("walk: %v", err)
		}
		out[h] = true
		if enc[0] == 0x01 {
			visit(smt.Hash(enc[1:33]))
			visit(smt.Hash(enc[33:]))
		}
	}
	visit(root)
	return out
}

func sortedSet(m map[smt.Hash]bool) []smt.Hash {
	out := make([]smt.Hash, 0, len(m))
	for h := range m {
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b smt.Hash) int { return bytes.Compare(a[:], b[:]) })
	return out
}

func minus(a, b map[smt.Hash]bool) map[smt.Hash]bool {
	out := make(map[smt.Hash]bool)
	for h := range a {
		if !b[h] {
			out[h] = true
		}
	}
	return out
}

// TestUpdateStaleIsTheDifference applies random batches (inserts,
// updates, deletes, keys set back to earlier values, neighbours sharing
// long prefixes) and checks that the created nodes are exactly the new
// tree's nodes missing from the old one and the stale nodes exactly the
// old tree's nodes missing from the new one: the invariant pruning
// relies on.
func TestUpdateStaleIsTheDifference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		store := smt.NewMemStore()
		model := make(map[smt.Hash]smt.Hash)
		root := smt.Empty
		for b := range rapid.IntRange(1, 8).Draw(t, "batches") {
			seen := make(map[smt.Hash]bool)
			var changes []smt.Change
			for range rapid.IntRange(0, 12).Draw(t, "changes") {
				k := genKey(t, sortedKeys(model))
				if seen[k] {
					continue
				}
				seen[k] = true
				if rapid.IntRange(0, 3).Draw(t, "delete") == 0 {
					changes = append(changes, smt.Change{Key: k, Delete: true})
				} else {
					changes = append(changes, smt.Change{Key: k, Value: genValue(t)})
				}
			}
			newRoot, nodes, stale, err := smt.UpdateStale(store, root, changes)
			if err != nil {
				t.Fatalf("batch %d: %v", b, err)
			}
			store.Put(nodes)
			before, after := reachable(t, store, root), reachable(t, store, newRoot)
			created := make([]smt.Hash, len(nodes))
			for i, n := range nodes {
				created[i] = n.Hash
			}
			if want := sortedSet(minus(after, before)); !slices.Equal(created, want) {
				t.Fatalf("batch %d: created %d nodes, the new tree has %d new ones", b, len(created), len(want))
			}
			if want := sortedSet(minus(before, after)); !slices.Equal(stale, want) {
				t.Fatalf("batch %d: %d stale nodes, the old tree lost %d: %v vs %v", b, len(stale), len(want), stale, want)
			}
			for _, c := range changes {
				if c.Delete {
					delete(model, c.Key)
				} else {
					model[c.Key] = c.Value
				}
			}
			if newRoot != naiveRoot(model) {
				t.Fatalf("batch %d: root mismatch", b)
			}
			root = newRoot
		}
	})
}

// TestUpdateStaleExamples shows the stale nodes of a few updates by hand.
func TestUpdateStaleExamples(t *testing.T) {
	a, b := withBit(hashOf("a"), 0, 0), withBit(hashOf("b"), 0, 1)
	v1, v2 := hashOf("v1"), hashOf("v2")
	store := smt.NewMemStore()
	r1, n1, s1, err := smt.UpdateStale(store, smt.Empty, []smt.Change{{Key: a, Value: v1}})
	if err != nil || len(s1) != 0 || len(n1) != 1 {
		t.Fatalf("first insert: %d nodes, %d stale, %v", len(n1), len(s1), err)
	}
	store.Put(n1)
	// Adding b keeps a's leaf (it moves one level down) and adds an inner node.
	r2, n2, s2, err := smt.UpdateStale(store, r1, []smt.Change{{Key: b, Value: v1}})
	if err != nil || len(s2) != 0 || len(n2) != 2 {
		t.Fatalf("second insert: %d nodes, %d stale, %v", len(n2), len(s2), err)
	}
	store.Put(n2)
	// Changing a's value makes its old leaf and the root stale.
	_, _, s3, err := smt.UpdateStale(store, r2, []smt.Change{{Key: a, Value: v2}})
	if err != nil {
		t.Fatal(err)
	}
	if want := sortedSet(map[smt.Hash]bool{smt.LeafHash(a, v1): true, r2: true}); !slices.Equal(s3, want) {
		t.Fatalf("stale %v, want %v", s3, want)
	}
	// Setting a value it already has changes nothing.
	_, n4, s4, err := smt.UpdateStale(store, r2, []smt.Change{{Key: a, Value: v1}})
	if err != nil || len(n4) != 0 || len(s4) != 0 {
		t.Fatalf("no-op: %d nodes, %d stale, %v", len(n4), len(s4), err)
	}
	// Deleting b lifts a's leaf to the root: only the inner node and b's leaf go.
	r5, _, s5, err := smt.UpdateStale(store, r2, []smt.Change{{Key: b, Delete: true}})
	if err != nil || r5 != r1 {
		t.Fatalf("delete: root %s, want %s, %v", r5, r1, err)
	}
	if want := sortedSet(map[smt.Hash]bool{smt.LeafHash(b, v1): true, r2: true}); !slices.Equal(s5, want) {
		t.Fatalf("stale %v, want %v", s5, want)
	}
}

// TestUpdateStaleLargeBatches: batches large enough that an update keeps
// its new and stale nodes in several of its largest chunks give the
// naive root, and new and stale nodes that are exactly the difference
// between the versions.
func TestUpdateStaleLargeBatches(t *testing.T) {
	model := make(map[smt.Hash]smt.Hash)
	var changes []smt.Change
	for i := range 12_000 {
		k, v := hashN("k", uint64(i)), hashN("v", uint64(i))
		model[k] = v
		changes = append(changes, smt.Change{Key: k, Value: v})
	}
	store := smt.NewMemStore()
	root := smt.Empty
	for round := range 2 {
		newRoot, created, stale, err := smt.UpdateStale(store, root, changes)
		if err != nil {
			t.Fatal(err)
		}
		if want := naiveRoot(model); newRoot != want {
			t.Fatalf("round %d: root %s, naive %s", round, newRoot, want)
		}
		if len(created) <= 3*4096 {
			t.Fatalf("round %d: %d nodes created: too few to fill several chunks", round, len(created))
		}
		store.Put(created)
		before, after := reachable(t, store, root), reachable(t, store, newRoot)
		var got []smt.Hash
		for _, n := range created {
			got = append(got, n.Hash)
		}
		if !slices.Equal(got, sortedSet(minus(after, before))) {
			t.Fatalf("round %d: %d created, not the %d nodes the new version adds", round, len(got), len(minus(after, before)))
		}
		if !slices.Equal(stale, sortedSet(minus(before, after))) {
			t.Fatalf("round %d: %d stale, not the %d nodes the new version drops", round, len(stale), len(minus(before, after)))
		}
		// Next: delete a third of the keys, change a third.
		changes = changes[:0]
		for i := range 12_000 {
			k := hashN("k", uint64(i))
			switch i % 3 {
			case 0:
				delete(model, k)
				changes = append(changes, smt.Change{Key: k, Delete: true})
			case 1:
				model[k] = hashN("w", uint64(i))
				changes = append(changes, smt.Change{Key: k, Value: model[k]})
			}
		}
		root = newRoot
	}
}
