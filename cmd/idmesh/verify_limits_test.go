package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/ld/ldtest"
	"github.com/idmesh/idmesh/verifier"
)

// TestVerifyLimitsE2E (issue 10, item 4) through the binary: the 200 KB
// eddsa-rdfc-2022 credential of 20,000 identical objects (6 s of CPU per
// request on main) is refused with LIMIT_EXCEEDED_ERROR before any
// JSON-LD work, and --verify-rate/--verify-burst limit a client without
// the API token (429 with Retry-After), not one with it. The rate is so
// low that no token comes back during the test.
func TestVerifyLimitsE2E(t *testing.T) {
	n := startDevNode(t, "--verify-rate", "0.001", "--verify-burst", "1")
	body := map[string]any{"verifiableCredential": json.RawMessage(ldtest.Credential(ldtest.Shapes()[0].Subject))}
	r := authPost(t, n.url+"/credentials/verify", "", body)
	res := decode[verifier.Result](t, r)
	if r.status != http.StatusBadRequest || len(res.Results) != 1 || res.Results[0].Check != verifier.CheckParse ||
		res.ProblemDetails[0].Type != credential.LimitExceededError.Type() {
		t.Fatalf("status %d, results %+v", r.status, res.Results)
	}
	r = authPost(t, n.url+"/presentations/verify", "", map[string]any{"verifiablePresentation": map[string]any{}})
	if r.status != http.StatusTooManyRequests || !strings.Contains(string(r.body), api.ProblemTooManyRequests) {
		t.Fatalf("over the rate: %d %s", r.status, r.body)
	}
	if r := authPost(t, n.url+"/credentials/verify", n.token, body); r.status != http.StatusBadRequest {
		t.Fatalf("with the API token: %d %s", r.status, r.body)
	}
}
