package main

import (
	"net/http"
	"sync"
	"testing"

	"github.com/idmesh/idmesh/credential"
)

// TestVerifyHTTPStatusAtOnce: the node keeps each status list version it
// verified, and its issuer's keys, until a block changes them; a
// revocation or suspension counts for the very next verification over
// HTTP once POST /credentials/status has answered (no TTL to wait out),
// however many verifications ran before it and run beside it, for vc+jwt
// and eddsa-rdfc-2022 credentials as the node issues them.
func TestVerifyHTTPStatusAtOnce(t *testing.T) {
	// No per-client rate: one client sends many verifications here.
	n := startDevNode(t, "--verify-rate", "-1")
	uni := n.createIssuer(t, "uni")
	for _, format := range []string{"vc+jwt", "eddsa-rdfc-2022"} {
		t.Run(format, func(t *testing.T) {
			suspendMe := n.issue(t, degree(uni), map[string]any{"format": format})
			revokeMe := n.issue(t, degree(uni), map[string]any{"format": format})
			ids := map[string]string{}
			// Warm the node's caches from several connections at once.
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for range 5 {
						for _, vc := range []map[string]any{suspendMe, revokeMe} {
							if res, code := n.verify(t, vc, nil); code != http.StatusOK || res.StatusHeight == 0 {
								t.Errorf("verify: %d %+v", code, res.ProblemDetails)
							}
						}
					}
				})
			}
			wg.Wait()
			for name, vc := range map[string]map[string]any{"suspend": suspendMe, "revoke": revokeMe} {
				res, _ := n.verify(t, vc, nil)
				ids[name], _ = res.Document["id"].(string)
			}
			steps := []struct {
				id, purpose string
				set         bool
				vc          map[string]any
				want        credential.Code // "" verified
			}{
				{ids["suspend"], "suspension", true, suspendMe, credential.CredentialSuspended},
				{ids["suspend"], "suspension", false, suspendMe, ""},
				{ids["revoke"], "revocation", true, revokeMe, credential.CredentialRevoked},
			}
			for _, s := range steps {
				r := n.setStatus(t, s.id, s.purpose, s.set)
				if r.status != http.StatusOK {
					t.Fatalf("%s=%t: %d %s", s.purpose, s.set, r.status, r.body)
				}
				h := uint64(decode[struct {
					Height float64 `json:"height"`
				}](t, r).Height)
				// The next verification, and every one after it.
				for range 3 {
					res, code := n.verify(t, s.vc, nil)
					if res.StatusHeight < h {
						t.Fatalf("%s=%t committed at %d, status read at %d", s.purpose, s.set, h, res.StatusHeight)
					}
					if s.want == "" {
						if code != http.StatusOK {
							t.Fatalf("after %s=%t: %d %+v", s.purpose, s.set, code, res.ProblemDetails)
						}
						continue
					}
					wantFailure(t, res, code, s.want)
				}
			}
			// The other credential of the revoked one's lists is unaffected.
			if res, code := n.verify(t, suspendMe, nil); code != http.StatusOK {
				t.Fatalf("the other credential: %d %+v", code, res.ProblemDetails)
			}
		})
	}
}
