package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/registry/registrytest"
)

var decodedMetric = regexp.MustCompile(`(?m)^idmesh_operations_decoded_total ([0-9.e+]+)$`)

// decodedTotal reads idmesh_operations_decoded_total from the node.
func decodedTotal(t *testing.T, node string) float64 {
	t.Helper()
	m := decodedMetric.FindSubmatch(get(t, node+"/metrics", "").body)
	if m == nil {
		t.Fatal("/metrics has no idmesh_operations_decoded_total")
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSubmitDecodedOnceE2E is issue 18 goal 2 (part NET2) through the
// binary: on `idmesh dev`, an operation posted in canonical form and
// waited for until it commits was decoded once in all (the API's
// decoding, which the mempool's check and the block's execution find in
// the node's cache); one posted in another spelling is committed under
// its canonical payload's hash and decoded twice (the API's, not kept,
// and the check's of the canonical payload).
func TestSubmitDecodedOnceE2E(t *testing.T) {
	p := startDev(t, t.TempDir(), "--chain-id", registrytest.ChainID)
	txs, _, err := registrytest.CreateOps(0, 2)
	if err != nil {
		t.Fatal(err)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, txs[1].Payload, "", "\t"); err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		body []byte
		want float64
	}{{txs[0].Payload, 1}, {pretty.Bytes(), 2}} {
		before := decodedTotal(t, p.url)
		r := post(t, p.url+"/v1/operations?wait=20s", c.body)
		var resp api.SubmitResponse
		if err := json.Unmarshal(r.body, &resp); err != nil || r.status != http.StatusOK || resp.Hash != txs[i].Hash() {
			t.Fatalf("operation %d: HTTP %d %s", i, r.status, r.body)
		}
		if n := decodedTotal(t, p.url) - before; n != c.want {
			t.Fatalf("operation %d: decoded %v times from submission to commit, want %v", i, n, c.want)
		}
	}
}
