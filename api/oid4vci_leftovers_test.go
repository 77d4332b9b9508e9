package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/api"
)

// TestOID4VCITxCodeMissing: a token request without tx_code for a code
// that requires one is invalid_request and costs no attempt, however
// often it comes: afterwards MaxTxCodeAttempts-1 wrong codes still leave
// the right one working. A code without a transaction code ignores the
// parameter's absence, and an unknown code stays invalid_grant.
func TestOID4VCITxCodeMissing(t *testing.T) {
	s := newVCIServer(t)
	tok := func(form url.Values) answer { return postForm(t, s.c, s.url+"/token", form) }
	grant := func(code string) url.Values {
		return url.Values{"grant_type": {api.GrantPreAuthorizedCode}, "pre-authorized_code": {code}}
	}
	req := map[string]any{"credential_configuration_id": api.GenericConfiguration, "claims": map[string]any{"name": "Alice"}, "tx_code": "1234"}
	code := s.code(t, s.offer(t, req))
	for i := range 3 * api.MaxTxCodeAttempts {
		a := tok(grant(code))
		if a.status != http.StatusBadRequest || oauthError(t, a) != "invalid_request" || !strings.Contains(string(a.body), "tx_code") {
			t.Fatalf("request %d without tx_code: %d %s", i, a.status, a.body)
		}
	}
	for range api.MaxTxCodeAttempts - 1 {
		wrong := grant(code)
		wrong.Set("tx_code", "9999")
		if a := tok(wrong); a.status != http.StatusBadRequest || oauthError(t, a) != "invalid_grant" {
			t.Fatalf("wrong tx_code: %d %s", a.status, a.body)
		}
	}
	right := grant(code)
	right.Set("tx_code", "1234")
	if a := tok(right); a.status != http.StatusOK {
		t.Fatalf("right tx_code after %d requests without one and %d wrong: %d %s", 3*api.MaxTxCodeAttempts, api.MaxTxCodeAttempts-1, a.status, a.body)
	}

	plain := s.code(t, s.offer(t, map[string]any{"credential_configuration_id": api.GenericConfiguration, "claims": map[string]any{"name": "Bob"}}))
	if a := tok(grant(plain)); a.status != http.StatusOK {
		t.Errorf("a code without a transaction code: %d %s", a.status, a.body)
	}
	if a := tok(grant("forged")); a.status != http.StatusBadRequest || oauthError(t, a) != "invalid_grant" {
		t.Errorf("unknown code: %d %s", a.status, a.body)
	}
	// An expired code that required a transaction code is invalid_grant
	// (expired), not a request to retry with tx_code.
	expired := s.code(t, s.offer(t, req))
	s.clock.Add(api.DefaultOfferTTL)
	if a := tok(grant(expired)); a.status != http.StatusBadRequest || oauthError(t, a) != "invalid_grant" {
		t.Errorf("expired code: %d %s", a.status, a.body)
	}
}
