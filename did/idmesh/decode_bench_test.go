package idmesh_test

import (
	"testing"

	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
)

// BenchmarkDecode measures decoding a canonical create operation (one
// Ed25519 key, as registrytest makes them): the checks of Decode (size,
// UTF-8, duplicate members, canonical form, typed decode, nothing dropped,
// basic validation) without applying it; "long-way" is the same without
// the one-scan checks for canonical input (strictjson, jcs and
// encoding/json throughout), as Decode did before them.
//
//	go test -run '^$' -bench Decode -benchmem ./did/idmesh/
func BenchmarkDecode(b *testing.B) {
	op, err := idmesh.NewCreate(chainID, genKey(b, keys.Ed25519, 1))
	if err != nil {
		b.Fatal(err)
	}
	raw, err := op.Encode()
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		decode func([]byte) (*idmesh.Operation, error)
	}{{"Decode", idmesh.Decode}, {"long-way", idmesh.DecodeLong}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.decode(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
