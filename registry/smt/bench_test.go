package smt_test

import (
	"crypto/sha256"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/idmesh/idmesh/registry/smt"
)

const benchKeys = 1_000_000

// bigTree is a tree of benchKeys keys, built once per test binary by the
// benchmarks that need it.
var bigTree = sync.OnceValues(func() (*smt.MemStore, smt.Hash) {
	changes := make([]smt.Change, benchKeys)
	for i := range changes {
		changes[i] = smt.Change{Key: hashN("k", uint64(i)), Value: hashN("v", uint64(i))}
	}
	store := smt.NewMemStore()
	root, nodes, err := smt.Update(store, smt.Empty, changes)
	if err != nil {
		panic(err)
	}
	store.Put(nodes)
	return store, root
})

// BenchmarkUpdate applies 100 changes (half updates of existing keys, half
// inserts) to a tree of 1,000,000 keys.
func BenchmarkUpdate(b *testing.B) {
	store, root := bigTree()
	rng := rand.New(rand.NewPCG(1, 2))
	batches := make([][]smt.Change, 64)
	for i := range batches {
		cs := make([]smt.Change, 100)
		for j := range cs {
			if j%2 == 0 {
				cs[j] = smt.Change{Key: hashN("k", rng.Uint64N(benchKeys)), Value: hashN("u", rng.Uint64())}
			} else {
				cs[j] = smt.Change{Key: hashN("new", rng.Uint64()), Value: hashN("u", rng.Uint64())}
			}
		}
		batches[i] = dedupe(cs, nil)
	}
	cr := &countingReader{r: store}
	nodes, i := 0, 0
	for b.Loop() {
		_, created, err := smt.Update(cr, root, batches[i%len(batches)])
		if err != nil {
			b.Fatal(err)
		}
		nodes += len(created)
		i++
	}
	b.ReportMetric(float64(nodes)/float64(i), "nodes/op")
	b.ReportMetric(float64(cr.reads)/float64(i), "reads/op")
}

func BenchmarkGet(b *testing.B) {
	store, root := bigTree()
	rng := rand.New(rand.NewPCG(3, 4))
	for b.Loop() {
		if _, ok, err := smt.Get(store, root, hashN("k", rng.Uint64N(benchKeys))); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkProve(b *testing.B) {
	store, root := bigTree()
	rng := rand.New(rand.NewPCG(5, 6))
	for b.Loop() {
		if _, err := smt.Prove(store, root, hashN("k", rng.Uint64N(benchKeys))); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	store, root := bigTree()
	type claim struct {
		p        smt.Proof
		key, val smt.Hash
	}
	claims := make([]claim, 64)
	for i := range claims {
		n := uint64(i * 7919)
		p, err := smt.Prove(store, root, hashN("k", n))
		if err != nil {
			b.Fatal(err)
		}
		claims[i] = claim{p, hashN("k", n), hashN("v", n)}
	}
	i := 0
	for b.Loop() {
		c := &claims[i%len(claims)]
		if err := c.p.Verify(root, c.key, &c.val); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkDecodeProof(b *testing.B) {
	store, root := bigTree()
	p, err := smt.Prove(store, root, hashN("k", 42))
	if err != nil {
		b.Fatal(err)
	}
	enc := p.Encode()
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, err := smt.DecodeProof(enc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSHA256 is the cost of hashing one node, to read the others as
// multiples of it.
func BenchmarkSHA256(b *testing.B) {
	var buf [65]byte
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf[1] = byte(sha256.Sum256(buf[:])[0])
	}
}
