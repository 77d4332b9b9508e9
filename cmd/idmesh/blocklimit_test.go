package main

import (
	binenc "encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// bigCreate returns the i-th of a sequence of signed create operations of
// about 61 KB (services with long endpoints), within the operation limit.
func bigCreate(t *testing.T, chainID string, i uint64) []byte {
	t.Helper()
	var seed [32]byte
	binenc.BigEndian.PutUint64(seed[:], 1_000_000+i)
	k, err := keys.Generate(keys.Ed25519, rand.NewChaCha8(seed))
	if err != nil {
		t.Fatal(err)
	}
	ref := []did.Relationship{did.Ref("#key-1")}
	doc := &did.Document{
		Context:            []any{did.ContextV1, did.ContextMultikey},
		VerificationMethod: []did.VerificationMethod{did.NewMultikey("#key-1", "", k.Public())},
		Authentication:     ref, AssertionMethod: ref, CapabilityInvocation: ref,
	}
	for j := range 31 {
		ep, _ := json.Marshal(fmt.Sprintf("https://example.com/%d/%d/%s", i, j, strings.Repeat("a", 1900)))
		doc.Service = append(doc.Service, did.Service{ID: fmt.Sprintf("#svc-%d", j), Type: did.StringSet{"LinkedDomains"}, ServiceEndpoint: ep})
	}
	op := &idmesh.Operation{Type: idmesh.Create, Document: doc}
	if err := op.Sign(chainID, "#key-1", k); err != nil {
		t.Fatal(err)
	}
	b, err := op.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 60_000 || len(b) > idmesh.MaxOperationBytes {
		t.Fatalf("operation of %d bytes, want about 61 KB and at most %d", len(b), idmesh.MaxOperationBytes)
	}
	return b
}

// TestLargeBlockFlood is issue 10's chain halt: 200 valid ~61 KB create
// operations posted at once to one validator of four used to make a
// block larger than the p2p message limit, whose proposal could not be
// sent, and no node committed again. Now blocks are bounded by
// max_block_bytes: every operation commits or is refused with a
// problem, the chain keeps committing, and the nodes agree.
func TestLargeBlockFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("processes")
	}
	nodes := startTestnet(t, t.TempDir(), 4, nil)

	const total = 200
	ops := make([][]byte, total)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < total; i += 4 {
				ops[i] = bigCreate(t, registrytest.ChainID, uint64(i))
			}
		})
	}
	wg.Wait()

	// Post them all at once to node0.
	type answer struct {
		hash    registry.Hash
		refused *api.Problem
	}
	answers := make([]answer, total)
	for i := range total {
		wg.Go(func() {
			res := post(t, nodes[0].url+"/v1/operations", ops[i])
			if res.status == http.StatusAccepted {
				var sr api.SubmitResponse
				if err := json.Unmarshal(res.body, &sr); err != nil {
					t.Errorf("operation %d: %v", i, err)
					return
				}
				answers[i].hash = sr.Hash
				return
			}
			answers[i].refused = mustProblemBody(t, res)
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// Each accepted one commits (or is rejected with a reason), on every
	// node, within a bound: a halted chain fails here.
	deadline := time.Now().Add(60 * time.Second)
	var committed []registry.Hash
	refused := 0
	for i, a := range answers {
		if a.refused != nil {
			refused++
			continue
		}
		for {
			if time.Now().After(deadline) {
				nodes[0].mu.Lock()
				logs := tail(nodes[0].logs.String(), 3000)
				nodes[0].mu.Unlock()
				t.Fatalf("operation %d not committed in time; node0 at height %d:\n%s", i, nodes[0].status(t).Height, logs)
			}
			res := get(t, nodes[0].url+"/v1/operations/"+a.hash.String()+"?wait=5s", "")
			var st struct{ Status string }
			if res.status == http.StatusOK || res.status == http.StatusNotFound {
				_ = json.Unmarshal(res.body, &st)
			}
			if st.Status == "committed" {
				committed = append(committed, a.hash)
				break
			}
			if st.Status == "rejected" || res.contentType == "application/problem+json" && res.status != http.StatusNotFound {
				mustProblemBody(t, res)
				refused++
				break
			}
		}
	}
	t.Logf("%d operations committed, %d refused", len(committed), refused)
	if len(committed) == 0 {
		t.Fatal("no operation committed")
	}

	// The chain goes on: a small operation through another node commits,
	// and every node reaches its height with the same blocks.
	small, _, err := registrytest.CreateOps(5_000, 1)
	if err != nil {
		t.Fatal(err)
	}
	res := post(t, nodes[1].url+"/v1/operations?wait=30s", small[0].Payload)
	if res.status != http.StatusOK {
		t.Fatalf("a small operation after the flood: %d %s", res.status, res.body)
	}
	var sr api.SubmitResponse
	if err := json.Unmarshal(res.body, &sr); err != nil {
		t.Fatal(err)
	}
	for _, p := range nodes {
		p.waitHeight(t, sr.Height, 30*time.Second)
	}
	sameChainsHTTP(t, nodes, nil)
	seen := map[registry.Hash]bool{}
	for h := uint64(1); h <= sr.Height; h++ {
		var blk api.BlockResponse
		if err := json.Unmarshal(get(t, fmt.Sprintf("%s/v1/blocks/%d", nodes[2].url, h), "").body, &blk); err != nil {
			t.Fatal(err)
		}
		for _, th := range blk.TxHashes {
			if seen[th] {
				t.Fatalf("transaction %s in two blocks", th)
			}
			seen[th] = true
		}
	}
	for _, h := range append(committed, small[0].Hash()) {
		if !seen[h] {
			t.Fatalf("committed transaction %s is in no block of node2", h)
		}
	}
	for _, p := range nodes {
		p.stop()
	}
}

// mustProblemBody checks that res is a problem+json answer with a type
// of the API, and returns it.
func mustProblemBody(t *testing.T, res httpResult) *api.Problem {
	t.Helper()
	var p api.Problem
	if res.contentType != "application/problem+json" || json.Unmarshal(res.body, &p) != nil || !strings.HasPrefix(p.Type, api.ProblemBase) || p.Status != res.status {
		t.Errorf("refusal without a problem: %d %s %s", res.status, res.contentType, tail(string(res.body), 300))
		return &p
	}
	return &p
}
