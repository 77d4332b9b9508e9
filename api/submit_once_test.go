package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// submitted posts body to POST /v1/operations and returns the status and
// the answer (a SubmitResponse or a problem).
func submitted(t *testing.T, s *chainServer, body []byte) (int, api.SubmitResponse, map[string]any) {
	t.Helper()
	code, _, b := s.send(t, http.MethodPost, "/v1/operations", body, "Content-Type", "application/json")
	var resp api.SubmitResponse
	var problem map[string]any
	if code == http.StatusAccepted {
		if err := json.Unmarshal(b, &resp); err != nil {
			t.Fatalf("answer %s: %v", b, err)
		}
	} else if err := json.Unmarshal(b, &problem); err != nil {
		t.Fatalf("problem %s: %v", b, err)
	}
	return code, resp, problem
}

// TestSubmitDecodesOnce is issue 18 goal 2 through the real HTTP server
// over a node on a LevelDB chain: an operation posted in its canonical
// form is decoded once on the node (by the API, through the chain's
// cache, which the mempool's check then finds), where it was decoded
// twice; any other spelling is still accepted, under the canonical
// payload's hash, and decoded by the API and the check, but its decoding
// is not kept (a client's variants do not fill the cache).
func TestSubmitDecodesOnce(t *testing.T) {
	s := mustChainServer(t, 2, nil, nil)
	txs, _, err := registrytest.CreateOps(1000, 3)
	if err != nil {
		t.Fatal(err)
	}

	before := s.chain.OperationDecodes()
	code, resp, problem := submitted(t, s, txs[0].Payload)
	if code != http.StatusAccepted || resp.Hash != txs[0].Hash() {
		t.Fatalf("canonical: HTTP %d %v %v", code, resp, problem)
	}
	if n := s.chain.OperationDecodes() - before; n != 1 {
		t.Fatalf("a canonical operation was decoded %d times on its node, want 1", n)
	}

	var pretty bytes.Buffer
	if err := json.Indent(&pretty, txs[1].Payload, "", "  "); err != nil {
		t.Fatal(err)
	}
	for i, want := range []uint64{2, 1} { // the second time it is pending already: no check
		before = s.chain.OperationDecodes()
		code, resp, problem = submitted(t, s, pretty.Bytes())
		if code != http.StatusAccepted || resp.Hash != txs[1].Hash() {
			t.Fatalf("indented, try %d: HTTP %d %v %v", i, code, resp, problem)
		}
		if n := s.chain.OperationDecodes() - before; n != want {
			t.Fatalf("indented, try %d: decoded %d times, want %d (the API's, not kept, and the check's of the canonical payload)", i, n, want)
		}
	}
}

// TestSubmitForgedFromCache attacks the shared decoding: a canonical
// operation with a forged signature is refused (403) every time it is
// posted, though its decoding is kept; the cache holds decodings, never
// verdicts. An operation that does not decode is refused as before (400)
// and is not kept either.
func TestSubmitForgedFromCache(t *testing.T) {
	s := mustChainServer(t, 2, nil, nil)
	txs, _, err := registrytest.CreateOps(2000, 1)
	if err != nil {
		t.Fatal(err)
	}
	var op idmesh.Operation
	if err := json.Unmarshal(txs[0].Payload, &op); err != nil {
		t.Fatal(err)
	}
	sig := []byte(op.Proof[0].Signature)
	sig[4] ^= 0x01 // still base64url, no longer the signature
	op.Proof[0].Signature = string(sig)
	forged, err := op.Encode()
	if err != nil {
		t.Fatal(err)
	}
	for try := range 3 {
		before := s.chain.OperationDecodes()
		code, _, problem := submitted(t, s, forged)
		if code != http.StatusForbidden || problem["type"] != api.ProblemUnauthorizedOp {
			t.Fatalf("forged, try %d: HTTP %d %v", try, code, problem)
		}
		if want := map[bool]uint64{true: 1, false: 0}[try == 0]; s.chain.OperationDecodes()-before != want {
			t.Fatalf("forged, try %d: decoded %d times, want %d", try, s.chain.OperationDecodes()-before, want)
		}
	}
	broken := append(bytes.Clone(forged[:len(forged)-1]), []byte(`,"extra":1}`)...)
	for try := range 2 {
		before := s.chain.OperationDecodes()
		code, _, problem := submitted(t, s, broken)
		if code != http.StatusBadRequest || problem["type"] != api.ProblemInvalidOperation {
			t.Fatalf("unknown member, try %d: HTTP %d %v", try, code, problem)
		}
		if n := s.chain.OperationDecodes() - before; n != 1 {
			t.Fatalf("unknown member, try %d: decoded %d times, want 1 (nothing kept)", try, n)
		}
	}
}

// TestSubmitManyDecodeOnce posts 48 operations at once (the race
// detector watches the shared cache): every one is accepted under its
// payload's hash and decoded once, and all of them are pending.
func TestSubmitManyDecodeOnce(t *testing.T) {
	s := mustChainServer(t, 2, nil, nil)
	txs, _, err := registrytest.CreateOps(3000, 48)
	if err != nil {
		t.Fatal(err)
	}
	before := s.chain.OperationDecodes()
	var wg sync.WaitGroup
	hashes := make([]registry.Hash, len(txs))
	codes := make([]int, len(txs))
	for i, tx := range txs {
		wg.Go(func() {
			code, _, b := s.send(t, http.MethodPost, "/v1/operations", tx.Payload, "Content-Type", "application/json")
			var resp api.SubmitResponse
			_ = json.Unmarshal(b, &resp)
			codes[i], hashes[i] = code, resp.Hash
		})
	}
	wg.Wait()
	for i, tx := range txs {
		if codes[i] != http.StatusAccepted || hashes[i] != tx.Hash() {
			t.Fatalf("operation %d: HTTP %d, hash %s", i, codes[i], hashes[i])
		}
	}
	if n := s.chain.OperationDecodes() - before; n != uint64(len(txs)) {
		t.Fatalf("%d operations decoded %d times, want once each", len(txs), n)
	}
	if s.node.Mempool.Len() != len(txs) {
		t.Fatalf("mempool holds %d, want %d", s.node.Mempool.Len(), len(txs))
	}
}
