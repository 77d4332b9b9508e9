package daemon_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/node/daemon"
	"github.com/idmesh/idmesh/node/home"
	"github.com/idmesh/idmesh/node/hugepage"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// scrape reads /metrics into a map from series (name with its labels)
// to value.
func scrape(tb testing.TB, base string) map[string]float64 {
	tb.Helper()
	code, body := mustDo(tb, http.MethodGet, base+"/metrics", nil)
	if code != http.StatusOK {
		tb.Fatalf("/metrics: %d", code)
	}
	out := map[string]float64{}
	for line := range strings.Lines(string(body)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			tb.Fatalf("/metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// operatorSeries are the series issue 17 names, as scraped (histograms
// by their _count).
var operatorSeries = []string{
	"idmesh_consensus_height", "idmesh_consensus_round", "idmesh_consensus_step",
	"idmesh_consensus_round_duration_seconds_count", "idmesh_block_interval_seconds_count", "idmesh_block_bytes_count",
	"idmesh_mempool_bytes", "idmesh_p2p_peers", "idmesh_sync_blocks_behind", "idmesh_statuslist_cache_hits_total",
	"idmesh_heap_huge_pages_enabled",
}

// commitOne submits a DID create and waits for its commit.
func commitOne(tb testing.TB, base string, i uint64) {
	tb.Helper()
	op, _, err := registrytest.NewCreate(chainID, i)
	if err != nil {
		tb.Fatal(err)
	}
	body, err := op.Encode()
	if err != nil {
		tb.Fatal(err)
	}
	if code, out := mustDo(tb, http.MethodPost, base+"/v1/operations?wait=30s", body); code != http.StatusOK || !strings.Contains(string(out), `"committed"`) {
		tb.Fatalf("submit: %d %s", code, out)
	}
}

// checkOperatorMetrics scrapes a node that committed two blocks and
// checks every named series and its value.
func checkOperatorMetrics(t *testing.T, base string) map[string]float64 {
	t.Helper()
	m := scrape(t, base)
	for _, name := range operatorSeries {
		if _, ok := m[name]; !ok {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	for name, ok := range map[string]func(float64) bool{
		"idmesh_consensus_height":                       func(v float64) bool { return v >= 2 }, // at least the second block's height
		"idmesh_consensus_step":                         func(v float64) bool { return v >= 0 && v <= 4 },
		"idmesh_consensus_round_duration_seconds_count": func(v float64) bool { return v >= 1 }, // height 1's round, at least
		"idmesh_block_bytes_count":                      func(v float64) bool { return v >= 2 },
		"idmesh_block_bytes_sum":                        func(v float64) bool { return v > 200 },
		"idmesh_block_interval_seconds_count":           func(v float64) bool { return v >= 1 },
		"idmesh_mempool_bytes":                          func(v float64) bool { return v == 0 },
		"idmesh_p2p_peers":                              func(v float64) bool { return v == 0 },
		"idmesh_sync_blocks_behind":                     func(v float64) bool { return v == 0 },
		"idmesh_statuslist_cache_hits_total":            func(v float64) bool { return v == 0 },
		"idmesh_heap_huge_pages_enabled":                func(v float64) bool { return v == 0 }, // Config.HugePages is off by default
	} {
		if v := m[name]; !ok(v) {
			t.Errorf("%s = %v", name, v)
		}
	}
	return m
}

func hasLibp2p(m map[string]float64) bool {
	for k := range m {
		if strings.HasPrefix(k, "libp2p_") {
			return true
		}
	}
	return false
}

// TestOperatorMetricsDev: a node without a network (idmesh dev) exports
// every named series, with sane values after two commits, and no libp2p
// series (it has no host).
func TestOperatorMetricsDev(t *testing.T) {
	dir := t.TempDir()
	if _, err := home.Dir(dir).InitSingle(chainID, genesisTime); err != nil {
		t.Fatal(err)
	}
	d := MustStart(t, daemon.Config{Home: dir, HTTPAddr: "127.0.0.1:0", BlockInterval: time.Millisecond, Version: "test"})
	commitOne(t, d.BaseURL(), 1)
	commitOne(t, d.BaseURL(), 2)
	if m := checkOperatorMetrics(t, d.BaseURL()); hasLibp2p(m) {
		t.Error("libp2p series on a node without a network")
	}
}

// TestOperatorMetricsNetwork: a node on a network exports the same
// series, and libp2p's own beside them.
func TestOperatorMetricsNetwork(t *testing.T) {
	dir := t.TempDir()
	if _, err := home.Dir(dir).InitSingle(chainID, genesisTime); err != nil {
		t.Fatal(err)
	}
	d := MustStart(t, daemon.Config{Home: dir, HTTPAddr: "127.0.0.1:0", P2PListen: []string{"/ip4/127.0.0.1/tcp/0"}, FirstPeerWait: -1,
		BlockInterval: time.Millisecond, Version: "test"})
	commitOne(t, d.BaseURL(), 1)
	commitOne(t, d.BaseURL(), 2)
	if m := checkOperatorMetrics(t, d.BaseURL()); !hasLibp2p(m) {
		t.Error("no libp2p_ series on a node with a network")
	}
}

// readyz returns /readyz's status and, for a 503, the problem.
func readyz(tb testing.TB, base string) (int, api.Problem) {
	tb.Helper()
	code, body := mustDo(tb, http.MethodGet, base+"/readyz", nil)
	var p api.Problem
	if code != http.StatusOK {
		if err := json.Unmarshal(body, &p); err != nil || p.Type != api.ProblemNotReady {
			tb.Fatalf("/readyz %d %s", code, body)
		}
	}
	return code, p
}

// awaitReady polls /readyz until it answers 200.
func awaitReady(tb testing.TB, base string) {
	tb.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(time.Minute)
	for {
		code, p := readyz(tb, base)
		if code == http.StatusOK {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			tb.Fatalf("never ready: %s", p.Detail)
		}
	}
}

// TestReadyzDev: a node without a network is ready once it serves, and
// /healthz is 200.
func TestReadyzDev(t *testing.T) {
	dir := t.TempDir()
	if _, err := home.Dir(dir).InitSingle(chainID, genesisTime); err != nil {
		t.Fatal(err)
	}
	d := MustStart(t, daemon.Config{Home: dir, HTTPAddr: "127.0.0.1:0", Version: "test"})
	if code, p := readyz(t, d.BaseURL()); code != http.StatusOK {
		t.Fatalf("dev /readyz %d: %s", code, p.Detail)
	}
	if code, _ := mustDo(t, http.MethodGet, d.BaseURL()+"/healthz", nil); code != http.StatusOK {
		t.Fatalf("/healthz %d", code)
	}
}

// TestReadyzWhileSyncing: a lone validator with a network is ready once
// its start-up sync is over; while a sync runs (set by the test) it
// answers 503 saying how far it is, /healthz stays 200, and
// idmesh_sync_blocks_behind counts the blocks left.
func TestReadyzWhileSyncing(t *testing.T) {
	dir := t.TempDir()
	if _, err := home.Dir(dir).InitSingle(chainID, genesisTime); err != nil {
		t.Fatal(err)
	}
	d := MustStart(t, daemon.Config{Home: dir, HTTPAddr: "127.0.0.1:0", P2PListen: []string{"/ip4/127.0.0.1/tcp/0"}, FirstPeerWait: -1,
		BlockInterval: time.Millisecond, Version: "test"})
	awaitReady(t, d.BaseURL())
	h := d.Node().State().Height
	d.SetSyncing(true, h+50)
	code, p := readyz(t, d.BaseURL())
	if want := "syncing: height " + strconv.FormatUint(h, 10) + " of " + strconv.FormatUint(h+50, 10); code != http.StatusServiceUnavailable || !strings.Contains(p.Detail, want) {
		t.Fatalf("while syncing: %d %q, want 503 with %q", code, p.Detail, want)
	}
	if v := scrape(t, d.BaseURL())["idmesh_sync_blocks_behind"]; v != 50 {
		t.Errorf("blocks behind %v while syncing, want 50", v)
	}
	if code, _ := mustDo(t, http.MethodGet, d.BaseURL()+"/healthz", nil); code != http.StatusOK {
		t.Fatalf("/healthz %d while syncing", code)
	}
	var st api.StatusResponse
	if _, body := mustDo(t, http.MethodGet, d.BaseURL()+"/v1/status", nil); json.Unmarshal(body, &st) != nil || !st.Syncing {
		t.Errorf("/v1/status while syncing: %s", body)
	}
	d.SetSyncing(false, 0)
	if code, p := readyz(t, d.BaseURL()); code != http.StatusOK {
		t.Fatalf("after the sync: %d %s", code, p.Detail)
	}
	if v := scrape(t, d.BaseURL())["idmesh_sync_blocks_behind"]; v != 0 {
		t.Errorf("blocks behind %v after the sync", v)
	}
}

// TestReadyzNoPeers: a validator of a two-validator chain started alone,
// and a full node alone, answer 503 "no peers" (a multi-node network);
// once the second validator is up the first is ready.
func TestReadyzNoPeers(t *testing.T) {
	ha, hb := twoValidatorHomes(t)
	a := MustStart(t, daemon.Config{Home: ha, HTTPAddr: "127.0.0.1:0", P2PListen: []string{"/ip4/127.0.0.1/tcp/0"}, FirstPeerWait: -1,
		BlockInterval: time.Millisecond, Version: "test"})
	if code, p := readyz(t, a.BaseURL()); code != http.StatusServiceUnavailable || !strings.Contains(p.Detail, "no peers on a multi-node network (2 validators)") {
		t.Fatalf("a validator alone: %d %q", code, p.Detail)
	}

	full := t.TempDir()
	g, err := os.ReadFile(home.Dir(ha).Genesis())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(full, filepath.Base(home.Dir(ha).Genesis())), g, 0o644); err != nil {
		t.Fatal(err)
	}
	f := MustStart(t, daemon.Config{Home: full, HTTPAddr: "127.0.0.1:0", P2PListen: []string{"/ip4/127.0.0.1/tcp/0"}, FirstPeerWait: -1, Version: "test"})
	if code, p := readyz(t, f.BaseURL()); code != http.StatusServiceUnavailable || !strings.Contains(p.Detail, "not a validator") {
		t.Fatalf("a full node alone: %d %q", code, p.Detail)
	}

	MustStart(t, daemon.Config{Home: hb, HTTPAddr: "127.0.0.1:0", P2PListen: []string{"/ip4/127.0.0.1/tcp/0"}, Bootstrap: a.P2PAddrs()[:1],
		FirstPeerWait: 30 * time.Second, BlockInterval: time.Millisecond, Version: "test"})
	awaitReady(t, a.BaseURL())
}

// TestHugePagesMetrics: with Config.HugePages the node marks its heap
// where hugepage.Advise can (the advice is the process's, so the test
// asks it too), and says so in idmesh_heap_huge_pages_enabled.
func TestHugePagesMetrics(t *testing.T) {
	dir := t.TempDir()
	if _, err := home.Dir(dir).InitSingle(chainID, genesisTime); err != nil {
		t.Fatal(err)
	}
	d := MustStart(t, daemon.Config{Home: dir, HTTPAddr: "127.0.0.1:0", BlockInterval: time.Millisecond, Version: "test", HugePages: true})
	m := scrape(t, d.BaseURL())
	want := 0.0
	if h, err := hugepage.Advise(hugepage.DefaultReserve); err == nil {
		h.Stop()
		want = 1
	}
	if got := m["idmesh_heap_huge_pages_enabled"]; got != want {
		t.Errorf("idmesh_heap_huge_pages_enabled = %v, want %v", got, want)
	}
	if _, err := hugepage.AnonHugeBytes(); err == nil {
		if got, ok := m["idmesh_process_anon_huge_pages_bytes"]; !ok || got < 0 {
			t.Errorf("idmesh_process_anon_huge_pages_bytes = %v (%v)", got, ok)
		}
	}
}
