package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// commitPending commits what n has pending on c, in blocks of at most
// perBlock, as consensus would (save, Committed, then drop from the
// mempool, which wakes the waiters), until the test ends.
func commitPending(tb testing.TB, c *registrytest.Chain, n *node.Node, perBlock int) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-n.Mempool.Wait():
			}
			blk, err := c.CommitBlock(n.Mempool.Reap(perBlock, 4<<20))
			if err != nil {
				tb.Error(err)
				return
			}
			n.Committed(blk, nil)
			n.Mempool.Remove(blk.TxHashes(), nil)
		}
	}()
	tb.Cleanup(func() {
		cancel()
		<-done
	})
}

// TestSubmitWaitManyClients: through the real HTTP server, many clients
// waiting at once with POST /v1/operations?wait=30s (each woken by its
// own operation's commit, node.Node.WaitStatus) all get 200 with the
// height of the block that holds their operation, as GET
// /v1/operations/{hash} reports it; clients waiting on one pending
// operation with GET /v1/operations/{hash}?wait=30s all get that height.
func TestSubmitWaitManyClients(t *testing.T) {
	s := mustChainServer(t, 1, nil, nil)
	const ops, same = 120, 4
	txs, _, err := registrytest.CreateOps(5000, ops)
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		i    int
		code int
		resp api.SubmitResponse
	}
	answers := make(chan answer, ops+same)
	var wg sync.WaitGroup
	post := func(i int) {
		resp, err := http.Post(s.url+"/v1/operations?wait=30s", "application/json", bytes.NewReader(txs[i].Payload))
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		var r api.SubmitResponse
		if resp.StatusCode == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
				t.Error(err)
			}
		}
		answers <- answer{i, resp.StatusCode, r}
	}
	// Operation 0 is pending before anything is committed; `same`
	// clients wait on it.
	if code, resp, problem := submitted(t, s, txs[0].Payload); code != http.StatusAccepted {
		t.Fatalf("operation 0: HTTP %d %v %v", code, resp, problem)
	}
	for range same {
		wg.Go(func() {
			code, _, body := s.get(t, "/v1/operations/"+txs[0].Hash().String()+"?wait=30s")
			var st node.TxStatus
			if code != http.StatusOK || json.Unmarshal(body, &st) != nil {
				t.Errorf("waiting on operation 0: HTTP %d %s", code, body)
			}
			answers <- answer{0, code, api.SubmitResponse{Hash: st.Hash, Status: st.Status, Height: st.Height}}
		})
	}
	for i := 1; i < ops; i++ {
		wg.Go(func() { post(i) })
	}
	commitPending(t, s.chain, s.node, 8)
	wg.Wait()
	close(answers)
	heights := map[int]uint64{}
	for a := range answers {
		if a.code != http.StatusOK || a.resp.Status != node.TxCommitted || a.resp.Height == 0 || a.resp.Hash != txs[a.i].Hash() {
			t.Fatalf("operation %d: HTTP %d %+v", a.i, a.code, a.resp)
		}
		if h, ok := heights[a.i]; ok && h != a.resp.Height {
			t.Fatalf("operation %d: heights %d and %d", a.i, h, a.resp.Height)
		}
		heights[a.i] = a.resp.Height
	}
	if len(heights) != ops {
		t.Fatalf("%d operations answered, want %d", len(heights), ops)
	}
	for i, h := range heights {
		code, _, body := s.get(t, "/v1/operations/"+txs[i].Hash().String())
		var st node.TxStatus
		if code != http.StatusOK || json.Unmarshal(body, &st) != nil || st.Status != node.TxCommitted || st.Height != h {
			t.Fatalf("operation %d: GET says HTTP %d %s, the wait said height %d", i, code, body, h)
		}
	}
	if s.chain.State().Height < ops/8 {
		t.Fatalf("%d blocks: the operations were not spread over many blocks", s.chain.State().Height)
	}
}
