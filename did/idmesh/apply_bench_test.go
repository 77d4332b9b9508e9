package idmesh_test

import (
	"testing"

	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
)

// BenchmarkApplyCreate measures what a node does for a create beside its
// signature, which its cache holds already (the mempool verified it, or
// the block's batch did): Apply as block execution runs it ("apply") and
// Check as the mempool's admission does ("check"), on a decoded
// operation and an empty state.
//
//	go test -run '^$' -bench ApplyCreate -benchmem ./did/idmesh/
func BenchmarkApplyCreate(b *testing.B) {
	made, err := idmesh.NewCreate(chainID, genKey(b, keys.Ed25519, 1))
	if err != nil {
		b.Fatal(err)
	}
	raw, err := made.Encode()
	if err != nil {
		b.Fatal(err)
	}
	op, err := idmesh.Decode(raw) // as a node holds it (OpCache)
	if err != nil {
		b.Fatal(err)
	}
	sigs := idmesh.NewSigCache(16)
	env := idmesh.Env{ChainID: chainID, Height: 1, Sigs: sigs}
	if err := idmesh.Apply(mapKV{}, env, op); err != nil { // fills sigs
		b.Fatal(err)
	}
	b.Run("apply", func(b *testing.B) {
		cpu := cpuTime()
		for b.Loop() {
			if err := idmesh.Apply(mapKV{}, env, op); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/1000/float64(b.N), "cpu-µs/op")
	})
	b.Run("check", func(b *testing.B) {
		cpu := cpuTime()
		for b.Loop() {
			if err := idmesh.Check(mapKV{}, env, op); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/1000/float64(b.N), "cpu-µs/op")
	})
}
