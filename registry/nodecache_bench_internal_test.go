//go:build unix

package registry

import (
	"crypto/sha256"
	"encoding/binary"
	"syscall"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry/smt"
)

// BenchmarkTreeUpdate measures a Machine's state tree update as finish
// runs it, per changed key: a chain of blocks, each changing 1,800 new
// keys (about 600 did:idmesh creates) of a tree that starts with 300,000,
// read through the machine's node cache (resident upper levels, recent
// nodes) from a store that holds every version (flatNodes: not scanned
// by the garbage collector, a copy per read, as LevelDB); the stale nodes
// are unpinned as finish does, and each block's nodes stored (not
// measured) as a commit does. cpu-ns/key is the process's CPU time.
//
//	go test -run '^$' -bench TreeUpdate -benchtime 200x ./registry/
func BenchmarkTreeUpdate(b *testing.B) {
	const start, block = 300_000, 1800
	key := func(i uint64) smt.Hash {
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], i)
		return smt.Hash(sha256.Sum256(buf[:]))
	}
	store := make(flatNodes)
	changes := make([]smt.Change, start)
	for i := range changes {
		changes[i] = smt.Change{Key: key(uint64(i)), Value: key(uint64(i) + 1<<62)}
	}
	root, nodes, err := smt.Update(store, smt.Empty, changes)
	if err != nil {
		b.Fatal(err)
	}
	store.Put(nodes)
	c := newNodeCache()
	r := cachedNodes{r: store, c: c}
	next := uint64(start)
	blocks := make([][]smt.Change, 0, 64)
	mk := func() []smt.Change {
		cs := make([]smt.Change, block)
		for i := range cs {
			cs[i] = smt.Change{Key: key(next), Value: key(next + 1<<62)}
			next++
		}
		return cs
	}
	// Warm the cache as a running node has it.
	for range 4 {
		newRoot, nodes, stale, err := smt.UpdateStale(r, root, mk())
		if err != nil {
			b.Fatal(err)
		}
		store.Put(nodes)
		c.unpin(stale)
		root = newRoot
	}
	for range cap(blocks) {
		blocks = append(blocks, mk())
	}
	b.ReportAllocs()
	var cpu time.Duration
	i := 0
	for b.Loop() {
		b.StopTimer()
		cs := blocks[i%len(blocks)]
		if i >= len(blocks) {
			cs = mk()
		}
		b.StartTimer()
		c0 := processCPU()
		newRoot, nodes, stale, err := smt.UpdateStale(r, root, cs)
		if err != nil {
			b.Fatal(err)
		}
		c.unpin(stale)
		cpu += processCPU() - c0
		b.StopTimer()
		store.Put(nodes)
		root = newRoot
		i++
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*block), "ns/key")
	// CPU time per key, the steadier figure on a loaded machine.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*block), "cpu-ns/key")
}

// flatNodes is a NodeReader holding its nodes in a map without pointers,
// which the garbage collector need not scan, and answering with a copy of
// the node, as LevelDB does.
type flatNodes map[smt.Hash][65]byte

func (f flatNodes) Node(h smt.Hash) ([]byte, error) {
	enc, ok := f[h]
	if !ok {
		return nil, smt.ErrMissingNode
	}
	return append([]byte(nil), enc[:]...), nil
}

func (f flatNodes) Put(nodes []smt.Node) {
	for _, n := range nodes {
		f[n.Hash] = [65]byte(n.Encoding)
	}
}

// processCPU returns the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkNodeCacheChurned measures a hit in a nodeCache of 100,000
// recent nodes after 500,000 puts, its map rebuilt after as many
// deletions as entries (as nodeCache does) or never (how it was before):
//
//	go test -run '^$' -bench NodeCacheChurned ./registry/
func BenchmarkNodeCacheChurned(b *testing.B) {
	const held, puts = 100_000, 500_000
	hashes := make([]smt.Hash, puts)
	for i := range hashes {
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], uint64(i))
		hashes[i] = smt.Hash(sha256.Sum256(buf[:]))
	}
	enc := make([]byte, 65)
	for _, rebuild := range []bool{true, false} {
		name := "rebuilt"
		if !rebuild {
			name = "never-rebuilt"
		}
		b.Run(name, func(b *testing.B) {
			c := newNodeCache()
			c.maxResident, c.maxRecent = 0, held
			if !rebuild {
				c.minRebuild = puts + 1
			}
			for _, h := range hashes {
				c.put(h, enc)
			}
			last := hashes[puts-held:]
			i := 0
			for b.Loop() {
				if _, ok := c.get(last[i%held]); !ok {
					b.Fatal("miss")
				}
				i++
			}
		})
	}
}
