package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/idmesh/idmesh/api"
)

// TestChallengesRateLimited: challenges share the verification rate of
// a client (a presentation costs one of each), with 429 and Retry-After
// beyond it; a caller with the API token is exempt.
func TestChallengesRateLimited(t *testing.T) {
	ts, _, clock := limitServer(t, func(c *api.Config) { c.VerifyRate, c.VerifyBurst = 0.5, 3 })
	body := []byte(`{"domain":"example.com"}`)
	for i := range 2 {
		if a := post(t, ts.Client(), ts.URL+"/challenges", body); a.status != http.StatusCreated {
			t.Fatalf("challenge %d: %d %s", i, a.status, a.body)
		}
	}
	if a := post(t, ts.Client(), ts.URL+"/credentials/verify", []byte(`{"verifiableCredential":{}}`)); a.status == http.StatusTooManyRequests {
		t.Fatal("429 within the burst")
	}
	for _, p := range []string{"/challenges", "/credentials/verify"} {
		a := post(t, ts.Client(), ts.URL+p, body)
		if pr := problemOf(t, a, http.StatusTooManyRequests); pr.Type != api.ProblemTooManyRequests || a.header.Get("Retry-After") == "" {
			t.Fatalf("%s over the rate: %+v, Retry-After %q", p, pr, a.header.Get("Retry-After"))
		}
	}
	if a := post(t, ts.Client(), ts.URL+"/challenges", body, "Authorization", "Bearer secret"); a.status != http.StatusCreated {
		t.Fatalf("a caller with the API token: %d %s", a.status, a.body)
	}
	clock.Add(2 * time.Second)
	if a := post(t, ts.Client(), ts.URL+"/challenges", body); a.status != http.StatusCreated {
		t.Fatalf("after the refill: %d %s", a.status, a.body)
	}
}
