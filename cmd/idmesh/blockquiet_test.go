package main

import (
	"crypto/rand"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
)

// TestBlockQuiet: a node whose blocks wait 10 s for transactions after a
// commit (--block-interval) starts the next block once its mempool is
// quiet (--block-quiet, 10 ms by default), from a fifth of the interval
// on: a DID created after a first block commits in about 2 s, not 10.
// A negative --block-quiet is a usage error (exit 2, one line).
func TestBlockQuiet(t *testing.T) {
	_, errOut, code := cli(t, "", "", "dev", "--home", t.TempDir(), "--http", "127.0.0.1:0", "--block-quiet", "-1ms")
	if code != 2 || !strings.Contains(errOut, "--block-quiet") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Fatalf("exit %d: %q", code, errOut)
	}

	n := startDev(t, filepath.Join(t.TempDir(), "home"), "--block-interval", "10s")
	chainID := status(t, n.url).ChainID
	create := func() time.Duration {
		t.Helper()
		k, _ := keys.Generate(keys.Ed25519, rand.Reader)
		ref := []did.Relationship{did.Ref("#key-1")}
		op := &idmesh.Operation{Type: idmesh.Create, Document: &did.Document{Context: []any{did.ContextV1, did.ContextMultikey},
			VerificationMethod: []did.VerificationMethod{did.NewMultikey("#key-1", "", k.Public())}, CapabilityInvocation: ref}}
		if err := op.Sign(chainID, "#key-1", k); err != nil {
			t.Fatal(err)
		}
		b, err := op.Encode()
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if r := post(t, n.url+"/v1/operations?wait=60s", b); r.status != http.StatusOK {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		return time.Since(start)
	}
	create() // the first block starts at once
	if took := create(); took >= 8*time.Second {
		t.Fatalf("the second create took %v: the block waited out the 10 s interval", took)
	} else {
		t.Logf("the second create committed in %v", took)
	}
}
