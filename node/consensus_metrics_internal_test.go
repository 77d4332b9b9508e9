package node

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idmesh/idmesh/node/consensus"
)

// TestStepMetricWhileWaiting: an engine that waits for transactions is
// idle (step 0) until a proposal moves it on; a validator that prevotes
// and precommits while it waits shows those steps, and its round is
// timed from its prevote to the next height (review R18: it read 0 for
// most of each height under load).
func TestStepMetricWhileWaiting(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewConsensusMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	// read returns the step gauge and the round duration histogram's
	// count and sum.
	read := func() (step float64, rounds uint64, sum float64) {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			switch mf.GetName() {
			case "idmesh_consensus_step":
				step = mf.GetMetric()[0].GetGauge().GetValue()
			case "idmesh_consensus_round_duration_seconds":
				h := mf.GetMetric()[0].GetHistogram()
				rounds, sum = h.GetSampleCount(), h.GetSampleSum()
			}
		}
		return step, rounds, sum
	}
	gauge := func() float64 { s, _, _ := read(); return s }
	rounds := func() (uint64, float64) { _, n, sum := read(); return n, sum }
	t0 := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		r       int32
		s       consensus.Step
		waiting bool
		at      time.Duration
		want    float64
	}{
		{0, consensus.StepPropose, true, 0, StepMetricIdle},                                     // waiting for transactions
		{0, consensus.StepPrevote, true, 30 * time.Millisecond, float64(consensus.StepPrevote)}, // prevoted on a proposal meanwhile
		{0, consensus.StepPrecommit, true, 50 * time.Millisecond, float64(consensus.StepPrecommit)},
		{0, consensus.StepDecided, true, 70 * time.Millisecond, float64(consensus.StepDecided)},
	}
	for i, st := range steps {
		m.update(7, st.r, st.s, st.waiting, t0.Add(st.at))
		if got := gauge(); got != st.want {
			t.Fatalf("update %d (%v, waiting %v): step %v, want %v", i, st.s, st.waiting, got, st.want)
		}
	}
	if n, _ := rounds(); n != 0 {
		t.Fatalf("%d rounds observed before the height moved on", n)
	}
	// The next height waits again: the round that ran from the prevote
	// (30 ms) to now (100 ms) is observed.
	m.update(8, 0, consensus.StepPropose, true, t0.Add(100*time.Millisecond))
	if got := gauge(); got != StepMetricIdle {
		t.Fatalf("the next height's wait: step %v", got)
	}
	if n, sum := rounds(); n != 1 || sum < 0.069 || sum > 0.071 {
		t.Fatalf("rounds observed %d, sum %v s; want 1 of 0.07 s", n, sum)
	}
	// A later round while the wait flag still holds is not idle either.
	m.update(8, 1, consensus.StepPropose, true, t0.Add(200*time.Millisecond))
	if got := gauge(); got != float64(consensus.StepPropose) {
		t.Fatalf("round 1 while waiting: step %v, want propose", got)
	}
}
