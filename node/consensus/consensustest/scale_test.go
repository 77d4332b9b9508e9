package consensustest_test

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/node/consensus/consensustest"
)

var (
	scaleReport  = flag.Bool("scale.report", false, "TestScaleReport: print docs/scale.md's tables (minutes)")
	scaleHeights = flag.Uint64("scale.heights", 10, "TestScaleReport: heights per run")
	scaleSizes   = flag.String("scale.n", "4,16,32,64,100", "TestScaleReport: validator counts")
	scaleOnly    = flag.String("scale.only", "", "TestScaleReport: only the tables whose title contains this")
)

// wanGossip is a WAN run with gossip, for the tests.
func wanGossip(seed uint64, n int, heights uint64) consensustest.Config {
	c := consensustest.DefaultScale(n, heights)
	c.Seed = seed
	return c.Config()
}

// TestWANDeterministic: a run under the WAN model with gossip and loss
// is a function of its seed: the same seed gives the same trace and
// counters, another seed another trace.
func TestWANDeterministic(t *testing.T) {
	run := func(seed uint64) ([]string, consensustest.Stats) {
		cfg := wanGossip(seed, 7, 3)
		cfg.Loss, cfg.Dup, cfg.Trace = 0.05, 0.02, true
		cfg.WAN.Bandwidth = 2_000_000
		cfg.VerifyCost = 40 * time.Microsecond
		s := consensustest.New(cfg)
		s.Run()
		if rep := s.Check(true); len(rep.Violations) > 0 {
			t.Fatalf("seed %d: %s", seed, rep)
		}
		return s.TraceLines(), s.Stats()
	}
	a, sa := run(11)
	b, sb := run(11)
	if !slices.Equal(a, b) || sa != sb {
		t.Fatalf("seed 11 twice: traces of %d and %d lines, stats %+v and %+v", len(a), len(b), sa, sb)
	}
	if c, _ := run(12); slices.Equal(a, c) {
		t.Fatal("seeds 11 and 12 gave the same trace")
	}
	if sa.Forwarded == 0 || sa.Duplicates == 0 || sa.Traffic[consensustest.TrafficControl].Messages == 0 {
		t.Fatalf("no gossip relays, duplicates or control messages: %+v", sa)
	}
}

// TestWANLiveness16: sixteen validators over 20 to 150 ms one-way links,
// 1% (and, in a second run, 10%) of messages lost, gossip as node/p2p
// runs it, 38 µs per signature check: safe, every node decides every
// height, in round 0 on the 1% network, and finality stays within a
// few one-way delays.
func TestWANLiveness16(t *testing.T) {
	for _, loss := range []float64{0.01, 0.10} {
		c := consensustest.DefaultScale(16, 6)
		c.Loss, c.VerifyCost = loss, 38*time.Microsecond
		r := consensustest.Scale(c)
		t.Log(r)
		if len(r.Report.Violations) > 0 {
			t.Fatalf("loss %.2f: %s", loss, r.Report)
		}
		if loss == 0.01 && (r.LateRounds > 0 || r.FinalityP99 > time.Second) {
			t.Fatalf("loss %.2f: %d heights after round 0, finality p99 %v", loss, r.LateRounds, r.FinalityP99)
		}
		if r.DecisionsPerSecond <= 0 {
			t.Fatal("no decisions")
		}
	}
}

// TestGossipMesh: mesh degrees stay within [Dlo, Dhi] (every peer on
// networks smaller than D+1), the mesh is symmetric, and a run on a
// lossy network repairs by IHAVE and IWANT.
func TestGossipMesh(t *testing.T) {
	g := consensustest.DefaultGossip()
	for _, n := range []int{4, 7, 16, 100} {
		s := consensustest.New(consensustest.Config{Seed: uint64(n), Powers: consensustest.Powers(n, false), Gossip: g})
		for i := range n {
			mesh := s.MeshPeers(i)
			want := min(n-1, g.D)
			if len(mesh) < min(n-1, g.Dlo) || len(mesh) > g.Dhi || (n-1 <= g.D && len(mesh) != want) {
				t.Fatalf("n=%d: node %d has %d mesh peers", n, i, len(mesh))
			}
			for _, p := range mesh {
				if p == i || !slices.Contains(s.MeshPeers(p), i) {
					t.Fatalf("n=%d: mesh %d→%d is not symmetric", n, i, p)
				}
			}
		}
	}
	cfg := wanGossip(5, 16, 4)
	cfg.Loss = 0.2
	s := consensustest.New(cfg)
	s.Run()
	if rep := s.Check(true); len(rep.Violations) > 0 {
		t.Fatal(rep)
	}
	if st := s.Stats(); st.Served == 0 {
		t.Fatalf("nothing served in answer to IWANT with 20%% loss: %+v", st)
	}
}

// TestGossipIDontWant: blocks larger than 1 KiB are announced with
// IDONTWANT, votes are not, and the notices never add copies.
func TestGossipIDontWant(t *testing.T) {
	run := func(threshold int) consensustest.Stats {
		cfg := wanGossip(3, 16, 2)
		cfg.BlockBytes = 50_000
		cfg.Gossip.IDontWantBytes = threshold
		s := consensustest.New(cfg)
		s.Run()
		if rep := s.Check(true); len(rep.Violations) > 0 {
			t.Fatal(rep)
		}
		return s.Stats()
	}
	with, without := run(1024), run(1<<30)
	ctl := func(st consensustest.Stats) int { return st.Traffic[consensustest.TrafficControl].Messages }
	props := func(st consensustest.Stats) int { return st.Traffic[consensustest.TrafficProposal].Messages }
	if ctl(with) <= ctl(without) || props(with) > props(without) {
		t.Fatalf("with IDONTWANT: %d control messages, %d proposal copies; without: %d, %d", ctl(with), props(with), ctl(without), props(without))
	}
}

// TestWANBandwidthSlowsBlocks: with a 10 MB/s upload, a proposer's
// 200 kB block to 15 peers takes 300 ms to leave, and finality shows it.
func TestWANBandwidthSlowsBlocks(t *testing.T) {
	run := func(bw int64) consensustest.ScaleResult {
		c := consensustest.DefaultScale(16, 3)
		c.Loss, c.BlockBytes, c.WAN.Bandwidth = 0, 200_000, bw
		r := consensustest.Scale(c)
		if len(r.Report.Violations) > 0 {
			t.Fatal(r.Report)
		}
		return r
	}
	fast, slow := run(0), run(10_000_000)
	if slow.FinalityP50 < fast.FinalityP50+100*time.Millisecond {
		t.Fatalf("finality p50 %v with 10 MB/s, %v unlimited", slow.FinalityP50, fast.FinalityP50)
	}
}

// BenchmarkScale runs docs/scale.md's simulation for 4 to 100
// validators (DefaultScale: 20 to 150 ms one way, 1% loss, gossipsub,
// 100 ms block interval), 3 heights each. ns/op is the wall-clock cost
// of simulating them; the metrics are the simulated network's.
func BenchmarkScale(b *testing.B) {
	const heights = 3
	for _, n := range []int{4, 16, 32, 64, 100} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			var r consensustest.ScaleResult
			for b.Loop() {
				r = consensustest.Scale(consensustest.DefaultScale(n, heights))
				if len(r.Report.Violations) > 0 {
					b.Fatal(r.Report)
				}
			}
			b.ReportMetric(r.DecisionsPerSecond, "decisions/s")
			b.ReportMetric(float64(r.FinalityP50.Milliseconds()), "p50-ms")
			b.ReportMetric(float64(r.FinalityP99.Milliseconds()), "p99-ms")
			b.ReportMetric(r.MessagesPerDecision, "msgs/decision")
			b.ReportMetric(r.BytesPerDecision, "bytes/decision")
			b.ReportMetric(r.SigChecksPerDecision, "sigchecks/decision")
		})
	}
}

// TestScaleReport prints docs/scale.md's tables: go test -run
// TestScaleReport -scale.report -v ./node/consensus/consensustest/
// (minutes; -scale.heights and -scale.n to change the runs).
func TestScaleReport(t *testing.T) {
	if !*scaleReport {
		t.Skip("-scale.report not set")
	}
	var sizes []int
	for _, f := range strings.Split(*scaleSizes, ",") {
		var n int
		if _, err := fmt.Sscan(f, &n); err != nil || n < 1 {
			t.Fatalf("-scale.n: %q", f)
		}
		sizes = append(sizes, n)
	}
	k := *scaleHeights
	variants := []struct {
		name string
		set  func(*consensustest.ScaleConfig)
	}{
		{"gossipsub (DefaultScale)", func(*consensustest.ScaleConfig) {}},
		{"every broadcast sent directly to every peer, no gossip", func(c *consensustest.ScaleConfig) { c.Gossip = nil }},
		{"gossipsub, 38 µs of CPU per signature check, one core", func(c *consensustest.ScaleConfig) { c.VerifyCost = 38 * time.Microsecond }},
		{"gossipsub, 500 kB blocks (about 1,000 DID creates), 1 Gbit/s upload per node", func(c *consensustest.ScaleConfig) {
			c.BlockBytes, c.WAN.Bandwidth = 500_000, 125_000_000
		}},
	}
	for _, v := range variants {
		if !strings.Contains(v.name, *scaleOnly) {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "\n%s, %d heights:\n\n", v.name, k)
		b.WriteString("| validators | decisions/s | finality p50 | p99 | late rounds | messages/decision | votes | status | answers | control | bytes/decision | upload/node | sig checks/decision | per node | wall |\n")
		b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, n := range sizes {
			c := consensustest.DefaultScale(n, k)
			v.set(&c)
			r := consensustest.Scale(c)
			live := ""
			if len(r.Report.Violations) > 0 {
				live = fmt.Sprintf(" (%d heights decided; %s)", r.Decided, r.Report.Violations[0])
			}
			per := func(kind consensustest.TrafficKind) string {
				return fmt.Sprintf("%.0f", float64(r.Traffic[kind].Messages)/float64(max(r.Decided, 1)))
			}
			fmt.Fprintf(&b, "| %d | %.2f | %d ms | %d ms | %d | %.0f | %s | %s | %s | %s | %.1f MB | %.2f MB/s | %.0f | %.0f | %v |%s\n",
				n, r.DecisionsPerSecond, r.FinalityP50.Milliseconds(), r.FinalityP99.Milliseconds(), r.LateRounds, r.MessagesPerDecision,
				per(consensustest.TrafficVote), per(consensustest.TrafficStatus), per(consensustest.TrafficAnswer), per(consensustest.TrafficControl),
				r.BytesPerDecision/1e6, r.UploadPerNode/1e6, r.SigChecksPerDecision, r.SigChecksPerDecision/float64(n), r.Wall.Round(10*time.Millisecond), live)
		}
		t.Log(b.String())
	}
}
