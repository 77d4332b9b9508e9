package node_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// histogram returns the sample count and sum of the histogram name in g
// (ok false if g has none).
func histogram(tb testing.TB, g prometheus.Gatherer, name string) (count uint64, sum float64, ok bool) {
	tb.Helper()
	mfs, err := g.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if h := m.GetHistogram(); h != nil {
				return h.GetSampleCount(), h.GetSampleSum(), true
			}
		}
	}
	return 0, 0, false
}

// TestOperatorMetrics: the consensus gauges follow the engine (height,
// round, step 0 while it waits for transactions), a round's duration is
// observed when the height moves on, on the driver's clock; block sizes
// and the header time between consecutive blocks are observed at each
// commit; the mempool's bytes are its pending payloads.
func TestOperatorMetrics(t *testing.T) {
	tn := mustNet(t, registrytest.ToyMachine())
	reg := prometheus.NewRegistry()
	n := mustNode(t, tn.mustChain(t), node.Options{Registerer: reg})
	cm, err := node.NewConsensusMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := node.NewConsensusMetrics(reg); err == nil {
		t.Fatal("registered the consensus metrics twice")
	}
	got := gather(t, reg)
	for name, want := range map[string]float64{"idmesh_consensus_height": 0, "idmesh_consensus_round": 0, "idmesh_consensus_step": node.StepMetricIdle, "idmesh_mempool_bytes": 0} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("before the engine: %s = %v (present %v), want %v", name, v, ok, want)
		}
	}
	for _, name := range []string{"idmesh_consensus_round_duration_seconds", "idmesh_block_bytes", "idmesh_block_interval_seconds"} {
		if c, _, ok := histogram(t, reg, name); !ok || c != 0 {
			t.Errorf("before the engine: %s present %v with %d samples", name, ok, c)
		}
	}
	a, b := toyTx("set a 1"), toyTx("set b 22")
	mustSubmit(t, n, a)
	mustSubmit(t, n, b)
	if v := gather(t, reg)["idmesh_mempool_bytes"]; v != float64(len(a.Payload)+len(b.Payload)) {
		t.Fatalf("mempool bytes %v, want %d", v, len(a.Payload)+len(b.Payload))
	}
	// Two submissions one after the other: each prepared alone.
	got = gather(t, reg)
	for name, want := range map[string]float64{"idmesh_submit_prepare_batches_total": 2, "idmesh_submit_prepared_txs_total": 2, "idmesh_submit_prepared_alone_total": 2} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}

	clock := newClock(genesisTime.Add(time.Hour))
	changed := n.Changed()
	r := mustStartWith(t, n, tn, clock.Now, cm)
	mustRecv(t, changed, "block 1")
	timer := r.nextRound()
	mustSubmit(t, n, toyTx("set c 3"))
	changed = n.Changed()
	timer <- genesisTime
	mustRecv(t, changed, "block 2")
	r.nextRound()
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}

	got = gather(t, reg)
	// Height 3 waits for transactions: step 0.
	for name, want := range map[string]float64{"idmesh_consensus_height": 3, "idmesh_consensus_round": 0, "idmesh_consensus_step": node.StepMetricIdle, "idmesh_mempool_bytes": 0} {
		if v := got[name]; v != want {
			t.Errorf("after two blocks: %s = %v, want %v", name, v, want)
		}
	}
	// One round each at heights 1 and 2, each lasting a few ticks of the
	// fake clock (a second a reading); the waits for transactions are
	// not counted.
	if c, sum, _ := histogram(t, reg, "idmesh_consensus_round_duration_seconds"); c != 2 || sum <= 0 || sum > 60 {
		t.Errorf("round durations: %d samples, sum %v; want 2 and a positive sum", c, sum)
	}
	b1, b2 := mustBlock(t, n, 1), mustBlock(t, n, 2)
	if c, sum, _ := histogram(t, reg, "idmesh_block_bytes"); c != 2 || sum != float64(b1.Size()+b2.Size()) {
		t.Errorf("block bytes: %d samples, sum %v; want 2 and %d", c, sum, b1.Size()+b2.Size())
	}
	if c, sum, _ := histogram(t, reg, "idmesh_block_interval_seconds"); c != 1 || sum != b2.Header.Time.Sub(b1.Header.Time).Seconds() || sum <= 0 {
		t.Errorf("block intervals: %d samples, sum %v; want 1 and %v", c, sum, b2.Header.Time.Sub(b1.Header.Time).Seconds())
	}

	// A restarted node's first block is timed from the stored tip.
	reg2 := prometheus.NewRegistry()
	n2 := mustNode(t, tn.mustChain(t), node.Options{Registerer: reg2})
	mustSubmit(t, n2, toyTx("set d 4"))
	changed = n2.Changed()
	r2 := mustStart(t, n2, tn, clock.Now)
	mustRecv(t, changed, "block 3")
	r2.nextRound()
	if err := r2.stop(); err != nil {
		t.Fatal(err)
	}
	b3 := mustBlock(t, n2, 3)
	if c, sum, _ := histogram(t, reg2, "idmesh_block_interval_seconds"); c != 1 || sum != b3.Header.Time.Sub(b2.Header.Time).Seconds() {
		t.Errorf("after a restart: %d intervals, sum %v; want 1 and %v", c, sum, b3.Header.Time.Sub(b2.Header.Time).Seconds())
	}
}

// TestConsensusMetricsNil: a driver without metrics runs (nil records
// nothing).
func TestConsensusMetricsNil(t *testing.T) {
	tn := mustNet(t, registrytest.ToyMachine())
	n := mustNode(t, tn.mustChain(t), node.Options{})
	mustSubmit(t, n, toyTx("set a 1"))
	changed := n.Changed()
	r := mustStartWith(t, n, tn, newClock(genesisTime.Add(time.Hour)).Now, nil)
	mustRecv(t, changed, "block 1")
	r.nextRound()
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
}
