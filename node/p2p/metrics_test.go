package p2p_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idmesh/idmesh/node/p2p"
)

// libp2pSeries returns the names of the libp2p_* metric families in reg.
func libp2pSeries(tb testing.TB, reg prometheus.Gatherer) []string {
	tb.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "libp2p_") {
			out = append(out, mf.GetName())
		}
	}
	return out
}

// TestLibp2pMetrics: hosts given a Registerer export libp2p's own
// metrics there, the swarm's and the resource manager's among them (two
// hosts may share one registry); without one they stay off, and none
// reaches the process-wide default registry. (libp2p's blank host, used
// inside it, registers its event bus metrics there regardless.)
func TestLibp2pMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	MustHosts(t, newTestChain(t, keyOf(1)), 2, func(_ int, c *p2p.Config) { c.Registerer = reg })
	got := libp2pSeries(t, reg)
	for _, prefix := range []string{"libp2p_swarm_", "libp2p_rcmgr_"} {
		if !slices.ContainsFunc(got, func(n string) bool { return strings.HasPrefix(n, prefix) }) {
			t.Errorf("no %s* series with a Registerer: %v", prefix, got)
		}
	}

	MustHosts(t, newTestChain(t, keyOf(1)), 1, nil)
	for _, n := range libp2pSeries(t, prometheus.DefaultGatherer) {
		if !strings.HasPrefix(n, "libp2p_eventbus_") {
			t.Errorf("libp2p series %s in the default registry", n)
		}
	}
}
