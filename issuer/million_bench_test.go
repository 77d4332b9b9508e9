package issuer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/statuslist"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// BenchmarkStatusMillion reports what tracking 1,000,000 status entries
// costs, at 0.1%, 1% and 10% of them set: the chain state (the signed
// list credentials of 8 lists of 131,072 entries, one version each), the
// memory of the decoded lists a verifier or issuer keeps, and the bytes
// per entry of the issuer's allocation records (measured over 2,000
// credentials and scaled).
//
//	go test -run '^$' -bench StatusMillion -benchtime 1x ./issuer/
func BenchmarkStatusMillion(b *testing.B) {
	const entries, lists = 1 << 20, 8 // 8 x 131,072 = 1,048,576 entries
	k, err := keys.Generate(keys.Ed25519, rand.NewChaCha8([32]byte{3}))
	if err != nil {
		b.Fatal(err)
	}
	issuerDID := key.New(k.Public())
	signer := credential.KeySigner{ID: issuerDID + "#" + k.Public().Multibase(), Key: k}
	for _, density := range []float64{0.001, 0.01, 0.1} {
		b.Run(fmt.Sprintf("set=%g%%", density*100), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, uint64(density*1000)))
			var chainBytes int
			var decoded []*statuslist.Bitstring
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for b.Loop() {
				chainBytes, decoded = 0, nil
				for l := range lists {
					bits, _ := statuslist.New(statuslist.MinLength)
					for range int(density * statuslist.MinLength) {
						_ = bits.Set(r.IntN(statuslist.MinLength), true)
					}
					vc, err := statuslist.NewListCredential(fmt.Sprintf("https://node.example/status-lists/x-%d", l), issuerDID, statuslist.PurposeRevocation, bits, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
					if err != nil {
						b.Fatal(err)
					}
					signed, err := dataintegrity.Sign(context.Background(), vc, signer, dataintegrity.SignOptions{Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
					if err != nil {
						b.Fatal(err)
					}
					raw, _ := json.Marshal(signed)
					chainBytes += len(raw)
					var obj map[string]any
					_ = json.Unmarshal(raw, &obj)
					parsed, err := statuslist.ParseListCredential(obj, 0)
					if err != nil {
						b.Fatal(err)
					}
					decoded = append(decoded, parsed.Bits)
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			runtime.KeepAlive(decoded)
			b.ReportMetric(float64(chainBytes)*1e6/entries, "chain-B/1M-entries")
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))*1e6/entries, "heap-B/1M-entries")
		})
	}
	b.Run("issuer-records", func(b *testing.B) {
		e := MustEnv(b)
		e.chain.parseOnly = true
		const n = 2000
		for b.Loop() {
			for i := range n {
				if _, err := e.svc.Entries(context.Background(), e.iss, fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", i), issuer.Purposes); err != nil {
					b.Fatal(err)
				}
			}
		}
		e.db.CompactRange(util.Range{})
		size, err := registrytest.DirSize(e.dir)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(size)/(2*n)*1e6, "issuer-B/1M-entries")
	})
}
