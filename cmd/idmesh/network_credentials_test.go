package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/verifier"
)

// TestCredentialsAcrossNodes runs four validator processes: an issuer on
// one node, verification on another that reads the status list from its
// own copy of the chain, a revocation seen there, and a trust change that
// needs signatures from three of the four validators.
func TestCredentialsAcrossNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("processes")
	}
	const token = "test-token-for-every-node"
	t.Setenv("IDMESH_API_TOKEN", token)
	t.Setenv("IDMESH_ISSUER_PASSPHRASE", "issuer passphrase")
	procs := startTestnet(t, t.TempDir(), 4, nil)
	var nodes []devNode
	for _, p := range procs {
		nodes = append(nodes, devNode{proc: p, token: token})
	}
	issuing, verifying := nodes[0], nodes[3]
	uni := issuing.createIssuer(t, "uni")
	vc := issuing.issue(t, degree(uni), nil)
	verifying.waitHeight(t, issuing.status(t).Height, 30*time.Second)
	res, code := verifying.verify(t, vc, nil)
	if code != http.StatusOK || res.StatusHeight == 0 {
		t.Fatalf("verify on another node: %d %+v", code, res.ProblemDetails)
	}

	id, _ := vc["id"].(string)
	r := issuing.setStatus(t, id, "revocation", true)
	if r.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	revokedAt := decode[struct{ Height uint64 }](t, r).Height
	verifying.waitHeight(t, revokedAt, 30*time.Second)
	res, code = verifying.verify(t, vc, nil)
	wantFailure(t, res, code, credential.CredentialRevoked)
	if res.StatusHeight < revokedAt {
		t.Fatalf("read at height %d, revoked at %d", res.StatusHeight, revokedAt)
	}
	// Any node serves the list.
	entries, _ := vc["credentialStatus"].([]any)
	u, _ := entries[0].(map[string]any)["statusListCredential"].(string)
	if r := get(t, nodes[2].url+u[strings.Index(u, "/status-lists/"):], ""); r.status != http.StatusOK {
		t.Fatalf("list from a third node: %d", r.status)
	}

	// Trust: each validator adds its signature; the third one commits.
	body := map[string]any{"action": "add", "issuer": uni, "types": []string{"ExampleDegreeCredential"}}
	for i, want := range []int{http.StatusAccepted, http.StatusAccepted, http.StatusCreated} {
		r := authPost(t, nodes[i].url+"/v1/trust", token, body)
		if r.status != want {
			t.Fatalf("trust at validator %d: %d %s", i, r.status, r.body)
		}
		if r.status == http.StatusAccepted {
			body = map[string]any{"change": decode[struct {
				Change map[string]any `json:"change"`
			}](t, r).Change}
		}
	}
	verifying.waitHeight(t, issuing.status(t).Height, 30*time.Second)
	res, _ = verifying.verify(t, issuing.issue(t, degree(uni), nil), map[string]any{"checks": []any{"trust"}})
	if !res.Verified || !hasCheck(res, verifier.CheckTrust) {
		t.Fatalf("trust check on another node: %+v", res.ProblemDetails)
	}
	for _, n := range nodes {
		n.stop()
	}
}
