package smt_test

import (
	"crypto/sha256"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"pgregory.net/rapid"

	"github.com/idmesh/idmesh/registry/smt"
)

func TestNodeHashes(t *testing.T) {
	k, v := hashOf("key"), hashOf("value")
	leafEnc := append(append([]byte{0x00}, k[:]...), v[:]...)
	innerEnc := append(append([]byte{0x01}, k[:]...), v[:]...)
	tests := []struct {
		name string
		got  smt.Hash
		want smt.Hash
	}{
		{"leaf", smt.LeafHash(k, v), sha256.Sum256(leafEnc)},
		{"inner", smt.InnerHash(k, v), sha256.Sum256(innerEnc)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %s, want %s", tt.got, tt.want)
			}
		})
	}
}

// TestKnownRoots checks small trees whose shape is worked out by hand.
func TestKnownRoots(t *testing.T) {
	v1, v2, v3 := hashOf("v1"), hashOf("v2"), hashOf("v3")
	var left, right smt.Hash // differ at bit 0
	right[0] = 0x80
	left[31], right[31] = 1, 2
	base := hashOf("base")
	lastA, lastB := withBit(base, 255, 0), withBit(base, 255, 1)
	// a and b share the first bit 0 and differ at bit 1; c starts with 1.
	var a, b, c smt.Hash
	a[0], b[0], c[0] = 0x00, 0x40, 0x80

	chain := func(h smt.Hash, key smt.Hash, from int) smt.Hash {
		for d := from; d >= 0; d-- {
			if bitOf(key, d) == 0 {
				h = smt.InnerHash(h, smt.Empty)
			} else {
				h = smt.InnerHash(smt.Empty, h)
			}
		}
		return h
	}
	tests := []struct {
		name  string
		pairs map[smt.Hash]smt.Hash
		want  smt.Hash
	}{
		{"empty", nil, smt.Empty},
		{"single leaf is the root", map[smt.Hash]smt.Hash{base: v1}, smt.LeafHash(base, v1)},
		{"split at bit 0", map[smt.Hash]smt.Hash{left: v1, right: v2},
			smt.InnerHash(smt.LeafHash(left, v1), smt.LeafHash(right, v2))},
		{"inner node with empty side", map[smt.Hash]smt.Hash{a: v1, b: v2},
			smt.InnerHash(smt.InnerHash(smt.LeafHash(a, v1), smt.LeafHash(b, v2)), smt.Empty)},
		{"lifted leaf beside inner node", map[smt.Hash]smt.Hash{a: v1, b: v2, c: v3},
			smt.InnerHash(smt.InnerHash(smt.LeafHash(a, v1), smt.LeafHash(b, v2)), smt.LeafHash(c, v3))},
		{"keys differing only in the last bit", map[smt.Hash]smt.Hash{lastA: v1, lastB: v2},
			chain(smt.InnerHash(smt.LeafHash(lastA, v1), smt.LeafHash(lastB, v2)), base, 254)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := naiveRoot(tt.pairs); got != tt.want {
				t.Fatalf("naive root %s, want %s", got, tt.want)
			}
			store, root := MustBuild(t, tt.pairs)
			if root != tt.want {
				t.Fatalf("Update root %s, want %s", root, tt.want)
			}
			// One key at a time, in reverse order, gives the same root.
			changes := setAll(tt.pairs)
			store2 := smt.NewMemStore()
			root2 := smt.Empty
			for i := len(changes) - 1; i >= 0; i-- {
				root2, _ = MustUpdate(t, store2, root2, changes[i:i+1])
			}
			if root2 != tt.want {
				t.Fatalf("incremental root %s, want %s", root2, tt.want)
			}
			checkTree(t, store, root)
		})
	}
}

func TestLongSharedPrefix(t *testing.T) {
	base := hashOf("base")
	a, b := withBit(base, 255, 0), withBit(base, 255, 1)
	c := flipBit(base, 200)
	va, vb, vc := hashOf("a"), hashOf("b"), hashOf("c")
	store := smt.NewMemStore()
	root, _ := MustUpdate(t, store, smt.Empty, []smt.Change{{Key: a, Value: va}, {Key: b, Value: vb}})
	p, err := smt.Prove(store, root, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Siblings) != 256 {
		t.Fatalf("proof depth %d, want 256", len(p.Siblings))
	}
	if err := p.Verify(root, a, &va); err != nil {
		t.Fatal(err)
	}
	q, err := smt.DecodeProof(p.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Verify(root, a, &va); err != nil {
		t.Fatal(err)
	}
	if n := len(p.Encode()); n > 3+32+2*32 {
		t.Errorf("encoded proof of 255 empty siblings is %d bytes", n)
	}

	root, _ = MustUpdate(t, store, root, []smt.Change{{Key: c, Value: vc}})
	want := map[smt.Hash]smt.Hash{a: va, b: vb, c: vc}
	if root != naiveRoot(want) {
		t.Fatalf("root after adding c differs from naive")
	}
	for k, v := range want {
		mustProve(t, store, root, k, &v)
	}
	// Deleting a lifts b to the leaf that c's subtree needs.
	root, nodes := MustUpdate(t, store, root, []smt.Change{{Key: a, Delete: true}})
	delete(want, a)
	if root != naiveRoot(want) {
		t.Fatalf("root after deleting a differs from naive")
	}
	if len(nodes) > 256 {
		t.Errorf("delete created %d nodes", len(nodes))
	}
	root, _ = MustUpdate(t, store, root, []smt.Change{{Key: c, Delete: true}})
	if root != smt.LeafHash(b, vb) {
		t.Fatalf("lone leaf not lifted to the root")
	}
	root, _ = MustUpdate(t, store, root, []smt.Change{{Key: b, Delete: true}})
	if root != smt.Empty {
		t.Fatalf("root %s after deleting everything", root)
	}
}

// mustProve proves key and verifies the proof for the given value (nil:
// absent).
func mustProve(t tb, store smt.NodeReader, root, key smt.Hash, value *smt.Hash) smt.Proof {
	t.Helper()
	p, err := smt.Prove(store, root, key)
	if err != nil {
		t.Fatalf("Prove %s: %v", key, err)
	}
	if err := p.Verify(root, key, value); err != nil {
		t.Fatalf("Verify %s: %v", key, err)
	}
	return p
}

// genKey draws a key that is new, already present, or a near neighbour of
// a present key (sharing a long prefix).
func genKey(t *rapid.T, present []smt.Hash) smt.Hash {
	mode := rapid.IntRange(0, 3).Draw(t, "mode")
	if len(present) == 0 || mode == 0 {
		return hashN("key", rapid.Uint64().Draw(t, "seed"))
	}
	k := present[rapid.IntRange(0, len(present)-1).Draw(t, "index")]
	switch mode {
	case 1:
		return k
	case 2:
		return flipBit(k, rapid.IntRange(240, 255).Draw(t, "bit"))
	default:
		return flipBit(k, rapid.IntRange(0, 255).Draw(t, "bit"))
	}
}

// genValue draws a value from a small pool, so that keys are often set to
// their current value.
func genValue(t *rapid.T) smt.Hash {
	return hashN("value", uint64(rapid.IntRange(0, 3).Draw(t, "value")))
}

func sortedKeys(m map[smt.Hash]smt.Hash) []smt.Hash {
	return keysOf(setAll(m))
}

func keysOf(cs []smt.Change) []smt.Hash {
	ks := make([]smt.Hash, len(cs))
	for i, c := range cs {
		ks[i] = c.Key
	}
	return ks
}

// TestUpdateMatchesNaive applies random batches of inserts, updates and
// deletes and compares every root with the naive root of a map model.
func TestUpdateMatchesNaive(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		store := smt.NewMemStore()
		model := make(map[smt.Hash]smt.Hash)
		root := smt.Empty
		batches := rapid.IntRange(1, 6).Draw(t, "batches")
		for range batches {
			present := sortedKeys(model)
			n := rapid.IntRange(0, 24).Draw(t, "changes")
			seen := make(map[smt.Hash]bool)
			var changes []smt.Change
			for range n {
				k := genKey(t, present)
				if seen[k] {
					continue
				}
				seen[k] = true
				c := smt.Change{Key: k}
				if rapid.IntRange(0, 3).Draw(t, "op") == 0 {
					c.Delete = true
					delete(model, k)
				} else {
					c.Value = genValue(t)
					model[k] = c.Value
				}
				changes = append(changes, c)
			}
			root, _ = MustUpdate(t, store, root, changes)
			if want := naiveRoot(model); root != want {
				t.Fatalf("root %s, naive %s", root, want)
			}
			if got := checkTree(t, store, root); len(got) != len(model) {
				t.Fatalf("tree holds %d pairs, model %d", len(got), len(model))
			}
			for k, v := range model {
				got, ok, err := smt.Get(store, root, k)
				if err != nil || !ok || got != v {
					t.Fatalf("Get %s = %s, %v, %v; want %s", k, got, ok, err, v)
				}
			}
		}
		// A batch of no-op changes creates nothing.
		var noop []smt.Change
		for k, v := range model {
			noop = append(noop, smt.Change{Key: k, Value: v})
			noop = append(noop, smt.Change{Key: flipBit(k, 255), Delete: true})
			noop = append(noop, smt.Change{Key: hashN("absent", uint64(len(noop))), Delete: true})
		}
		r2, nodes, err := smt.Update(store, root, dedupe(noop, model))
		if err != nil || r2 != root || len(nodes) != 0 {
			t.Fatalf("no-op batch: root changed %v, %d nodes, err %v", r2 != root, len(nodes), err)
		}
		// Deleting everything, in random batches, gives the empty root.
		keys := sortedKeys(model)
		rapid.Permutation(keys).Draw(t, "order")
		for len(keys) > 0 {
			n := rapid.IntRange(1, len(keys)).Draw(t, "batch")
			var del []smt.Change
			for _, k := range keys[:n] {
				del = append(del, smt.Change{Key: k, Delete: true})
			}
			keys = keys[n:]
			root, _ = MustUpdate(t, store, root, del)
		}
		if root != smt.Empty {
			t.Fatalf("root %s after deleting everything", root)
		}
	})
}

// dedupe drops changes to keys already changed earlier in cs, and deletes
// of keys present in model.
func dedupe(cs []smt.Change, model map[smt.Hash]smt.Hash) []smt.Change {
	seen := make(map[smt.Hash]bool)
	var out []smt.Change
	for _, c := range cs {
		if _, ok := model[c.Key]; seen[c.Key] || (c.Delete && ok) {
			continue
		}
		seen[c.Key] = true
		out = append(out, c)
	}
	return out
}

// TestOrderAndBatching builds one set of pairs through different orders and
// batchings and checks that the roots agree.
func TestOrderAndBatching(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 60).Draw(t, "n")
		model := make(map[smt.Hash]smt.Hash)
		for i := range n {
			k := hashN("k", uint64(i))
			if i%3 == 2 {
				k = flipBit(hashN("k", uint64(i-1)), rapid.IntRange(0, 255).Draw(t, "bit"))
			}
			model[k] = hashN("v", uint64(i))
		}
		want := naiveRoot(model)
		changes := setAll(model)
		rapid.Permutation(changes).Draw(t, "order")
		store := smt.NewMemStore()
		root := smt.Empty
		// Detour first: some keys with a temporary value, plus extra keys
		// that are deleted again below.
		var detour []smt.Change
		for i, c := range changes {
			if rapid.Bool().Draw(t, "detour") {
				detour = append(detour, smt.Change{Key: c.Key, Value: hashOf("temporary")})
				extra := hashN("extra", uint64(i))
				detour = append(detour, smt.Change{Key: extra, Value: hashOf("temporary")})
				changes = append(changes, smt.Change{Key: extra, Delete: true})
			}
		}
		root, _ = MustUpdate(t, store, root, detour)
		rapid.Permutation(changes).Draw(t, "order2")
		for len(changes) > 0 {
			b := rapid.IntRange(1, len(changes)).Draw(t, "batch")
			root, _ = MustUpdate(t, store, root, changes[:b])
			changes = changes[b:]
		}
		if root != want {
			t.Fatalf("root %s, naive %s", root, want)
		}
	})
}

func TestProveVerify(t *testing.T) {
	model := make(map[smt.Hash]smt.Hash)
	for i := range 300 {
		model[hashN("k", uint64(i))] = hashN("v", uint64(i))
	}
	// Neighbours with long shared prefixes.
	for i := range 20 {
		model[flipBit(hashN("k", uint64(i)), 250+i%6)] = hashN("w", uint64(i))
	}
	store, root := MustBuild(t, model)
	wrong := hashOf("wrong")
	for k, v := range model {
		p := mustProve(t, store, root, k, &v)
		if p.Leaf != nil {
			t.Fatalf("inclusion proof for %s carries a leaf", k)
		}
		mustReject(t, p, root, k, &wrong, "wrong value")
		mustReject(t, p, root, k, nil, "absence of a present key")
		mustReject(t, p, hashOf("other root"), k, &v, "wrong root")
		mustReject(t, p, root, flipBit(k, 255), &v, "other key")
		checkTampered(t, p, root, k, &v)
		checkCodecs(t, p, root, k, &v)
	}
	kinds := map[string]int{}
	keys := sortedKeys(model)
	for i := range 2000 {
		k := hashN("absent", uint64(i))
		if i%4 == 0 {
			k = flipBit(keys[i%len(keys)], 200+i%56)
		}
		if _, ok := model[k]; ok {
			continue
		}
		p := mustProve(t, store, root, k, nil)
		if p.Leaf != nil {
			kinds["leaf"]++
		} else {
			kinds["empty"]++
		}
		v := model[keys[0]]
		mustReject(t, p, root, k, &v, "inclusion of an absent key")
		checkTampered(t, p, root, k, nil)
		checkCodecs(t, p, root, k, nil)
	}
	if kinds["leaf"] == 0 || kinds["empty"] == 0 {
		t.Fatalf("non-inclusion kinds not both exercised: %v", kinds)
	}
}

func TestNonInclusionKinds(t *testing.T) {
	v := hashOf("v")
	var a, b, c, d smt.Hash
	a[0], b[0], c[0], d[0] = 0x00, 0x40, 0x80, 0xc0
	tests := []struct {
		name     string
		pairs    map[smt.Hash]smt.Hash
		key      smt.Hash
		leaf     bool
		siblings int
	}{
		{"empty tree", nil, a, false, 0},
		{"root is another leaf", map[smt.Hash]smt.Hash{a: v}, c, true, 0},
		{"empty side of an inner node", map[smt.Hash]smt.Hash{a: v, b: v}, c, false, 1},
		{"leaf beside an inner node", map[smt.Hash]smt.Hash{a: v, b: v, c: v}, d, true, 1},
		{"deep empty", map[smt.Hash]smt.Hash{a: v, flipBit(a, 255): v}, flipBit(a, 100), false, 101},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, root := MustBuild(t, tt.pairs)
			p := mustProve(t, store, root, tt.key, nil)
			if (p.Leaf != nil) != tt.leaf || len(p.Siblings) != tt.siblings {
				t.Fatalf("proof has leaf %v and %d siblings, want %v and %d", p.Leaf != nil, len(p.Siblings), tt.leaf, tt.siblings)
			}
			checkTampered(t, p, root, tt.key, nil)
			checkCodecs(t, p, root, tt.key, nil)
		})
	}
}

func mustReject(t tb, p smt.Proof, root, key smt.Hash, value *smt.Hash, what string) {
	t.Helper()
	if err := p.Verify(root, key, value); !errors.Is(err, smt.ErrInvalidProof) {
		t.Fatalf("%s: Verify = %v, want ErrInvalidProof", what, err)
	}
}

// checkTampered checks that every small alteration of a valid proof fails.
func checkTampered(t tb, p smt.Proof, root, key smt.Hash, value *smt.Hash) {
	t.Helper()
	clone := func() smt.Proof {
		q := smt.Proof{Siblings: append([]smt.Hash(nil), p.Siblings...)}
		if p.Leaf != nil {
			l := *p.Leaf
			q.Leaf = &l
		}
		return q
	}
	for i := range p.Siblings {
		q := clone()
		q.Siblings[i][i%32] ^= 1
		mustReject(t, q, root, key, value, "flipped sibling")
		q = clone()
		q.Siblings[i] = smt.Empty
		if p.Siblings[i] != smt.Empty {
			mustReject(t, q, root, key, value, "emptied sibling")
		}
	}
	if len(p.Siblings) > 0 {
		q := clone()
		q.Siblings = q.Siblings[:len(q.Siblings)-1]
		mustReject(t, q, root, key, value, "dropped sibling")
		q = clone()
		q.Siblings = q.Siblings[1:]
		mustReject(t, q, root, key, value, "dropped top sibling")
	}
	for _, extra := range []smt.Hash{smt.Empty, hashOf("x")} {
		q := clone()
		q.Siblings = append(q.Siblings, extra)
		mustReject(t, q, root, key, value, "extra sibling")
	}
	if p.Leaf != nil {
		q := clone()
		q.Leaf.Value[0] ^= 1
		mustReject(t, q, root, key, value, "altered leaf value")
		q = clone()
		q.Leaf.Key[31] ^= 1
		mustReject(t, q, root, key, value, "altered leaf key")
		q = clone()
		q.Leaf = nil
		mustReject(t, q, root, key, value, "dropped leaf")
		q = clone()
		q.Leaf.Key = key
		mustReject(t, q, root, key, value, "leaf of the key itself")
	} else {
		q := clone()
		q.Leaf = &smt.ProofLeaf{Key: flipBit(key, 255), Value: hashOf("v")}
		mustReject(t, q, root, key, value, "added leaf")
	}
}

// checkCodecs checks that p survives the binary and JSON encodings.
func checkCodecs(t tb, p smt.Proof, root, key smt.Hash, value *smt.Hash) {
	t.Helper()
	q, err := smt.DecodeProof(p.Encode())
	if err != nil {
		t.Fatalf("DecodeProof: %v", err)
	}
	if err := q.Verify(root, key, value); err != nil {
		t.Fatalf("decoded proof: %v", err)
	}
	js, err := p.MarshalJSON()
	if err != nil {
		t.Fatalf("MarshalJSON: %v", err)
	}
	var r smt.Proof
	if err := r.UnmarshalJSON(js); err != nil {
		t.Fatalf("UnmarshalJSON %s: %v", js, err)
	}
	if err := r.Verify(root, key, value); err != nil {
		t.Fatalf("JSON proof: %v", err)
	}
}

func TestUpdateErrors(t *testing.T) {
	k1, k2, v := hashOf("k1"), hashOf("k2"), hashOf("v")
	store, root := MustBuild(t, map[smt.Hash]smt.Hash{k1: v, k2: v})

	// A store whose root is a leaf off its path: both keys start with 1
	// but the leaf sits on the left.
	var x, y smt.Hash
	x[0], y[0] = 0x80, 0xc0
	bad := smt.NewMemStore()
	lx, ly := smt.LeafHash(x, v), smt.LeafHash(y, v)
	badRoot := smt.InnerHash(lx, ly)
	bad.Put([]smt.Node{
		{Hash: lx, Encoding: append(append([]byte{0}, x[:]...), v[:]...)},
		{Hash: ly, Encoding: append(append([]byte{0}, y[:]...), v[:]...)},
		{Hash: badRoot, Encoding: append(append([]byte{1}, lx[:]...), ly[:]...)},
	})
	var probe smt.Hash // starts with bit 0: goes left to lx

	tests := []struct {
		name    string
		r       smt.NodeReader
		root    smt.Hash
		changes []smt.Change
		want    error
	}{
		{"duplicate key", store, root, []smt.Change{{Key: k1, Value: v}, {Key: k2, Delete: true}, {Key: k1, Delete: true}}, smt.ErrDuplicateKey},
		{"zero value", store, root, []smt.Change{{Key: k1}}, smt.ErrZeroValue},
		{"missing root", store, hashOf("nowhere"), []smt.Change{{Key: k1, Value: v}}, smt.ErrMissingNode},
		{"leaf off its path", bad, badRoot, []smt.Change{{Key: probe, Value: v}}, smt.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, nodes, err := smt.Update(tt.r, tt.root, tt.changes)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if got != smt.Empty || nodes != nil {
				t.Fatalf("partial result on error")
			}
		})
	}
}

func TestCorruptStore(t *testing.T) {
	key := hashOf("k")
	loop := hashOf("loop") // an inner node that is its own child
	short, badTag := hashOf("short"), hashOf("tag")
	store := smt.NewMemStore()
	store.Put([]smt.Node{
		{Hash: loop, Encoding: append(append([]byte{1}, loop[:]...), loop[:]...)},
		{Hash: short, Encoding: []byte{0, 1, 2}},
		{Hash: badTag, Encoding: append([]byte{7}, make([]byte, 64)...)},
	})
	for _, root := range []smt.Hash{loop, short, badTag} {
		if _, _, err := smt.Get(store, root, key); !errors.Is(err, smt.ErrMalformed) {
			t.Errorf("Get: %v", err)
		}
		if _, err := smt.Prove(store, root, key); !errors.Is(err, smt.ErrMalformed) {
			t.Errorf("Prove: %v", err)
		}
		if _, _, err := smt.Update(store, root, []smt.Change{{Key: key, Value: key}}); !errors.Is(err, smt.ErrMalformed) {
			t.Errorf("Update: %v", err)
		}
	}
	if _, _, err := smt.Get(store, hashOf("absent"), key); !errors.Is(err, smt.ErrMissingNode) {
		t.Errorf("Get of missing root: %v", err)
	}
	if _, err := smt.Prove(store, hashOf("absent"), key); !errors.Is(err, smt.ErrMissingNode) {
		t.Errorf("Prove of missing root: %v", err)
	}
}

func TestSameValueCreatesNoNodes(t *testing.T) {
	model := make(map[smt.Hash]smt.Hash)
	for i := range 50 {
		model[hashN("k", uint64(i))] = hashN("v", uint64(i))
	}
	store, root := MustBuild(t, model)
	for k, v := range model {
		got, nodes, err := smt.Update(store, root, []smt.Change{{Key: k, Value: v}})
		if err != nil || got != root || len(nodes) != 0 {
			t.Fatalf("set %s to its value: root changed %v, %d nodes, err %v", k, got != root, len(nodes), err)
		}
	}
}

// TestUpdateReads checks the O(k log n) cost: k changes into a tree of n
// random keys read and create a logarithmic number of nodes per change.
func TestUpdateReads(t *testing.T) {
	const n, k = 100_000, 100
	if testing.Short() {
		t.Skip("builds a tree of 100k keys")
	}
	model := make(map[smt.Hash]smt.Hash, n)
	for i := range n {
		model[hashN("k", uint64(i))] = hashN("v", uint64(i))
	}
	store, root := MustBuild(t, model)
	rng := rand.New(rand.NewPCG(1, 2))
	var changes []smt.Change
	for i := range k {
		c := smt.Change{Key: hashN("k", rng.Uint64N(n)), Value: hashN("new", uint64(i))}
		switch i % 3 {
		case 1:
			c.Key = hashN("fresh", uint64(i))
		case 2:
			c.Delete = true
		}
		changes = append(changes, c)
	}
	changes = dedupe(changes, nil)
	cr := &countingReader{r: store}
	newRoot, nodes, err := smt.Update(cr, root, changes)
	if err != nil {
		t.Fatal(err)
	}
	bound := k * (4*int(math.Ceil(math.Log2(n))) + 8)
	t.Logf("%d changes into %d keys: %d reads, %d nodes (bound %d)", len(changes), n, cr.reads, len(nodes), bound)
	if cr.reads > bound || len(nodes) > bound {
		t.Fatalf("%d reads, %d nodes; bound %d", cr.reads, len(nodes), bound)
	}
	for _, c := range changes {
		if c.Delete {
			delete(model, c.Key)
		} else {
			model[c.Key] = c.Value
		}
	}
	if newRoot != naiveRoot(model) {
		t.Fatal("root differs from naive")
	}
}
