package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// TestR8bVerifyRequestsPinned (security review R8, part VJ): POST
// /credentials/verify decodes its body with strictjson.ObjectString, so
// every string of the credential is a substring of the whole body. The
// process-wide proof-configuration templates of credential/ld keep the
// proof's type, cryptosuite and proofPurpose strings in their keys (up to
// 512 keys, never freed but by eviction): each request whose
// configuration has a shape not seen yet (here: another list of bundled
// contexts, without created) keeps its whole body after the response,
// however small what the cache means to keep; the signature need not
// verify (it is checked after the canonicalization). A client pins up to
// 512 bodies (MaxBodyBytes each, 256 KiB by default: 128 MiB).
func TestR8bVerifyRequestsPinned(t *testing.T) {
	k, err := keys.Generate(keys.Ed25519, rand.NewChaCha8([32]byte{88}))
	if err != nil {
		t.Fatal(err)
	}
	d := key.New(k.Public())
	signer := credential.KeySigner{ID: d + "#" + k.Public().Multibase(), Key: k}
	c, err := registrytest.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n, err := node.New(c.Chain, node.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.NewServer(api.Config{Ledger: n, Resolver: did.Methods{"key": key.Resolver{}}, VerifyRate: -1, Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	padding := strings.Repeat("A", 180<<10)
	// Lists of contexts that issue and verify: v2, the examples, and
	// any subset of a few others (each another configuration key).
	extra := []string{"https://www.w3.org/ns/credentials/status/v1", "https://www.w3.org/ns/credentials/undefined-terms/v2",
		"https://w3id.org/security/data-integrity/v2", "https://w3id.org/security/multikey/v1", "https://w3id.org/security/jwk/v1",
		"https://www.w3.org/ns/did/v1", "https://w3id.org/vc/status-list/2021/v1"}
	next := 0
	body := func(int) []byte {
		for ; next < 1<<len(extra); next++ {
			cred := benchCredential(d)
			ctxs := []any{"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"}
			for j, u := range extra {
				if next&(1<<j) != 0 {
					ctxs = append(ctxs, u)
				}
			}
			cred["@context"] = ctxs
			cred["credentialSubject"].(map[string]any)["degree"].(map[string]any)["name"] = padding
			vc, err := issuer.Issue(context.Background(), cred, signer, issuer.Options{Format: issuer.FormatRDFC, Now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
			if err != nil {
				continue
			}
			next++
			// Without created: a configuration shape that issuing
			// (which canonicalized this one with created) left unseen.
			// The signature no longer verifies; the configuration is
			// canonicalized before it is checked.
			delete(vc["proof"].(map[string]any), "created")
			b, _ := json.Marshal(map[string]any{"verifiableCredential": vc})
			return b
		}
		t.Fatal("not enough context lists")
		return nil
	}
	verify := func(b []byte) {
		resp, err := ts.Client().Post(ts.URL+"/credentials/verify", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Contains(out, []byte(`signature`)) {
			t.Fatalf("verify: %d %.300s", resp.StatusCode, out)
		}
	}
	const m = 12
	bodies := make([][]byte, m+1)
	for i := range bodies {
		bodies[i] = body(i + 1)
	}
	verify(bodies[0])
	bodies[0] = nil
	heap := settledHeap
	before := heap()
	for i := 1; i <= m; i++ {
		verify(bodies[i])
		bodies[i] = nil // only the server may keep it now
	}
	grown := int64(heap()) + int64(m)*int64(len(padding)) - int64(before) // the bodies dropped were counted before
	t.Logf("%d verifications: %d KiB kept (%d KiB each)", m, grown>>10, grown/m>>10)
	if grown > m*(48<<10) {
		t.Fatalf("%d verifications left %d KiB in the server: each kept its %d KiB request body", m, grown>>10, len(padding)>>10)
	}
}
