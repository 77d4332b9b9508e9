package api_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/wallet"
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

// TestOID4VCIProofExp: a proof's exp, when present, must be a number not
// past beyond the clock skew (one minute): an expired proof is
// invalid_proof; one that expired within the skew, one expiring later,
// and one without exp are accepted; exp beyond float range counts as far
// past or far future, a string is refused.
func TestOID4VCIProofExp(t *testing.T) {
	s := newVCIServer(t)
	h := s.holder(t, wallet.MethodKey)
	nonce := func() string {
		a := post(t, s.c, s.url+"/nonce", nil)
		var n struct {
			CNonce string `json:"c_nonce"`
		}
		if a.status != http.StatusOK || json.Unmarshal(a.body, &n) != nil {
			t.Fatalf("nonce: %d %s", a.status, a.body)
		}
		return n.CNonce
	}
	proof := func(exp any) string {
		c := map[string]any{"aud": s.url, "iat": sdNow.Unix(), "nonce": nonce()}
		if exp != nil {
			c["exp"] = exp
		}
		return signJWT(t, h.Key, map[string]any{"alg": "EdDSA", "typ": api.ProofTypeJWT, "jwk": h.Key.Public().JWK()}, c)
	}
	request := func(proof string) answer {
		o := s.offer(t, map[string]any{"credential_configuration_id": api.GenericConfiguration, "claims": map[string]any{"name": "Alice"}})
		body, _ := json.Marshal(map[string]any{"credential_configuration_id": api.GenericConfiguration, "proofs": map[string]any{"jwt": []string{proof}}})
		return post(t, s.c, s.url+"/credential", body, "Authorization", "Bearer "+s.tokenFor(t, o))
	}
	for name, tc := range map[string]struct {
		exp  any
		want string // "" for accepted
	}{
		"expired":                {sdNow.Add(-2 * time.Minute).Unix(), "invalid_proof"},
		"expired a second ago":   {json.Number("1780315199"), ""},
		"expired beyond skew":    {sdNow.Add(-61 * time.Second).Unix(), "invalid_proof"},
		"expires at the skew":    {sdNow.Add(-time.Minute).Unix(), "invalid_proof"},
		"expires later":          {sdNow.Add(time.Minute).Unix(), ""},
		"no exp":                 {nil, ""},
		"far future beyond f64":  {json.Number("1e400"), ""},
		"far past beyond f64":    {json.Number("-1e400"), "invalid_proof"},
		"fractional, just valid": {json.Number(strconv.FormatInt(sdNow.Add(-time.Minute).Unix(), 10) + ".5"), ""},
		"a string":               {"2030-01-01", "invalid_proof"},
		"null":                   {json.RawMessage("null"), "invalid_proof"},
	} {
		t.Run(name, func(t *testing.T) {
			a := request(proof(tc.exp))
			if tc.want == "" {
				if a.status != http.StatusOK {
					t.Fatalf("%d %s", a.status, a.body)
				}
				return
			}
			if a.status != http.StatusBadRequest || oauthError(t, a) != tc.want {
				t.Fatalf("%d %s; want %s", a.status, a.body, tc.want)
			}
			if !bytes.Contains(a.body, []byte("exp")) {
				t.Errorf("the description does not name exp: %s", a.body)
			}
		})
	}
}

// TestOfferPathNotLogged: a credential offer's path is a bearer secret
// (it serves the pre-authorized code), so the debug log of HTTP
// requests shows the route, never the offer's ID or its code, whether
// the offer is served or unknown (a wrong method is not logged at all).
func TestOfferPathNotLogged(t *testing.T) {
	var logs lockedBuffer
	clock := &fakeClock{t: sdNow}
	sd := newSDServer(t, func(c *api.Config) {
		c.Now = clock.Now
		c.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	sd.issuerNamed(t, "uni")
	s := &vciServer{sdServer: sd, clock: clock}
	o := s.offer(t, map[string]any{"credential_configuration_id": api.GenericConfiguration, "claims": map[string]any{"name": "Alice"}})
	id := o.CredentialOfferURI[strings.LastIndex(o.CredentialOfferURI, "/")+1:]
	if len(id) < 20 {
		t.Fatalf("offer URI %s", o.CredentialOfferURI)
	}
	code := s.code(t, o) // GET, served
	if resp, err := s.c.Get(s.url + api.CredentialOffersPath + "unknown-offer-id"); err == nil {
		resp.Body.Close()
	}
	post(t, s.c, o.CredentialOfferURI, nil) // another method: 405, not logged
	// The log line of a request is written as its handler returns: wait
	// for both GETs.
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(logs.String(), "path="+api.CredentialOffersPath+"{id}") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no offer request logged:\n%s", logs.String())
		}
		runtime.Gosched()
	}
	for _, secret := range []string{id, code, "unknown-offer-id"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log shows %q:\n%s", secret, logs.String())
		}
	}
}
