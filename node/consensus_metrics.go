package node

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idmesh/idmesh/node/consensus"
)

// ConsensusMetrics are the consensus driver's gauges and histogram of
// where its engine stands: idmesh_consensus_height, _round, _step and
// _round_duration_seconds. Give them to a Consensus (its Metrics field);
// it updates them after each event and each Ready it handles. Made by
// NewConsensusMetrics; a nil *ConsensusMetrics records nothing.
type ConsensusMetrics struct {
	height, round, step prometheus.Gauge
	roundDuration       prometheus.Histogram

	// Owned by the driver's goroutine: the round being timed.
	h       uint64
	r       int32
	start   time.Time
	running bool // a round's clock runs (it started and did not wait)
}

// Values of idmesh_consensus_step.
const (
	// StepMetricIdle: the engine is not running yet (start-up sync), or
	// waits for transactions before the height's first round and has
	// not moved on (a validator that prevotes on a proposal while it
	// waits shows the prevote's step).
	StepMetricIdle = 0
	// The steps of a round, as consensus.Step numbers them: 1 propose,
	// 2 prevote, 3 precommit, 4 decided (the height is decided and its
	// block being committed).
	StepMetricPropose   = int(consensus.StepPropose)
	StepMetricPrevote   = int(consensus.StepPrevote)
	StepMetricPrecommit = int(consensus.StepPrecommit)
	StepMetricDecided   = int(consensus.StepDecided)
)

// NewConsensusMetrics makes the consensus metrics and registers them
// with r.
func NewConsensusMetrics(r prometheus.Registerer) (*ConsensusMetrics, error) {
	m := &ConsensusMetrics{
		height: prometheus.NewGauge(prometheus.GaugeOpts{Name: "idmesh_consensus_height",
			Help: "Height the consensus engine is deciding (the tip's plus one); 0 before the engine starts."}),
		round: prometheus.NewGauge(prometheus.GaugeOpts{Name: "idmesh_consensus_round",
			Help: "Round of the height the consensus engine is deciding (0 is the first)."}),
		step: prometheus.NewGauge(prometheus.GaugeOpts{Name: "idmesh_consensus_step",
			Help: "Step of the round: 0 idle (engine not started, or waiting for transactions before the height's first round moved on), 1 propose, 2 prevote, 3 precommit, 4 decided."}),
		roundDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "idmesh_consensus_round_duration_seconds",
			Help:    "Wall time of each consensus round, from its start (or the end of the wait for transactions, or the step a proposal moved it to while it waited) to the next round or height.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12)}),
	}
	for _, c := range []prometheus.Collector{m.height, m.round, m.step, m.roundDuration} {
		if err := r.Register(c); err != nil {
			return nil, fmt.Errorf("register consensus metrics: %w", err)
		}
	}
	return m, nil
}

// update records where the engine stands at now: the gauges, and the
// duration of a round that ended (the round or height changed, or the
// engine started waiting for transactions).
//
// An engine that waits for transactions still takes part in a round a
// proposal starts meanwhile (Engine.TxsAvailable): under load most
// validators prevote and precommit a height's block before their own
// wait ends. Only an engine that waits and has not moved past round 0's
// propose step is idle; one that has is shown at its step, and its
// round is timed from when it moved.
func (m *ConsensusMetrics) update(h uint64, r int32, s consensus.Step, waiting bool, now time.Time) {
	if m == nil {
		return
	}
	waiting = waiting && r == 0 && s <= consensus.StepPropose
	step := int(s)
	if waiting {
		step = StepMetricIdle
	}
	m.height.Set(float64(h))
	m.round.Set(float64(r))
	m.step.Set(float64(step))
	changed := h != m.h || r != m.r
	if m.running && (changed || waiting) {
		m.roundDuration.Observe(max(now.Sub(m.start), 0).Seconds())
		m.running = false
	}
	m.h, m.r = h, r
	if !waiting && !m.running {
		m.start, m.running = now, true
	}
}
