package api

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idmesh/idmesh/verifier"
)

// credentialMetrics count what the credential endpoints did; nil counters
// (no registry) count nothing.
type credentialMetrics struct {
	issued        *prometheus.CounterVec // by format
	verifications *prometheus.CounterVec // by kind, verified, first problem type
	statusChanges *prometheus.CounterVec // by purpose and value
	refusals      *prometheus.CounterVec // verifications refused by the limits, by reason
}

func (m *credentialMetrics) register(r prometheus.Registerer) error {
	m.issued = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idmesh_credentials_issued_total",
		Help: "Credentials issued, by securing mechanism."}, []string{"format"})
	m.verifications = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idmesh_verifications_total",
		Help: "Verifications by kind (credential, presentation), outcome and the first problem's type."}, []string{"kind", "verified", "problem"})
	m.statusChanges = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idmesh_status_changes_total",
		Help: "Committed status changes, by purpose and new value."}, []string{"purpose", "status"})
	m.refusals = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idmesh_verify_refusals_total",
		Help: "Verification requests refused by the limits: rate (429, per client) or busy (503, no slot)."}, []string{"reason"})
	for _, c := range []prometheus.Collector{m.issued, m.verifications, m.statusChanges, m.refusals} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func (m *credentialMetrics) issue(format string) {
	if m.issued != nil {
		m.issued.WithLabelValues(format).Inc()
	}
}

func (m *credentialMetrics) verification(kind string, verified bool, problem string) {
	if m.verifications != nil {
		m.verifications.WithLabelValues(kind, strconv.FormatBool(verified), problem).Inc()
	}
}

func (m *credentialMetrics) statusChange(purpose string, status bool) {
	if m.statusChanges != nil {
		m.statusChanges.WithLabelValues(purpose, strconv.FormatBool(status)).Inc()
	}
}

// registerMemoryMetrics exports what the bounded in-memory stores hold,
// read when /metrics is scraped.
func (s *Server) registerMemoryMetrics(r prometheus.Registerer) error {
	challenges := func() verifier.ChallengeStats {
		if s.verifier == nil || s.verifier.Challenges == nil {
			return verifier.ChallengeStats{}
		}
		return s.verifier.Challenges.Stats()
	}
	for _, c := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "idmesh_resolve_cache_bytes",
			Help: "Bytes held by the resolver's response cache (keys, bodies and per-entry overhead)."},
			func() float64 { b, _ := s.cache.stats(); return float64(b) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "idmesh_resolve_cache_entries",
			Help: "Responses held by the resolver's response cache."},
			func() float64 { _, n := s.cache.stats(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "idmesh_challenge_store_bytes",
			Help: "Bytes held by the verifier's challenge store (challenges, domains and per-client windows)."},
			func() float64 { return float64(challenges().Bytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "idmesh_challenge_store_challenges",
			Help: "Challenges held by the verifier's challenge store, until expired ones are swept."},
			func() float64 { return float64(challenges().Challenges) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "idmesh_statuslist_cache_hits_total",
			Help: "Status list versions the verifier found in its cache of verified lists (proof not verified again)."},
			func() float64 {
				if s.verifier == nil {
					return 0
				}
				return float64(s.verifier.Stats().StatusListCacheHits)
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "idmesh_large_reads_in_flight",
			Help: "Block and proof responses being served (at most the configured MaxLargeReads)."},
			func() float64 { return float64(len(s.largeReads)) }),
	} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// refusal counts a verification request refused by the limits ("rate" or "busy").
func (m *credentialMetrics) refusal(reason string) {
	if m.refusals != nil {
		m.refusals.WithLabelValues(reason).Inc()
	}
}
