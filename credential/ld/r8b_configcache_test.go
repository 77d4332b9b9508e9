package ld_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential/ld"
	"github.com/idmesh/idmesh/did/strictjson"
)

// TestR8bConfigCachePinsRequest (security review R8, part VJ): the
// process-wide proof-configuration templates (configTemplates and
// configNone, 256 keys each) are keyed by the configuration's own
// strings: @context (one URL), type, cryptosuite, proofPurpose and the
// verificationMethod's scheme. Since the verify handler decodes its body
// with strictjson.ObjectString, each is a substring of the whole request
// body: a client that sends proofs of new shapes (before any signature
// is checked) makes the cache keep up to 512 request bodies.
func TestR8bConfigCachePinsRequest(t *testing.T) {
	heap := settledHeap
	padding := strings.Repeat("A", 200<<10)
	config := func(i int) {
		b, _ := json.Marshal(map[string]any{"padding": padding, "proof": map[string]any{
			"@context": []any{"https://www.w3.org/ns/credentials/v2"}, "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
			"proofPurpose": "assertionMethod", "verificationMethod": fmt.Sprintf("s%d:key#1", i)}})
		body, err := strictjson.ObjectString(string(b), 0)
		if err != nil {
			t.Fatal(err)
		}
		cfg := body["proof"].(map[string]any)
		if _, err := ld.CanonicalizeConfig(t.Context(), cfg, ld.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	config(0)
	before := heap()
	const n = 32
	for i := range n {
		config(i + 1)
	}
	grown := int64(heap()) - int64(before)
	t.Logf("%d configurations of new shapes: heap grew %d KiB (%d KiB each)", n, grown>>10, grown/n>>10)
	if grown > n*(32<<10) {
		t.Fatalf("the configuration templates hold %d KiB after %d requests: each keeps its %d KiB body", grown>>10, n, len(padding)>>10)
	}
}
