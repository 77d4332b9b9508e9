package main

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/idmesh/idmesh/verifier"
)

// TestVerifyHTTPProofConfigForgeries (issue 18, goal 1): through the
// binary, an eddsa-rdfc-2022 credential whose proof options were changed
// (each canonicalized from a template, credential/ld's CanonicalizeConfig)
// is refused, interleaved from several connections with the genuine one,
// which verifies every time.
func TestVerifyHTTPProofConfigForgeries(t *testing.T) {
	n := startDevNode(t, "--verify-rate", "-1")
	uni := n.createIssuer(t, "uni")
	mill := n.createIssuer(t, "mill")
	genuine := n.issue(t, degree(uni), map[string]any{"format": "eddsa-rdfc-2022"})
	other := n.issue(t, degree(mill), map[string]any{"format": "eddsa-rdfc-2022"})
	proof, _ := genuine["proof"].(map[string]any)
	created, _ := proof["created"].(string)
	at, err := time.Parse(time.RFC3339, created)
	if err != nil {
		t.Fatalf("proof %v: %v", proof, err)
	}
	forge := func(member string, v any) map[string]any {
		raw, _ := json.Marshal(genuine)
		var vc map[string]any
		_ = json.Unmarshal(raw, &vc)
		vc["proof"].(map[string]any)[member] = v
		return vc
	}
	forgeries := map[string]map[string]any{
		"created a second later":           forge("created", at.Add(time.Second).UTC().Format(time.RFC3339)),
		"created the same instant, longer": forge("created", at.UTC().Format("2006-01-02T15:04:05.000Z07:00")),
		"another issuer's key":             forge("verificationMethod", other["proof"].(map[string]any)["verificationMethod"]),
		"another key of the issuer":        forge("verificationMethod", uni+"#key-2"),
		"another purpose":                  forge("proofPurpose", "authentication"),
		"another cryptosuite":              forge("cryptosuite", "eddsa-jcs-2022"),
		"another issuer's proof value":     forge("proofValue", other["proof"].(map[string]any)["proofValue"]),
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 2 {
				for name, vc := range forgeries {
					r := authPost(t, n.url+"/credentials/verify", "", map[string]any{"verifiableCredential": vc})
					var res verifier.Result
					if err := json.Unmarshal(r.body, &res); err != nil || r.status != http.StatusBadRequest || res.Verified || len(res.ProblemDetails) == 0 {
						t.Errorf("%s: %d %s", name, r.status, r.body)
					}
					if r := authPost(t, n.url+"/credentials/verify", "", map[string]any{"verifiableCredential": genuine}); r.status != http.StatusOK {
						t.Errorf("genuine after %s: %d %s", name, r.status, r.body)
					}
				}
			}
		})
	}
	wg.Wait()
}
