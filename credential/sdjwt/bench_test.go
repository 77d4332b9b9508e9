package sdjwt_test

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential/sdjwt"
)

// benchPresentation is MustIssue's credential (Ed25519 issuer and
// holder, 8 Disclosures, 2 decoys a level) presented with three claims
// (given_name, address/locality and the address Disclosure they need)
// and a key-binding JWT.
func benchPresentation(tb testing.TB) (string, *fixture) {
	tb.Helper()
	f := MustFixture(tb)
	return MustPresent(tb, f, MustIssue(tb, f), "/given_name", "/address/locality"), f
}

// BenchmarkVerifyKeyBinding is the whole Verify of an SD-JWT VC
// presentation: parse, Disclosures decoded and hashed, issuer key
// resolved, two Ed25519 signatures (issuer-signed JWT and KB-JWT, each
// through jwx), claims processed and checked. Two signature checks make
// its ceiling half of BenchmarkEd25519Verify.
func BenchmarkVerifyKeyBinding(b *testing.B) {
	pres, f := benchPresentation(b)
	ctx := b.Context()
	opts := kbOptions()
	b.SetBytes(int64(len(pres)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sdjwt.Verify(ctx, pres, f.keys, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyNoKeyBinding is Verify of the issued SD-JWT with all
// its Disclosures and no key binding (one signature).
func BenchmarkVerifyNoKeyBinding(b *testing.B) {
	f := MustFixture(b)
	issued := MustIssue(b, f)
	ctx := b.Context()
	opts := sdjwt.VerifyOptions{Now: tNow}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sdjwt.Verify(ctx, issued, f.keys, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEd25519Verify is the baseline: crypto/ed25519.Verify alone
// over a message as long as the presentation's issuer-signed JWT.
func BenchmarkEd25519Verify(b *testing.B) {
	pres, _ := benchPresentation(b)
	msg := []byte(pres[:strings.IndexByte(pres, '~')])
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	pub := priv.Public().(ed25519.PublicKey)
	sig := ed25519.Sign(priv, msg)
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("no")
		}
	}
}

// BenchmarkIssue is Issue of MustIssue's credential: 8 Disclosures,
// decoys, one Ed25519 signature.
func BenchmarkIssue(b *testing.B) {
	f := MustFixture(b)
	claims := claimsDoc()
	opts := sdjwt.IssueOptions{Disclosable: disclosable, Decoys: 2, IssuedAt: t0, HolderKey: f.holder.Public()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sdjwt.Issue(claims, f.ed, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyKeyBindingVsRaw interleaves the two: each iteration
// runs one Verify with key binding and one raw ed25519.Verify and times
// each, so that the ratio (raw time over Verify time, which is Verify's
// throughput as a share of raw's) is measured under the same load.
// "min-ratio" compares the fastest of each, which a machine shared with
// other work disturbs least.
func BenchmarkVerifyKeyBindingVsRaw(b *testing.B) {
	pres, f := benchPresentation(b)
	ctx := b.Context()
	opts := kbOptions()
	msg := []byte(pres[:strings.IndexByte(pres, '~')])
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	pub := priv.Public().(ed25519.PublicKey)
	sig := ed25519.Sign(priv, msg)
	var tv, tr time.Duration
	minV, minR := time.Hour, time.Hour
	for b.Loop() {
		s := time.Now()
		if _, err := sdjwt.Verify(ctx, pres, f.keys, opts); err != nil {
			b.Fatal(err)
		}
		m := time.Now()
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("no")
		}
		dv, dr := m.Sub(s), time.Since(m)
		tv, tr = tv+dv, tr+dr
		minV, minR = min(minV, dv), min(minR, dr)
	}
	n := float64(b.N)
	b.ReportMetric(float64(tv.Microseconds())/n, "verify-µs")
	b.ReportMetric(float64(tr.Microseconds())/n, "raw-µs")
	b.ReportMetric(float64(tr)/float64(tv), "ratio")
	b.ReportMetric(float64(minR)/float64(minV), "min-ratio")
	b.ReportMetric(float64(minV.Nanoseconds())/1000, "min-verify-µs")
	b.ReportMetric(float64(minR.Nanoseconds())/1000, "min-raw-µs")
}
