package issuer_test

import (
	"testing"

	"github.com/idmesh/idmesh/credential/statuslist"
)

// BenchmarkStatusRound measures one SetStatus round: read and parse the
// list, set a bit, encode, sign (eddsa-rdfc-2022), and a fake submit
// that parses the version (its proof is not verified here).
func BenchmarkStatusRound(b *testing.B) {
	e := MustEnv(b)
	e.chain.parseOnly = true
	e.MustEntries(b, 0, 1, statuslist.PurposeSuspension)
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := e.svc.SetStatus(ctx, "urn:uuid:cred-0", statuslist.PurposeSuspension, i%2 == 0); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "rounds/s")
}
