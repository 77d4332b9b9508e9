package api_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
	"github.com/idmesh/idmesh/registry/smt"
)

// TestProofAtPrunedHeight serves proofs at past heights over the real
// server after a prune: a pruned height answers 410 .../pruned, a
// retained one 200 with a value_hash the proof verifies against the
// header's state root, and the exact encoding of the answer.
func TestProofAtPrunedHeight(t *testing.T) {
	s := mustChainServer(t, 2, nil, nil)
	for i := range 5 { // five more blocks, a second apart
		if _, err := s.chain.Fill(uint64(100+i), 1, 1, nil); err != nil {
			t.Fatal(err)
		}
	}
	p, err := registry.NewPruner(s.chain.Chain, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	p.MinVersions = 1 // the window alone decides here
	if _, more, err := p.Prune(context.Background(), 0); err != nil || more {
		t.Fatal(more, err)
	}
	tip := s.chain.State().Height
	if tip != 6 || s.chain.Store.PruneFloor() != 4 {
		t.Fatalf("tip %d floor %d", tip, s.chain.Store.PruneFloor())
	}
	d := s.dids[0]
	for _, h := range []uint64{0, 1, 3} {
		status, hd, body := s.get(t, fmt.Sprintf("/v1/proofs/dids/%s?height=%d", d, h))
		var pb api.Problem
		if status != http.StatusGone || hd.Get("Content-Type") != "application/problem+json" || json.Unmarshal(body, &pb) != nil || pb.Type != api.ProblemPruned || pb.Status != http.StatusGone {
			t.Fatalf("height %d: %d %s", h, status, body)
		}
	}
	for _, h := range []uint64{4, 6} {
		status, _, body := s.get(t, fmt.Sprintf("/v1/proofs/dids/%s?height=%d", d, h))
		var pr api.ProofResponse
		if status != http.StatusOK || json.Unmarshal(body, &pr) != nil || pr.Height != h || pr.ValueHash == nil || pr.Value == nil {
			t.Fatalf("height %d: %d %s", h, status, body)
		}
		b, err := s.chain.Store.Block(h)
		if err != nil {
			t.Fatal(err)
		}
		val, _ := base64.StdEncoding.DecodeString(*pr.Value)
		vh := smt.Hash(registry.Sum(val))
		if pr.StateRoot != b.Header.StateRoot || *pr.ValueHash != hex.EncodeToString(vh[:]) {
			t.Fatalf("height %d: root or value hash wrong", h)
		}
		if err := pr.Proof.Verify(smt.Hash(pr.StateRoot), smt.Hash(registry.Sum(idmesh.RecordKey(d))), &vh); err != nil {
			t.Fatalf("height %d: %v", h, err)
		}
		// The encoding: encoding/json's, with value_hash.
		value, valueHash, proof, root, err := s.node.ProveKeyAt(idmesh.RecordKey(d), h)
		if err != nil {
			t.Fatal(err)
		}
		v, hx := base64.StdEncoding.EncodeToString(value), valueHash.String()
		want, _ := json.Marshal(api.ProofResponse{Height: h, StateRoot: root, Key: base64.StdEncoding.EncodeToString(idmesh.RecordKey(d)), Value: &v, ValueHash: &hx, Proof: proof})
		if string(body) != string(want)+"\n" {
			t.Fatalf("height %d:\n%s\nwant\n%s", h, body, want)
		}
	}
	// A DID created at height 6 is absent at height 5: null value and hash.
	_, late, err := registrytest.CreateOp(104)
	if err != nil {
		t.Fatal(err)
	}
	status, _, body := s.get(t, fmt.Sprintf("/v1/proofs/dids/%s?height=5", late))
	var pr api.ProofResponse
	if status != http.StatusOK || json.Unmarshal(body, &pr) != nil || pr.Value != nil || pr.ValueHash != nil {
		t.Fatalf("absent: %d %s", status, body)
	}
	if !json.Valid(body) || !strings.Contains(string(body), `"value":null`) || !strings.Contains(string(body), `"value_hash":null`) {
		t.Fatalf("absent: %s", body)
	}
	// The latest, without a height, has no value_hash, as before.
	if _, _, body := s.get(t, "/v1/proofs/dids/"+d); strings.Contains(string(body), "value_hash") {
		t.Fatalf("latest proof has value_hash: %s", body)
	}
}
