package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/ld/ldtest"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/verifier"
)

// stallingWeb stands for a did:web host that never answers: each
// resolution is reported on started and then blocks until released or
// until its context ends (the verification's deadline).
type stallingWeb struct {
	started chan string
	release chan struct{}
}

func (s stallingWeb) Resolve(ctx context.Context, d string, _ did.Options) (*did.ResolutionResult, error) {
	s.started <- d
	select {
	case <-s.release:
		return nil, fmt.Errorf("resolve %s: %w", d, did.ErrNotFound)
	case <-ctx.Done():
		return nil, fmt.Errorf("fetch %s: %w", d, ctx.Err())
	}
}

// webCredential is ldtest's credential with its issuer and proof key
// moved to did:web:host.
func webCredential(host string) string {
	c := strings.ReplaceAll(string(ldtest.Credential(`{"id":"urn:x"}`)), ldtest.Signer().ID, "did:web:"+host+"#k")
	return strings.Replace(c, `"issuer":"did:key:`, `"issuer":"did:web:`+host+`","x":"`, 1)
}

// from names a client behind the test's trusted proxy (loopback).
func from(client string) []string { return []string{"X-Forwarded-For", client} }

// proxied trusts loopback as a proxy, so that requests name their client.
func proxied(c *api.Config) {
	c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

// TestVerifySlowKeyHoldsOneSlot is the review's H1: one client whose
// credentials name a did:web host that stalls took every verification
// slot (two requests on two slots) and every other client got 503. A
// client now holds one slot at a time: its second request waits for its
// own slot and gets 503, while another client is served.
func TestVerifySlowKeyHoldsOneSlot(t *testing.T) {
	web := stallingWeb{started: make(chan string, 4), release: make(chan struct{})}
	ts, _, _ := limitServer(t, func(c *api.Config) {
		proxied(c)
		c.Resolver = did.Methods{"key": key.Resolver{}, "web": web}
		c.VerifyConcurrency, c.VerifyClientSlots, c.VerifyWait, c.VerifyTimeout = 2, 1, 50*time.Millisecond, time.Minute
	})
	var once sync.Once
	defer once.Do(func() { close(web.release) })
	slow := []byte(`{"verifiableCredential":` + webCredential("tarpit.example") + `}`)
	attacker := make(chan answer, 2)
	go func() { attacker <- post(t, ts.Client(), ts.URL+"/credentials/verify", slow, from("192.0.2.1")...) }()
	<-web.started // the first request holds a slot, stalled on the key
	go func() { attacker <- post(t, ts.Client(), ts.URL+"/credentials/verify", slow, from("192.0.2.1")...) }()
	select {
	case <-web.started:
		t.Fatal("the same client's second verification took a second slot")
	case a := <-attacker:
		if pr := problemOf(t, a, http.StatusServiceUnavailable); pr.Type != api.ProblemVerifierBusy {
			t.Fatalf("the second request: %+v", pr)
		}
	}
	good := []byte(`{"verifiableCredential":` + string(ldtest.Credential(`{"id":"urn:x"}`)) + `}`)
	v := post(t, ts.Client(), ts.URL+"/credentials/verify", good, from("192.0.2.2")...)
	if v.status == http.StatusServiceUnavailable || v.header.Get("Content-Type") != "application/json" {
		t.Fatalf("another client: %d %s", v.status, v.body)
	}
	once.Do(func() { close(web.release) })
	if a := <-attacker; a.status != http.StatusBadRequest {
		t.Fatalf("the stalled request: %d %s", a.status, a.body)
	}
}

// TestVerifyDeadline: a verification stalled on a did:web key ends by
// the verification's deadline (VerifyTimeout), answered with the
// verification result of a key that could not be resolved, and frees its
// slot.
func TestVerifyDeadline(t *testing.T) {
	web := stallingWeb{started: make(chan string, 4), release: make(chan struct{})}
	ts, _, _ := limitServer(t, func(c *api.Config) {
		c.Resolver = did.Methods{"key": key.Resolver{}, "web": web}
		c.VerifyConcurrency, c.VerifyTimeout = 1, 100*time.Millisecond
	})
	defer close(web.release)
	client := *ts.Client()
	client.Timeout = 30 * time.Second // on main the request never ends
	slow := []byte(`{"verifiableCredential":` + webCredential("tarpit.example") + `}`)
	for i := range 2 { // the second finds the slot free again
		a := post(t, &client, ts.URL+"/credentials/verify", slow)
		var res verifier.Result
		if err := json.Unmarshal(a.body, &res); err != nil || a.status != http.StatusBadRequest || res.Verified || len(res.ProblemDetails) == 0 {
			t.Fatalf("request %d: %d %s", i+1, a.status, a.body)
		}
		if d := res.ProblemDetails[0].Detail; !strings.Contains(d, "deadline") {
			t.Errorf("request %d: problem %q does not name the deadline", i+1, d)
		}
	}
}

// countingWeb counts did:web resolutions and finds none.
type countingWeb struct{ calls atomic.Int32 }

func (c *countingWeb) Resolve(_ context.Context, d string, _ did.Options) (*did.ResolutionResult, error) {
	c.calls.Add(1)
	return nil, fmt.Errorf("resolve %s: %w", d, did.ErrNotFound)
}

// TestVerifyWebDIDCap: a presentation (its holder's proof valid) of
// credentials naming 6 distinct did:web DIDs, one of them three times,
// makes at most MaxWebDIDsPerVerification fetches; the credentials past
// the cap fail with a problem that says why.
func TestVerifyWebDIDCap(t *testing.T) {
	web := &countingWeb{}
	ts, _, clock := limitServer(t, func(c *api.Config) {
		c.Resolver = did.Methods{"key": key.Resolver{}, "web": web}
	})
	var vcs []any
	for _, h := range []string{"a.example", "a.example", "a.example", "b.example", "c.example", "d.example", "e.example", "f.example"} {
		var m map[string]any
		if err := json.Unmarshal([]byte(webCredential(h)), &m); err != nil {
			t.Fatal(err)
		}
		vcs = append(vcs, m)
	}
	holder := ldtest.Signer()
	vp, err := dataintegrity.Sign(t.Context(), map[string]any{
		"@context": []any{credential.ContextV2}, "type": []any{credential.TypePresentation},
		"holder": strings.Split(holder.ID, "#")[0], "verifiableCredential": vcs,
	}, holder, dataintegrity.SignOptions{Cryptosuite: dataintegrity.CryptosuiteJCS, ProofPurpose: credential.PurposeAuthentication, Created: clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"verifiablePresentation": vp, "options": map[string]any{"checks": []any{"proof", "credentials"}}})
	a := post(t, ts.Client(), ts.URL+"/presentations/verify", body)
	var res verifier.Result
	if err := json.Unmarshal(a.body, &res); err != nil || len(res.Credentials) != len(vcs) {
		t.Fatalf("%d %s", a.status, a.body)
	}
	if !slicesHasVerified(res, verifier.CheckProof) {
		t.Fatalf("the holder's proof failed: %s", a.body)
	}
	if n := web.calls.Load(); n > api.MaxWebDIDsPerVerification {
		t.Errorf("%d did:web resolutions, want at most %d", n, api.MaxWebDIDsPerVerification)
	}
	capped := 0
	for _, cr := range res.Credentials {
		if cr.Verified {
			t.Fatal("a credential verified")
		}
		if len(cr.ProblemDetails) > 0 && strings.Contains(cr.ProblemDetails[0].Detail, "not fetched") {
			capped++
		}
	}
	if capped != 2 {
		t.Errorf("%d credentials refused past the cap, want 2", capped)
	}
}

func slicesHasVerified(res verifier.Result, check string) bool {
	for _, r := range res.Results {
		if r.Check == check && r.Verified {
			return true
		}
	}
	return false
}

// TestVerifySlowKeyGivesBackItsSlot: verifications stalled on did:web
// hosts, one from each of as many clients as there are slots, give their
// slots back while they wait, so that another client is still verified;
// the stalled ones finish once their hosts answer.
func TestVerifySlowKeyGivesBackItsSlot(t *testing.T) {
	const slots = 2
	web := stallingWeb{started: make(chan string, 4), release: make(chan struct{})}
	ts, _, _ := limitServer(t, func(c *api.Config) {
		proxied(c)
		c.Resolver = did.Methods{"key": key.Resolver{}, "web": web}
		c.VerifyConcurrency, c.VerifyWait, c.VerifyTimeout = slots, 50*time.Millisecond, time.Minute
	})
	var once sync.Once
	defer once.Do(func() { close(web.release) })
	slow := []byte(`{"verifiableCredential":` + webCredential("tarpit.example") + `}`)
	stalled := make(chan answer, slots)
	for _, addr := range []string{"192.0.2.1", "2001:db8:0:1::1"} {
		go func() { stalled <- post(t, ts.Client(), ts.URL+"/credentials/verify", slow, from(addr)...) }()
		<-web.started // this client's request waits on the did:web host
	}
	good := []byte(`{"verifiableCredential":` + string(ldtest.Credential(`{"id":"urn:x"}`)) + `}`)
	if v := post(t, ts.Client(), ts.URL+"/credentials/verify", good, from("198.51.100.7")...); v.status != http.StatusBadRequest || v.header.Get("Content-Type") != "application/json" {
		// The credential's signature is well-formed but wrong: a
		// verification result (400), not a refusal.
		t.Fatalf("another client, while %d clients wait on did:web hosts: %d %s", slots, v.status, v.body)
	}
	once.Do(func() { close(web.release) })
	for range slots {
		if a := <-stalled; a.status != http.StatusBadRequest {
			t.Fatalf("a stalled request: %d %s", a.status, a.body)
		}
	}
}
