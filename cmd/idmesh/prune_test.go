package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// didOf returns the DID of the i-th generated create on chainID.
func didOf(t *testing.T, chainID string, i uint64) string {
	t.Helper()
	op, _, err := registrytest.NewCreate(chainID, i)
	if err != nil {
		t.Fatal(err)
	}
	d, err := op.SubjectDID()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestStateRetentionPrunes runs `idmesh dev --state-retention 3s`, writes
// DIDs over several blocks until the pruner has dropped the version of
// the first DID's block (its metrics say so), and then asks for proofs:
// at the pruned height a 410 problem of type .../pruned, at a recent
// height a 200 whose proof verifies against the signed header, and the
// latest proof as before. Hostile heights get 400 and 404 problems.
func TestStateRetentionPrunes(t *testing.T) {
	n := startDev(t, filepath.Join(t.TempDir(), "home"), "--state-retention", "3s", "--block-interval", "50ms")
	chainID := n.status(t).ChainID
	first := didOf(t, chainID, 1)
	commitCreate(t, n.url, chainID, 1)
	old := n.status(t).Height
	// Each create is a block that replaces the nodes on its path; the
	// pruner drops versions more than 3 s of block time behind the tip.
	deadline := time.Now().Add(2 * time.Minute)
	var m map[string]float64
	for i := uint64(2); ; i++ {
		commitCreate(t, n.url, chainID, i)
		m = metricsOf(t, n.url)
		if m["idmesh_state_retained_from_height"] > float64(old+1) && m["idmesh_state_pruned_nodes_total"] > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no prune after %d creates: %v", i, m)
		}
	}
	if m["idmesh_state_pruned_versions_total"] < float64(old) || m["idmesh_state_pruned_bytes_total"] <= 0 {
		t.Fatalf("prune metrics: %v", m)
	}

	// The pruned root: 410, problem type .../pruned.
	r := get(t, fmt.Sprintf("%s/v1/proofs/dids/%s?height=%d", n.url, first, old), "")
	var p api.Problem
	if r.status != http.StatusGone || r.contentType != "application/problem+json" || json.Unmarshal(r.body, &p) != nil ||
		p.Type != "https://idmesh.dev/problems/pruned" || p.Status != http.StatusGone {
		t.Fatalf("proof at pruned height %d: %d %q %s", old, r.status, r.contentType, r.body)
	}
	// A recent root: 200, and it verifies against the header's commit.
	tip := n.status(t).Height
	val := checkProofAt(t, n.url, fmt.Sprintf("/v1/proofs/dids/%s?height=%d", first, tip), true)
	if !strings.Contains(string(val), first) {
		t.Fatal("proved value is not the DID's record")
	}
	var pr api.ProofResponse
	if err := json.Unmarshal(get(t, fmt.Sprintf("%s/v1/proofs/dids/%s?height=%d", n.url, first, tip), "").body, &pr); err != nil || pr.Height != tip || pr.ValueHash == nil || len(*pr.ValueHash) != 64 {
		t.Fatalf("proof at %d: %+v %v", tip, pr, err)
	}
	// Absent at a retained height: value and value_hash null, a
	// non-inclusion proof.
	checkProofAt(t, n.url, fmt.Sprintf("/v1/proofs/dids/%s?height=%d", didOf(t, chainID, 1_000_000), tip), false)
	// The latest, without a height, as before.
	checkProof(t, n.url, first, true)

	for _, c := range []struct {
		query  string
		status int
		typ    string
	}{
		{"height=" + fmt.Sprint(tip+1000), http.StatusNotFound, api.ProblemNotFound},
		{"height=abc", http.StatusBadRequest, api.ProblemInvalidParameter},
		{"height=-1", http.StatusBadRequest, api.ProblemInvalidParameter},
		{"height=", http.StatusBadRequest, api.ProblemInvalidParameter},
		{"height=01", http.StatusBadRequest, api.ProblemInvalidParameter},
		{"height=99999999999999999999999", http.StatusBadRequest, api.ProblemInvalidParameter},
		{"height=" + strings.Repeat("9", 5000), http.StatusBadRequest, api.ProblemInvalidParameter},
		{"height=1&height=2", http.StatusBadRequest, api.ProblemInvalidParameter},
		{"height=0", http.StatusGone, api.ProblemPruned},
	} {
		r := get(t, n.url+"/v1/proofs/dids/"+first+"?"+c.query, "")
		var p api.Problem
		if r.status != c.status || json.Unmarshal(r.body, &p) != nil || p.Type != c.typ || len(p.Detail) > 200 {
			t.Errorf("?%.40s: %d %s, want %d %s", c.query, r.status, r.body, c.status, c.typ)
		}
	}
	// The status list proof endpoint reads past roots the same way.
	r = get(t, fmt.Sprintf("%s/v1/proofs/status-lists/none?height=%d", n.url, old), "")
	if r.status != http.StatusBadRequest && r.status != http.StatusGone {
		t.Fatalf("status list proof at a pruned height: %d %s", r.status, r.body)
	}
	n.mu.Lock()
	logged := strings.Contains(n.logs.String(), "prune batch")
	n.mu.Unlock()
	if !logged {
		t.Error("no prune batch line in the log")
	}
}

// TestStateRetentionFlag: a negative --state-retention is a usage error
// (exit 2, one line).
func TestStateRetentionFlag(t *testing.T) {
	_, errOut, code := cli(t, "", "", "dev", "--home", t.TempDir(), "--http", "127.0.0.1:0", "--state-retention", "-1s")
	if code != 2 || !strings.Contains(errOut, "--state-retention") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Fatalf("exit %d: %q", code, errOut)
	}
}
