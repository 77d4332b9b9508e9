package main

import (
	"crypto/rand"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/node"
)

// TestBlockQuiet: a node whose blocks wait 3 s for transactions after a
// commit (--block-interval) starts the next block once at least
// node.QuietMinTxs are pending and its mempool is quiet (--block-quiet,
// 10 ms by default), from a fifth of the interval on: a batch of creates
// sent after a first block commits in well under the 3 s, and with
// --block-quiet 0 in no less. A negative or sub-millisecond
// --block-quiet is a usage error (exit 2, one line).
func TestBlockQuiet(t *testing.T) {
	for _, bad := range []string{"-1ms", "500us"} {
		_, errOut, code := cli(t, "", "", "dev", "--home", t.TempDir(), "--http", "127.0.0.1:0", "--block-quiet", bad)
		if code != 2 || !strings.Contains(errOut, "--block-quiet") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Fatalf("--block-quiet %s: exit %d: %q", bad, code, errOut)
		}
	}
	const interval = 3 * time.Second
	// batch creates k DIDs at once and returns how long they took to
	// commit.
	batch := func(n *proc, chainID string, k int) time.Duration {
		t.Helper()
		bodies := make([][]byte, k)
		for i := range bodies {
			key, _ := keys.Generate(keys.Ed25519, rand.Reader)
			ref := []did.Relationship{did.Ref("#key-1")}
			op := &idmesh.Operation{Type: idmesh.Create, Document: &did.Document{Context: []any{did.ContextV1, did.ContextMultikey},
				VerificationMethod: []did.VerificationMethod{did.NewMultikey("#key-1", "", key.Public())}, CapabilityInvocation: ref}}
			if err := op.Sign(chainID, "#key-1", key); err != nil {
				t.Fatal(err)
			}
			b, err := op.Encode()
			if err != nil {
				t.Fatal(err)
			}
			bodies[i] = b
		}
		start := time.Now()
		var wg sync.WaitGroup
		for _, b := range bodies {
			wg.Go(func() {
				if r := post(t, n.url+"/v1/operations?wait=60s", b); r.status != http.StatusOK {
					t.Errorf("create: %d %s", r.status, r.body)
				}
			})
		}
		wg.Wait()
		return time.Since(start)
	}
	for _, quiet := range []bool{true, false} {
		args := []string{"--block-interval", interval.String()}
		if !quiet {
			args = append(args, "--block-quiet", "0")
		}
		n := startDev(t, filepath.Join(t.TempDir(), "home"), args...)
		chainID := status(t, n.url).ChainID
		batch(n, chainID, 1) // the first block starts at once
		took := batch(n, chainID, node.QuietMinTxs)
		t.Logf("quiet %v: %d creates committed in %v", quiet, node.QuietMinTxs, took)
		// The interval runs from block 1's commit, before the batch is
		// signed and sent: half of it is a safe floor without the rule.
		if quiet && took >= interval*4/5 || !quiet && took < interval/2 {
			t.Fatalf("quiet %v: %d creates committed in %v, with a %v interval", quiet, node.QuietMinTxs, took, interval)
		}
	}
}
