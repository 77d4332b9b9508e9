package daemon_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/node/daemon"
	"github.com/idmesh/idmesh/node/home"
)

// TestNetworkMetrics: a node on a network exports the p2p counters of
// what peers could not make it do (spoofed Status messages, answers
// dropped beyond a peer's rate or without a route) and of the gossip
// per topic (first copies, duplicates) on /metrics.
func TestNetworkMetrics(t *testing.T) {
	dir := t.TempDir()
	if _, err := home.Dir(dir).InitSingle(chainID, genesisTime); err != nil {
		t.Fatal(err)
	}
	d := MustStart(t, daemon.Config{Home: dir, HTTPAddr: "127.0.0.1:0", P2PListen: []string{"/ip4/127.0.0.1/tcp/0"}, FirstPeerWait: -1,
		BlockInterval: time.Millisecond, Version: "test"})
	code, body := mustDo(t, http.MethodGet, d.BaseURL()+"/metrics", nil)
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, name := range []string{"idmesh_p2p_spoofed_status_total", "idmesh_p2p_replies_dropped_total", "idmesh_p2p_replies_dropped_bytes_total", "idmesh_p2p_direct_sent_total", "idmesh_p2p_direct_sent_bytes_total", "idmesh_p2p_unroutable_total", "idmesh_p2p_routes_evicted_total", "idmesh_p2p_reply_peers_evicted_total", "idmesh_p2p_reply_peers_cut_total", "idmesh_p2p_gossip_relinks_total", "idmesh_p2p_reply_peers"} {
		if !strings.Contains(string(body), "\n"+name+" 0\n") {
			t.Errorf("/metrics lacks %s at 0", name)
		}
	}
	for _, topic := range []string{"consensus", "txs"} {
		for _, name := range []string{"idmesh_p2p_gossip_received_total", "idmesh_p2p_gossip_received_bytes_total", "idmesh_p2p_gossip_duplicates_total", "idmesh_p2p_gossip_duplicate_bytes_total"} {
			if series := name + `{topic="` + topic + `"}`; !strings.Contains(string(body), "\n"+series+" 0\n") {
				t.Errorf("/metrics lacks %s at 0", series)
			}
		}
	}
}
