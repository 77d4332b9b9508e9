package snapshot_test

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/snapshot"
)

// benchHeaders returns a genesis of four validators and a chain of n
// headers on it, each committed by all four: the header chain a syncing
// node checks, without blocks.
func benchHeaders(tb testing.TB, n int) (*registry.Genesis, []snapshot.SignedHeader) {
	tb.Helper()
	keys := []ed25519.PrivateKey{validatorKey(0), validatorKey(1), validatorKey(2), validatorKey(3)}
	g := &registry.Genesis{ChainID: "snap", GenesisTime: time.Unix(1_700_000_000, 0).UTC(), Validators: validators(keys...)}
	vs, err := g.ValidatorSet()
	if err != nil {
		tb.Fatal(err)
	}
	hs := make([]snapshot.SignedHeader, n)
	var prev registry.Hash
	for i := range hs {
		h := registry.Header{ChainID: g.ChainID, Height: uint64(i + 1), Time: g.GenesisTime.Add(time.Duration(i+1) * time.Second), LastBlockID: prev,
			ValidatorsHash: vs.Hash(), NextValidatorsHash: vs.Hash(), Proposer: vs.Validators[0].Address()}
		h.StateRoot[0], h.StateRoot[1] = byte(i), byte(i>>8)
		hs[i] = snapshot.SignedHeader{Header: h, Commit: signBy(g.ChainID, &h, keys...)}
		prev = h.ID()
	}
	return g, hs
}

// BenchmarkHeaderChain10k checks 10,000 headers, each committed by four
// validators, in batches of 1,000 as a syncing node gets them
// (HeaderChain.Add), and reports the time per header and its ratio to
// four raw ed25519.Verify calls on one core measured in the same run.
func BenchmarkHeaderChain10k(b *testing.B) {
	const n, batch = 10_000, 1000
	g, hs := benchHeaders(b, n)
	last := hs[n-1].Header
	vs, _ := g.ValidatorSet()
	// The baseline: the four signatures of one header, verified one by one.
	k := validatorKey(0)
	msg := registry.VoteSignBytes(g.ChainID, 1, 0, last.ID())
	sig := ed25519.Sign(k, msg)
	pub := k.Public().(ed25519.PublicKey)
	t := time.Now()
	const rawN = 4000
	for range rawN {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("raw verify")
		}
	}
	raw := time.Since(t) / rawN * 4
	cpu := cpuTime()
	for b.Loop() {
		c, err := snapshot.NewHeaderChain(g)
		if err != nil {
			b.Fatal(err)
		}
		for from := 0; from < n; from += batch {
			if err := c.Add(hs[from:min(from+batch, n)]); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := c.Trusted(vs); err != nil {
			b.Fatal(err)
		}
	}
	per := float64(b.Elapsed().Nanoseconds()) / float64(b.N*n)
	b.ReportMetric(per/1e3, "µs/header")
	b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/float64(b.N*n)/1e3, "cpu-µs/header")
	b.ReportMetric(float64(raw.Nanoseconds())/per, "ratio")
}

// TestHeaderChainFirstError: with the commits checked together after the
// links, a batch with two lies is refused for the lower one, as when each
// header was checked whole before the next: a forged commit below a
// broken link, a broken link below a forged commit, and a forged
// signature in a long batch checked on several goroutines.
func TestHeaderChainFirstError(t *testing.T) {
	g, hs := benchHeaders(t, 300)
	forge := func(hs []snapshot.SignedHeader, i int) {
		c := *hs[i].Commit
		c.Signatures = append([]registry.CommitSig(nil), c.Signatures...)
		sig := append([]byte(nil), c.Signatures[1].Signature...)
		sig[5] ^= 1
		c.Signatures[1].Signature = sig
		hs[i].Commit = &c
	}
	unlink := func(hs []snapshot.SignedHeader, i int) { hs[i].Header.LastBlockID[0] ^= 1 }
	for _, c := range []struct {
		name string
		lie  func(hs []snapshot.SignedHeader)
		want string
	}{
		{"forged commit below a broken link", func(hs []snapshot.SignedHeader) { forge(hs, 1); unlink(hs, 3) }, "verify header 2: "},
		{"broken link below a forged commit", func(hs []snapshot.SignedHeader) { unlink(hs, 2); forge(hs, 3) }, "verify header 3: previous block"},
		{"forged signature deep in the batch", func(hs []snapshot.SignedHeader) { forge(hs, 250) }, "verify header 251: "},
		{"forged signatures in two shares", func(hs []snapshot.SignedHeader) { forge(hs, 290); forge(hs, 20) }, "verify header 21: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			batch := append([]snapshot.SignedHeader(nil), hs...)
			c.lie(batch)
			hc, err := snapshot.NewHeaderChain(g)
			if err != nil {
				t.Fatal(err)
			}
			err = hc.Add(batch)
			if !errors.Is(err, snapshot.ErrUntrustedHeader) || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("got %v, want an error starting %q", err, c.want)
			}
			if hc.Height() != 0 {
				t.Fatalf("height %d after a refused batch", hc.Height())
			}
			if err := hc.Add(hs); err != nil {
				t.Fatalf("the honest batch after: %v", err)
			}
		})
	}
}
