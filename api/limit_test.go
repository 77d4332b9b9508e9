package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/ld/ldtest"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/verifier"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// limitServer serves the API on loopback (port 0) with did:key
// resolution, a fake clock and a metrics registry.
func limitServer(t *testing.T, mutate func(*api.Config)) (*httptest.Server, *api.Server, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
	cfg := api.Config{Ledger: newFakeLedger(), Resolver: key.Resolver{}, Version: "v0.0.0-test", ResolveCacheBytes: -1,
		Now: clock.Now, Registry: prometheus.NewRegistry(), APIToken: "secret"}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := api.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(validated(t, s))
	t.Cleanup(ts.Close)
	return ts, s, clock
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func post(t *testing.T, c *http.Client, u string, body []byte, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		t.Error(err)
		return answer{}
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Error(err)
		return answer{}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Error(err)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

// problemOf decodes a problem+json answer.
func problemOf(t *testing.T, a answer, status int) api.Problem {
	t.Helper()
	if a.status != status || a.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("status %d (%s), want %d problem+json: %s", a.status, a.header.Get("Content-Type"), status, a.body)
	}
	var p api.Problem
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// metric returns the value of one line of /metrics, or "".
func metric(t *testing.T, ts *httptest.Server, line string) string {
	t.Helper()
	resp, err := ts.Client().Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, line+" "); ok {
			return v
		}
	}
	return ""
}

// verifyPaths are the unauthenticated verification endpoints.
var verifyPaths = []string{
	"/credentials/verify", "/issuers/acme/eddsa-rdfc-2022/credentials/verify",
	"/presentations/verify", "/issuers/acme/eddsa-rdfc-2022/presentations/verify",
}

// TestVerifyHostileCredential: the 200 KB eddsa-rdfc-2022
// credential (20,000 identical objects; 6 s of CPU per request on main)
// is answered at once with LIMIT_EXCEEDED_ERROR from the parse check,
// before any JSON-LD work, and so is every hostile shape.
func TestVerifyHostileCredential(t *testing.T) {
	ts, _, _ := limitServer(t, func(c *api.Config) { c.VerifyRate = -1 })
	for _, sh := range ldtest.Shapes() {
		if !sh.Refused {
			continue
		}
		t.Run(sh.Name, func(t *testing.T) {
			body := []byte(`{"verifiableCredential":` + string(ldtest.Credential(sh.Subject)) + `}`)
			a := post(t, ts.Client(), ts.URL+"/credentials/verify", body)
			if sh.Name == "deep" { // refused sooner, by strictjson's depth bound
				if pr := problemOf(t, a, http.StatusBadRequest); pr.Type != api.ProblemInvalidJSON {
					t.Fatalf("problem %+v", pr)
				}
				return
			}
			var res verifier.Result
			if a.status != http.StatusBadRequest || json.Unmarshal(a.body, &res) != nil {
				t.Fatalf("status %d: %.300s", a.status, a.body)
			}
			if res.Verified || len(res.ProblemDetails) == 0 || res.ProblemDetails[0].Type != credential.LimitExceededError.Type() {
				t.Fatalf("problems %+v", res.ProblemDetails)
			}
		})
	}
	// The credential: refused at parse, nothing else ran.
	body := []byte(`{"verifiableCredential":` + string(ldtest.Credential(ldtest.Shapes()[0].Subject)) + `}`)
	if len(body) < 200_000 {
		t.Fatalf("the credential is %d bytes", len(body))
	}
	var res verifier.Result
	a := post(t, ts.Client(), ts.URL+"/credentials/verify", body)
	if err := json.Unmarshal(a.body, &res); err != nil || a.status != http.StatusBadRequest {
		t.Fatalf("status %d: %v", a.status, err)
	}
	if len(res.Results) != 1 || res.Results[0].Check != verifier.CheckParse || res.Results[0].Problem.Type != credential.LimitExceededError.Type() {
		t.Fatalf("results %+v", res.Results)
	}
}

// loopbackClient dials from another loopback address, a second client.
func loopbackClient(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c, err := d.Dial("tcp", "127.0.0.1:0")
	if err == nil {
		c.Close()
	}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// TestVerifyRateLimit: a client over its rate gets 429 with Retry-After
// on every verification endpoint, while another client, and a caller
// with the API token, are still served; the bucket refills with the
// (fake) clock.
func TestVerifyRateLimit(t *testing.T) {
	ts, _, clock := limitServer(t, func(c *api.Config) { c.VerifyRate, c.VerifyBurst = 0.5, 4 })
	other := loopbackClient(t, "127.0.0.2")
	if _, err := other.Get(ts.URL + "/healthz"); err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	body := []byte(`{"verifiableCredential":{}}`)
	for _, p := range verifyPaths {
		if a := post(t, ts.Client(), ts.URL+p, body); a.status == http.StatusTooManyRequests {
			t.Fatalf("%s: 429 within the burst", p)
		}
	}
	for _, p := range verifyPaths {
		a := post(t, ts.Client(), ts.URL+p, body)
		pr := problemOf(t, a, http.StatusTooManyRequests)
		if pr.Type != api.ProblemTooManyRequests || a.header.Get("Retry-After") != "2" {
			t.Fatalf("%s: %+v, Retry-After %q", p, pr, a.header.Get("Retry-After"))
		}
	}
	if a := post(t, other, ts.URL+"/credentials/verify", body); a.status == http.StatusTooManyRequests {
		t.Fatal("another client got 429")
	}
	if a := post(t, ts.Client(), ts.URL+"/credentials/verify", body, "Authorization", "Bearer secret"); a.status == http.StatusTooManyRequests {
		t.Fatal("a caller with the API token got 429")
	}
	clock.Add(2 * time.Second)
	if a := post(t, ts.Client(), ts.URL+"/credentials/verify", body); a.status == http.StatusTooManyRequests {
		t.Fatal("429 after the refill")
	}
	if got := metric(t, ts, `idmesh_verify_refusals_total{reason="rate"}`); got != "4" {
		t.Fatalf("rate refusals counted %q, want 4", got)
	}
}

// TestVerifyConcurrencyLimit: with every slot held (by a blocking hook,
// not by timing), a verification gets 503 with Retry-After on every
// endpoint; once the slots are free, the held requests are answered and
// new ones served.
func TestVerifyConcurrencyLimit(t *testing.T) {
	const slots = 2
	ts, s, _ := limitServer(t, func(c *api.Config) {
		c.VerifyRate, c.VerifyConcurrency, c.VerifyWait = -1, slots, 5*time.Millisecond
	})
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var calls atomic.Int32
	api.SetVerifyHeld(s, func() {
		if calls.Add(1) <= slots { // the holders
			entered <- struct{}{}
			<-release
		}
	})
	defer once.Do(func() { close(release) })
	body := []byte(`{"verifiableCredential":{}}`)
	var wg sync.WaitGroup
	held := make([]answer, slots)
	answered := make(chan struct{}, slots)
	for i := range slots {
		wg.Go(func() {
			// With the API token: one client holds more than one slot.
			held[i] = post(t, ts.Client(), ts.URL+"/credentials/verify", body, "Authorization", "Bearer secret")
			answered <- struct{}{}
		})
	}
	for range slots {
		select {
		case <-entered:
		case <-answered:
			t.Fatal("a request was answered without holding a verification slot")
		}
	}
	for _, p := range verifyPaths {
		a := post(t, ts.Client(), ts.URL+p, body, "Authorization", "Bearer secret")
		pr := problemOf(t, a, http.StatusServiceUnavailable)
		if pr.Type != api.ProblemVerifierBusy || a.header.Get("Retry-After") != "1" {
			t.Fatalf("%s: %+v, Retry-After %q", p, pr, a.header.Get("Retry-After"))
		}
	}
	once.Do(func() { close(release) })
	wg.Wait()
	for i, a := range held {
		if a.status != http.StatusBadRequest { // {} is not a credential
			t.Fatalf("holder %d: status %d %s", i, a.status, a.body)
		}
	}
	if a := post(t, ts.Client(), ts.URL+"/credentials/verify", body); a.status != http.StatusBadRequest {
		t.Fatalf("after the release: status %d", a.status)
	}
	if got := metric(t, ts, `idmesh_verify_refusals_total{reason="busy"}`); got != "4" {
		t.Fatalf("busy refusals counted %q, want 4", got)
	}
}
