package interop_test

import (
	"testing"

	"github.com/idmesh/idmesh/credential/dataintegrity"
)

// jsBenchN is how many verifications bench-verify.mjs times.
const jsBenchN = "500"

// BenchmarkVerifyRDFC is Go's eddsa-rdfc-2022 verification of the
// credential TestVerifySpeed compares with the reference.
func BenchmarkVerifyRDFC(b *testing.B) {
	k := MustKey(b, "issuer")
	signed := goSignDI(b, credentials(b, k.did)["alumni"], k, "eddsa-rdfc-2022")
	res := k.resolver()
	for b.Loop() {
		if _, err := dataintegrity.Verify(b.Context(), clone(b, signed), res, dataintegrity.VerifyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestVerifySpeed prints Go's eddsa-rdfc-2022 verifications per second
// against the reference's (bench-verify.mjs, sequential awaits) on the same
// credential. It reports; it does not fail on the ratio.
func TestVerifySpeed(t *testing.T) {
	requireInterop(t)
	k := MustKey(t, "issuer")
	signed := goSignDI(t, credentials(t, k.did)["alumni"], k, "eddsa-rdfc-2022")

	js := MustDecode[struct {
		N         int     `json:"n"`
		PerSecond float64 `json:"perSecond"`
	}](t, MustNode(t, "bench-verify.mjs", MustJSON(t, signed), jsBenchN))

	r := testing.Benchmark(BenchmarkVerifyRDFC)
	if r.N == 0 || r.T == 0 {
		t.Fatal("the Go benchmark did not run")
	}
	goPerSecond := float64(r.N) / r.T.Seconds()
	t.Logf("eddsa-rdfc-2022 verify, one credential, sequential: Go %.0f/s (%d runs, %s, %d allocs/op), JS reference %.0f/s (%d runs): Go/JS = %.2f",
		goPerSecond, r.N, r.T.Round(1e6), r.AllocsPerOp(), js.PerSecond, js.N, goPerSecond/js.PerSecond)
}
