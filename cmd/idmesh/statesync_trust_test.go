package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/node/home"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// runWithin runs the binary to its end, killed after d; it returns
// stderr and the exit status.
func runWithin(t *testing.T, d time.Duration, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), "QUIC_GO_DISABLE_RECEIVE_BUFFER_WARNING=1")
	var errb strings.Builder
	cmd.Stderr = &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("idmesh %s did not end within %s:\n%s", strings.Join(args, " "), d, tail(errb.String(), 3000))
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return errb.String(), cmd.ProcessState.ExitCode()
}

// TestStateSyncTrustProcesses: `idmesh node --state-sync
// --state-sync-trust HEIGHT:BLOCKID` through real processes. With a
// wrong block ID at the snapshot's height the node exits 1 with one line
// naming the flag, the height and both IDs, and leaves an empty store
// (no chain, no genesis, no unfinished restore); started again on that
// home with the block ID the validator serves at that height, it syncs,
// resolves a DID of the snapshot and follows the chain, its conflict
// counter at 0. A node started without the flag syncs as before and
// warns that the chain is trusted from the genesis only.
func TestStateSyncTrustProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("processes")
	}
	dir := t.TempDir()
	nodes := startTestnet(t, dir, 1, func(int) []string {
		return []string{"--snapshot-interval", "5", "--block-interval", "50ms", "--log-level", "info"}
	})
	v := nodes[0]
	txs, dids, err := registrytest.CreateOps(0, 40)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		commitOp(t, v, i, txs[i].Payload)
	}
	next := 10
	deadline := time.Now().Add(time.Minute)
	for v.lastSnapshot() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot:\n%s", tail(v.logs.String(), 2000))
		}
		if v.status(t).Height%5 != 0 && next < len(txs) {
			commitOp(t, v, next, txs[next].Payload)
			next++
			continue
		}
		time.Sleep(20 * time.Millisecond) // polling the log for the condition
	}
	snap := v.lastSnapshot()
	var blk struct {
		BlockID string `json:"block_id"`
	}
	r := get(t, fmt.Sprintf("%s/v1/blocks/%d", v.url, snap), "")
	if err := json.Unmarshal(r.body, &blk); r.status != http.StatusOK || err != nil || len(blk.BlockID) != 64 {
		t.Fatalf("block %d: %d %s", snap, r.status, r.body)
	}
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
	args := []string{"node", "--home", lateHome, "--genesis", filepath.Join(dir, "node0", "genesis.json"), "--http", "127.0.0.1:0",
		"--p2p", "/ip4/127.0.0.1/tcp/0", "--bootstrap", boot, "--state-sync"}

	wrong := strings.Repeat("ab", 32)
	errOut, code := runWithin(t, time.Minute, append(args, "--log-level", "error", "--state-sync-trust", fmt.Sprintf("%d:%s", snap, wrong))...)
	line := strings.TrimSpace(errOut)
	t.Logf("a wrong checkpoint: exit %d: %s", code, line)
	if code != 1 || strings.Contains(line, "\n") {
		t.Fatalf("a wrong checkpoint: exit %d, %q", code, errOut)
	}
	for _, w := range []string{"--state-sync-trust", "checkpoint's block", fmt.Sprintf("height %d", snap), wrong, blk.BlockID} {
		if !strings.Contains(line, w) {
			t.Errorf("the message %q does not say %q", line, w)
		}
	}
	store, err := leveldb.Open(home.Dir(lateHome).Chain())
	if err != nil {
		t.Fatal(err)
	}
	_, holds, serr := store.State()
	_, gerr := store.Genesis()
	derr := store.DiscardRestore()
	store.Close()
	if serr != nil || holds || gerr == nil || derr == nil {
		t.Fatalf("the store after a refused checkpoint: state %v %v, genesis %v, restore %v", holds, serr, gerr, derr)
	}

	late := startWithin(t, time.Minute, "late", append(args, "--log-level", "info", "--state-sync-trust", fmt.Sprintf("%d:%s", snap, blk.BlockID))...)
	late.waitHeight(t, v.status(t).Height, time.Minute)
	if res := get(t, resolveURL(late.url, dids[0], nil), ""); res.status != http.StatusOK {
		t.Fatalf("the state-synced node resolves %s: %d %s", dids[0], res.status, res.body)
	}
	late.mu.Lock()
	logs := late.logs.String()
	late.mu.Unlock()
	if !strings.Contains(logs, `msg="state sync: checkpoint" height=`+fmt.Sprint(snap)) || !strings.Contains(logs, `msg="state synced"`) {
		t.Fatalf("no checkpoint or synced line:\n%s", tail(logs, 3000))
	}
	if strings.Contains(logs, "trusted from the genesis only") {
		t.Fatal("the no-checkpoint warning with a checkpoint")
	}
	if m := metricsOf(t, late.url); m["idmesh_statesync_header_conflicts_total"] != 0 || m["idmesh_snapshot_chunks_fetched_total"] < 1 {
		t.Fatalf("metrics: conflicts %v, chunks %v", m["idmesh_statesync_header_conflicts_total"], m["idmesh_snapshot_chunks_fetched_total"])
	}
	if _, ok := metricsOf(t, late.url)["idmesh_statesync_header_conflicts_total"]; !ok {
		t.Fatal("no idmesh_statesync_header_conflicts_total")
	}
	late.stop()

	// Without the flag: as before, with a warning that the chain is
	// trusted from the genesis only, and one that no other peer confirmed
	// the header (the validator is the only peer).
	plain := startWithin(t, time.Minute, "plain", "node", "--home", filepath.Join(dir, "plain"), "--genesis", filepath.Join(dir, "node0", "genesis.json"),
		"--http", "127.0.0.1:0", "--p2p", "/ip4/127.0.0.1/tcp/0", "--bootstrap", boot, "--state-sync", "--log-level", "info")
	plain.waitHeight(t, snap, time.Minute)
	plain.mu.Lock()
	logs = plain.logs.String()
	plain.mu.Unlock()
	for _, w := range []string{`level=WARN msg="state sync: no checkpoint (--state-sync-trust HEIGHT:BLOCKID): the chain is trusted from the genesis only`,
		`level=WARN msg="state sync: no other peer confirmed the header`, `msg="state synced"`} {
		if !strings.Contains(logs, w) {
			t.Errorf("no %q in the log:\n%s", w, tail(logs, 3000))
		}
	}
	plain.stop()
}

// TestStateSyncTrustFlags: bad --state-sync-trust and
// --state-sync-cross-check values, on the command line or in the home's
// config.json, exit 2 with one line naming the flag, before anything is
// created in the home.
func TestStateSyncTrustFlags(t *testing.T) {
	id := strings.Repeat("0a", 32)
	for _, c := range []struct {
		name, flag, value string
	}{
		{"no colon", "--state-sync-trust", "5" + id},
		{"zero height", "--state-sync-trust", "0:" + id},
		{"leading zero", "--state-sync-trust", "05:" + id},
		{"negative", "--state-sync-trust", "-5:" + id},
		{"short ID", "--state-sync-trust", "5:" + id[:63]},
		{"not hex", "--state-sync-trust", "5:" + strings.Repeat("zz", 32)},
		{"spaces", "--state-sync-trust", " 5:" + id},
		{"two colons", "--state-sync-trust", "5:" + id + ":1"},
		{"empty mode", "--state-sync-cross-check", ""},
		{"unknown mode", "--state-sync-cross-check", "always"},
		{"case", "--state-sync-cross-check", "Required"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := filepath.Join(t.TempDir(), "home")
			_, errOut, code := cli(t, "", "", "node", "--home", h, "--genesis", "/nonexistent/genesis.json", "--state-sync", c.flag+"="+c.value)
			line := strings.TrimSpace(errOut)
			if code != 2 || strings.Contains(line, "\n") || !strings.Contains(line, c.flag) {
				t.Fatalf("%s=%q: exit %d, %q", c.flag, c.value, code, errOut)
			}
			if _, err := os.Stat(h); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("the home was created: %v", err)
			}
		})
	}
	t.Run("config file", func(t *testing.T) {
		h := t.TempDir()
		if err := os.WriteFile(filepath.Join(h, "config.json"), []byte(`{"state-sync-trust": "12:nothex"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		_, errOut, code := cli(t, "", "", "node", "--home", h, "--state-sync")
		if line := strings.TrimSpace(errOut); code != 2 || strings.Contains(line, "\n") || !strings.Contains(line, "--state-sync-trust") {
			t.Fatalf("a bad checkpoint in config.json: exit %d, %q", code, errOut)
		}
		if _, err := os.Stat(filepath.Join(h, "chain")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("a chain was created: %v", err)
		}
	})
	t.Run("help", func(t *testing.T) {
		out, _, code := cli(t, "", "", "node", "--help")
		if code != 0 || !strings.Contains(out, "--state-sync-trust") || !strings.Contains(out, "--state-sync-cross-check") || !strings.Contains(out, `"best-effort"`) {
			t.Fatalf("node --help: exit %d\n%s", code, out)
		}
	})
}
