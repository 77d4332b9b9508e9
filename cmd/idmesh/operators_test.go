package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/node/hugepage"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// readyzOf returns /readyz's status and, for a 503, its problem.
func readyzOf(t *testing.T, node string) (int, api.Problem) {
	t.Helper()
	r := get(t, node+"/readyz", "")
	var p api.Problem
	if r.status != 200 {
		if r.contentType != "application/problem+json" || json.Unmarshal(r.body, &p) != nil || p.Type != api.ProblemNotReady || p.Status != r.status {
			t.Fatalf("/readyz %d %q %s", r.status, r.contentType, r.body)
		}
	}
	return r.status, p
}

// awaitReadyz polls /readyz until 200.
func awaitReadyz(t *testing.T, p *proc, within time.Duration) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(within)
	for {
		code, pr := readyzOf(t, p.url)
		if code == 200 {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			p.mu.Lock()
			defer p.mu.Unlock()
			t.Fatalf("%s never ready (%s):\n%s", p.name, pr.Detail, tail(p.logs.String(), 3000))
		}
	}
}

// metricsOf scrapes /metrics into series → value.
func metricsOf(t testing.TB, node string) map[string]float64 {
	t.Helper()
	r := get(t, node+"/metrics", "")
	if r.status != 200 {
		t.Fatalf("/metrics %d", r.status)
	}
	out := map[string]float64{}
	for line := range strings.Lines(string(r.body)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// operatorSeries are the series issue 17 names (histograms by _count).
var operatorSeries = []string{
	"idmesh_consensus_height", "idmesh_consensus_round", "idmesh_consensus_step",
	"idmesh_consensus_round_duration_seconds_count", "idmesh_block_interval_seconds_count", "idmesh_block_bytes_count",
	"idmesh_mempool_bytes", "idmesh_p2p_peers", "idmesh_sync_blocks_behind", "idmesh_statuslist_cache_hits_total",
	"idmesh_heap_huge_pages_enabled",
}

// thpOnRequest reports whether this machine's kernel gives transparent
// huge pages on request (mode madvise or always), as --huge-pages needs.
func thpOnRequest() bool {
	raw, err := os.ReadFile(hugepage.ModeFile)
	if err != nil {
		return false
	}
	mode, err := hugepage.ParseMode(string(raw))
	return err == nil && mode != hugepage.ModeNever
}

// commitCreate posts a DID create to node and waits for its commit.
func commitCreate(t *testing.T, node, chainID string, i uint64) {
	t.Helper()
	op, _, err := registrytest.NewCreate(chainID, i)
	if err != nil {
		t.Fatal(err)
	}
	body, err := op.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if r := post(t, node+"/v1/operations?wait=30s", body); r.status != 200 || !strings.Contains(string(r.body), `"committed"`) {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
}

// TestReadyzAndMetricsDev: `idmesh dev` is ready once it serves (and
// `idmesh status` says so, with no peers) and,
// after two commits, exports every named series (peers 0, no libp2p).
func TestReadyzAndMetricsDev(t *testing.T) {
	n := startDev(t, t.TempDir())
	if code, p := readyzOf(t, n.url); code != 200 {
		t.Fatalf("dev /readyz %d: %s", code, p.Detail)
	}
	if out, errOut, exit := cli(t, n.url, "", "status"); exit != 0 || errOut != "" || !strings.Contains(out, "ready       yes\n") || !strings.Contains(out, "peers       0\n") {
		t.Fatalf("dev status: exit %d, %q %q", exit, out, errOut)
	}
	chainID := n.status(t).ChainID
	commitCreate(t, n.url, chainID, 1)
	commitCreate(t, n.url, chainID, 2)
	tailBlocksCLI(t, n)
	m := metricsOf(t, n.url)
	for _, s := range operatorSeries {
		if _, ok := m[s]; !ok {
			t.Errorf("dev /metrics lacks %s", s)
		}
	}
	if m["idmesh_consensus_height"] < 2 || m["idmesh_block_bytes_count"] < 2 || m["idmesh_mempool_bytes"] != 0 || m["idmesh_p2p_peers"] != 0 || m["idmesh_sync_blocks_behind"] != 0 {
		t.Errorf("dev metrics: height %v, blocks %v, mempool bytes %v, peers %v, behind %v", m["idmesh_consensus_height"], m["idmesh_block_bytes_count"],
			m["idmesh_mempool_bytes"], m["idmesh_p2p_peers"], m["idmesh_sync_blocks_behind"])
	}
	// --huge-pages is on by default: the heap is marked where the kernel
	// allows it.
	if want := thpOnRequest(); (m["idmesh_heap_huge_pages_enabled"] == 1) != want {
		t.Errorf("idmesh_heap_huge_pages_enabled = %v where the kernel gives huge pages on request: %v", m["idmesh_heap_huge_pages_enabled"], want)
	}
}

// tailBlocksCLI checks `idmesh blocks tail` against a dev node with two
// blocks: the blocks asked for, in order, as lines or JSON; a follower
// started past the tip prints the next block once it is committed; a
// --poll below the bound is a usage error.
func tailBlocksCLI(t *testing.T, n *proc) {
	t.Helper()
	out, errOut, code := cli(t, n.url, "", "blocks", "tail", "--from", "1", "--count", "2")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || errOut != "" || len(lines) != 2 || !strings.HasPrefix(lines[0], "height 1  time ") || !strings.HasPrefix(lines[1], "height 2  time ") || !strings.Contains(lines[0], "txs 1  proposer ") {
		t.Fatalf("blocks tail: exit %d, %q %q", code, out, errOut)
	}
	out, _, code = cli(t, n.url, "", "blocks", "tail", "--from", "2", "--count", "1", "--json")
	var b struct {
		Height  uint64 `json:"height"`
		Txs     int    `json:"txs"`
		BlockID string `json:"block_id"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &b) != nil || b.Height != 2 || b.Txs != 1 || b.BlockID == "" {
		t.Fatalf("blocks tail --json: exit %d, %q", code, out)
	}
	if _, errOut, code := cli(t, n.url, "", "blocks", "tail", "--poll", "1ms"); code != 2 || !strings.Contains(errOut, "--poll") {
		t.Fatalf("--poll 1ms: exit %d, %q", code, errOut)
	}
	// A follower waits for block 3.
	type result struct {
		out, errOut string
		code        int
	}
	done := make(chan result, 1)
	go func() {
		out, errOut, code := cli(t, n.url, "", "blocks", "tail", "--from", "3", "--count", "1", "--poll", "50ms")
		done <- result{out, errOut, code}
	}()
	commitCreate(t, n.url, n.status(t).ChainID, 3)
	select {
	case r := <-done:
		if r.code != 0 || !strings.HasPrefix(r.out, "height 3  time ") || strings.Count(r.out, "\n") != 1 {
			t.Fatalf("follower: exit %d, %q %q", r.code, r.out, r.errOut)
		}
	case <-time.After(time.Minute):
		t.Fatal("the follower did not print block 3")
	}
}

// TestReadyzProcessNetwork: a validator of a two-validator testnet
// started alone answers /readyz 503 not-ready, "no peers", while
// /healthz is 200, and `idmesh status` says so (exit 0); once the other
// validator is up both are ready, `idmesh status` and `idmesh peers` show
// the peer, the two commit together, and export the named series with
// libp2p's own.
func TestReadyzProcessNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("processes")
	}
	dir := t.TempDir()
	base := freeBase(t, 2)
	mustCLI(t, "", "", "testnet", "init", "--validators", "2", "--dir", dir, "--base-port", fmt.Sprint(base), "--chain-id", registrytest.ChainID)
	start := func(i int) *proc {
		return startNode(t, fmt.Sprintf("node%d", i), "--home", filepath.Join(dir, fmt.Sprintf("node%d", i)), "--log-level", "warn")
	}
	a := start(0)
	code, p := readyzOf(t, a.url)
	if code != 503 || !strings.Contains(p.Detail, "no peers on a multi-node network") {
		t.Fatalf("a validator alone: /readyz %d %q, want 503 with no peers", code, p.Detail)
	}
	// idmesh status reports it, exit 0; idmesh peers lists none.
	out, errOut, exit := cli(t, a.url, "", "status")
	if exit != 0 || errOut != "" || !strings.Contains(out, "ready       no: ") || !strings.Contains(out, "no peers on a multi-node network") || !strings.Contains(out, "validators  2\n") {
		t.Fatalf("status of a node alone: exit %d, %q %q", exit, out, errOut)
	}
	if out, errOut, exit := cli(t, a.url, "", "peers"); exit != 0 || out != "" || errOut != "" {
		t.Fatalf("peers of a node alone: exit %d, %q %q", exit, out, errOut)
	}
	if r := get(t, a.url+"/healthz", ""); r.status != 200 || !strings.Contains(string(r.body), `"status":"ok"`) {
		t.Fatalf("/healthz while not ready: %d %s", r.status, r.body)
	}

	b := start(1)
	awaitReadyz(t, a, 2*time.Minute)
	awaitReadyz(t, b, 2*time.Minute)
	var st struct {
		Ready    bool     `json:"ready"`
		NotReady string   `json:"not_ready"`
		Peers    []string `json:"peers"`
	}
	out, errOut, exit = cli(t, a.url, "", "status", "--json")
	if exit != 0 || errOut != "" || json.Unmarshal([]byte(out), &st) != nil || !st.Ready || st.NotReady != "" || len(st.Peers) != 1 {
		t.Fatalf("status --json once ready: exit %d, %q %q", exit, out, errOut)
	}
	if out, _, exit := cli(t, a.url, "", "peers"); exit != 0 || strings.TrimSpace(out) != st.Peers[0] {
		t.Fatalf("peers: exit %d, %q, want %s", exit, out, st.Peers[0])
	}
	commitCreate(t, a.url, registrytest.ChainID, 1)
	commitCreate(t, b.url, registrytest.ChainID, 2)
	a.waitHeight(t, b.status(t).Height, time.Minute) // committed on b; a may be a step behind
	m := metricsOf(t, a.url)
	for _, s := range operatorSeries {
		if _, ok := m[s]; !ok {
			t.Errorf("/metrics lacks %s", s)
		}
	}
	libp2p := false
	for k := range m {
		libp2p = libp2p || strings.HasPrefix(k, "libp2p_")
	}
	if !libp2p {
		t.Error("no libp2p_ series on a node of a network")
	}
	if m["idmesh_p2p_peers"] < 1 || m["idmesh_consensus_height"] < 2 || m["idmesh_block_bytes_count"] < 2 {
		t.Errorf("peers %v, consensus height %v, blocks %v", m["idmesh_p2p_peers"], m["idmesh_consensus_height"], m["idmesh_block_bytes_count"])
	}
}

// TestTestnetStartProgress: `testnet start` with its output not on a
// terminal says, in plain lines, as each node serves and when all do.
func TestTestnetStartProgress(t *testing.T) {
	if testing.Short() {
		t.Skip("processes")
	}
	dir := t.TempDir()
	base := freeBase(t, 2)
	mustCLI(t, "", "", "testnet", "init", "--validators", "2", "--dir", dir, "--base-port", fmt.Sprint(base), "--chain-id", registrytest.ChainID)
	cmd := exec.Command(binary, "testnet", "start", "--dir", dir)
	cmd.Env = append(os.Environ(), "QUIC_GO_DISABLE_RECEIVE_BUFFER_WARNING=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var seen []string
	deadline := time.After(2 * time.Minute)
	for done := false; !done; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("testnet start ended:\n%s", strings.Join(seen, "\n"))
			}
			seen = append(seen, l)
			done = l == "testnet: all 2 nodes serving"
		case <-deadline:
			t.Fatalf("not every node served:\n%s", strings.Join(seen, "\n"))
		}
	}
	all := strings.Join(seen, "\n")
	for _, want := range []string{"serving http://127.0.0.1:" + fmt.Sprint(base) + " (", "(1 of 2)", "(2 of 2)"} {
		if !strings.Contains(all, want) {
			t.Errorf("output lacks %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "\033") || strings.Contains(all, "\r") {
		t.Errorf("terminal control characters in plain output:\n%q", all)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range lines {
		}
	}()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("testnet start: %v", err)
	}
}
