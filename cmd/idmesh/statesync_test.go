package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// snapshotTaken finds the highest height of a "snapshot taken" log line.
var snapshotTaken = regexp.MustCompile(`msg="snapshot taken" height=(\d+)`)

func (p *proc) lastSnapshot() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var h uint64
	for _, m := range snapshotTaken.FindAllStringSubmatch(p.logs.String(), -1) {
		if v, _ := strconv.ParseUint(m[1], 10, 64); v > h {
			h = v
		}
	}
	return h
}

// TestStateSyncProcesses is issue 18's state sync through real
// processes: a validator taking a snapshot every 5 blocks, DIDs written
// over HTTP before and after its snapshot, and a new node started with
// `idmesh node --state-sync` from its genesis and a bootstrap address.
// The new node resolves both DIDs, holds no block below the snapshot's
// height (it did not replay them), serves proofs at the snapshot's
// height, follows new blocks, counts the chunks it fetched, and refuses
// --state-sync once its store holds a chain (exit 2, one line).
func TestStateSyncProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("processes")
	}
	dir := t.TempDir()
	nodes := startTestnet(t, dir, 1, func(int) []string {
		return []string{"--snapshot-interval", "5", "--block-interval", "50ms", "--log-level", "info"}
	})
	v := nodes[0]
	txs, dids, err := registrytest.CreateOps(0, 60)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		commitOp(t, v, i, txs[i].Payload)
	}
	// Blocks come with transactions: write until the tip is a multiple
	// of 5, then wait for that snapshot (built in the background).
	written, next := v.status(t).Height, 30
	deadline := time.Now().Add(time.Minute)
	for v.lastSnapshot() < written {
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot at or above height %d:\n%s", written, tail(v.logs.String(), 2000))
		}
		if v.status(t).Height%5 != 0 {
			commitOp(t, v, next, txs[next].Payload)
			next++
			continue
		}
		time.Sleep(20 * time.Millisecond) // polling the log for the condition
	}
	before := next - 1 // the last DID in the snapshot
	after := next
	for ; next < after+5; next++ {
		commitOp(t, v, next, txs[next].Payload)
	}

	// The validator's p2p address, from its banner.
	var boot string
	for _, l := range v.banner {
		if f := strings.Fields(l); len(f) == 3 && f[1] == "p2p" && strings.Contains(f[2], "/tcp/") {
			boot = f[2]
		}
	}
	if boot == "" {
		t.Fatalf("no p2p address in the banner: %q", v.banner)
	}
	lateHome := filepath.Join(dir, "late")
	lateArgs := []string{"--home", lateHome, "--genesis", filepath.Join(dir, "node0", "genesis.json"), "--http", "127.0.0.1:0",
		"--p2p", "/ip4/127.0.0.1/tcp/0", "--bootstrap", boot, "--log-level", "info"}
	late := startWithin(t, time.Minute, "late", append([]string{"node"}, append(lateArgs, "--state-sync")...)...)
	late.waitHeight(t, v.status(t).Height, time.Minute)
	for _, d := range []string{dids[0], dids[before], dids[after+4]} {
		if res := get(t, resolveURL(late.url, d, nil), ""); res.status != http.StatusOK {
			t.Fatalf("the state-synced node resolves %s: %d %s", d, res.status, res.body)
		}
	}
	late.mu.Lock()
	logs := late.logs.String()
	late.mu.Unlock()
	m := regexp.MustCompile(`msg="state synced" height=(\d+)`).FindStringSubmatch(logs)
	if m == nil {
		t.Fatalf("no state synced line:\n%s", tail(logs, 3000))
	}
	snap, _ := strconv.ParseUint(m[1], 10, 64)
	if snap < written || snap%5 != 0 {
		t.Fatalf("synced at %d, the DIDs were written by %d", snap, written)
	}
	// No replay: the blocks below the snapshot are not there; the
	// snapshot's block is, and proofs at its height work.
	for _, h := range []uint64{1, snap - 1} {
		if r := get(t, fmt.Sprintf("%s/v1/blocks/%d", late.url, h), ""); r.status == http.StatusOK {
			t.Fatalf("block %d on the state-synced node: %s", h, r.body)
		}
	}
	if r := get(t, fmt.Sprintf("%s/v1/blocks/%d", late.url, snap), ""); r.status != http.StatusOK {
		t.Fatalf("block %d (the snapshot's): %d %s", snap, r.status, r.body)
	}
	checkProofAt(t, late.url, fmt.Sprintf("/v1/proofs/dids/%s?height=%d", dids[0], snap), true)
	// It follows new blocks, and a write through it commits.
	commitOp(t, v, next, txs[next].Payload)
	if res := post(t, late.url+"/v1/operations?wait=20s", txs[next+1].Payload); res.status != http.StatusOK {
		t.Fatalf("write through the state-synced node: %d %s", res.status, res.body)
	}
	late.waitHeight(t, v.status(t).Height, 30*time.Second)
	for _, d := range []string{dids[next], dids[next+1]} {
		if res := get(t, resolveURL(late.url, d, nil), ""); res.status != http.StatusOK {
			t.Fatalf("the state-synced node resolves the later %s: %d", d, res.status)
		}
	}
	if m := metricsOf(t, late.url); m["idmesh_snapshot_chunks_fetched_total"] < 1 {
		t.Fatalf("chunks fetched: %v", m["idmesh_snapshot_chunks_fetched_total"])
	}
	if m := metricsOf(t, v.url); m["idmesh_snapshot_chunks_served_total"] < 1 {
		t.Fatalf("chunks served: %v", m["idmesh_snapshot_chunks_served_total"])
	}
	late.stop()

	// Its store holds a chain now: --state-sync is refused.
	_, errOut, code := cli(t, "", "", append([]string{"node"}, append(lateArgs, "--state-sync")...)...)
	if code != 2 || !strings.Contains(errOut, "--state-sync") || !strings.Contains(errOut, "empty store") || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
		t.Fatalf("--state-sync on a store with a chain: exit %d, %q", code, errOut)
	}
	// Without the flag it starts again from its own chain.
	late = startNode(t, "late", lateArgs...)
	late.waitHeight(t, v.status(t).Height, 30*time.Second)
	late.stop()
}

// startWithin is startProc that fails the test, with the process's log,
// if it does not serve within d (a state sync that never ends).
func startWithin(t *testing.T, d time.Duration, name string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "QUIC_GO_DISABLE_RECEIVE_BUFFER_WARNING=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, name: name, cmd: cmd, logs: new(bytes.Buffer)}
	cmd.Stderr = &lockedWriter{mu: &p.mu, w: p.logs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	timer := time.AfterFunc(d, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		p.banner = append(p.banner, sc.Text())
		if u, ok := servingURL(sc.Text()); ok {
			p.url = u
			break
		}
	}
	if p.url == "" {
		_ = cmd.Wait()
		p.mu.Lock()
		defer p.mu.Unlock()
		t.Fatalf("%s did not serve within %s:\n%s", name, d, tail(p.logs.String(), 4000))
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return p
}

// TestStateSyncLine: the terminal's state sync line in each phase.
func TestStateSyncLine(t *testing.T) {
	for _, c := range []struct {
		p    node.StateSyncProgress
		want []string
	}{
		{node.StateSyncProgress{Phase: "offers"}, []string{"looking for a snapshot"}},
		{node.StateSyncProgress{Phase: "headers", Height: 5000, Headers: 1000}, []string{"headers, 1000 of 5000"}},
		{node.StateSyncProgress{Phase: "chunks", Height: 5000, Chunks: 10, ChunksTotal: 40, Entries: 12345, Bytes: 40e6, Refused: 1},
			[]string{"25%", "chunks 10 of 40 at height 5000", "12345 entries", "40.0 MB", "4.0 MB/s", "30s left", "1 refused"}},
		{node.StateSyncProgress{Phase: "block", Height: 5000, Chunks: 40, Entries: 12345, Waited: 3 * time.Second},
			[]string{"40 chunks", "12345 entries", "fetching block 5000", "(3s)"}},
		{node.StateSyncProgress{Phase: "finish", Height: 5000, Entries: 12345, Waited: 7 * time.Second},
			[]string{"checking the restored state", "12345 entries", "block 5000", "(7s)"}},
	} {
		got := stateSyncLine(c.p, 10*time.Second)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", c.p.Phase, got, w)
			}
		}
	}
}
