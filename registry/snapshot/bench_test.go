package snapshot_test

import (
	"crypto/sha256"
	"fmt"
	"runtime"
	"testing"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/smt"
	"github.com/idmesh/idmesh/registry/snapshot"
)

// BenchmarkStateSync builds the snapshot of a state of 50,000 entries of
// about 600 bytes (DID records), and verifies and restores it into a
// LevelDB store on disk one chunk after the other (Restorer.Apply),
// re-hashing the stored tree at the end as Finish does: the core of a
// state sync without the network. Reported per entry.
func BenchmarkStateSync(b *testing.B) {
	const n = 50_000
	src := mapSource{MemStore: smt.NewMemStore(), m: map[string][]byte{}}
	var ch []smt.Change
	for i := range n {
		k := fmt.Sprintf("did\x00r\x00did:idmesh:%032x", i)
		v := make([]byte, 600)
		copy(v, k)
		src.m[k] = v
		ch = append(ch, smt.Change{Key: sha256.Sum256([]byte(k)), Value: sha256.Sum256(v)})
	}
	root, nodes, err := smt.Update(src.MemStore, smt.Empty, ch)
	if err != nil {
		b.Fatal(err)
	}
	src.Put(nodes)
	trusted := &snapshot.Trusted{Header: registry.Header{Height: 1, StateRoot: registry.Hash(root)}}
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		dst, err := leveldb.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		r, err := snapshot.NewRestorer(dst, nil, trusted)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := snapshot.Build(src, 1, root, 0, r.Apply); err != nil {
			b.Fatal(err)
		}
		// The check Finish makes of the stored tree.
		if st, err := snapshot.ScanTree(dst, runtime.GOMAXPROCS(0)); err != nil || st.Leaves != n || !r.Verifier().Done() {
			b.Fatalf("%d leaves, %v", st.Leaves, err)
		}
		dst.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
	b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/float64(b.N*n), "cpu-ns/entry")
}
