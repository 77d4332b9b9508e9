package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idmesh/idmesh/did/web"
)

// Webhook calls.
const (
	// WebhookSignatureHeader carries "sha256=" and the hex HMAC-SHA256
	// of WebhookTimestampHeader's value, ".", and the body, keyed by the
	// transaction's webhook_secret: receivers check it (in constant
	// time) and reject calls whose timestamp is more than a few minutes
	// from their clock, so that a captured call does not replay.
	WebhookSignatureHeader = "X-Idmesh-Signature"
	// WebhookTimestampHeader carries the Unix time (decimal seconds) at
	// which a webhook call was signed.
	WebhookTimestampHeader = "X-Idmesh-Timestamp"
	// WebhookTimeout bounds one webhook call.
	WebhookTimeout = 10 * time.Second
	// WebhookAttempts is how many times a call is tried (answers other
	// than 2xx and failures are retried, after 1s then 2s).
	WebhookAttempts = 3
	// maxWebhooksInFlight bounds the webhook deliveries under way; past
	// it a delivery is dropped (the result stays readable).
	maxWebhooksInFlight = 64
	// maxWebhooksPerHost bounds the deliveries under way to one host
	// (host and port), so that a relying party whose endpoint hangs (for
	// up to WebhookAttempts × WebhookTimeout a call) cannot take every
	// slot from the others.
	maxWebhooksPerHost = 8
)

// checkRPURL accepts a relying party's URL (a webhook, a redirect_uri):
// https, or http to a loopback address (tests, a relying party on the
// same host); absolute, without user info or fragment.
func checkRPURL(raw string) error {
	if raw == "" || len(raw) > MaxWebhookURLBytes {
		return fmt.Errorf("a URL of 1 to %d bytes is required", MaxWebhookURLBytes)
	}
	// RFC 3986 characters only (a space, quote, angle bracket or
	// non-ASCII byte is not a URI's), and no '#': a fragment, even an
	// empty one, is refused.
	for i := range len(raw) {
		if c := raw[i]; c >= 0x80 || !uriChar[c] {
			return fmt.Errorf("the URL holds %q, which a URI does not (RFC 3986; percent-encode it)", raw[i:i+1])
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || strings.Contains(raw, "#") {
		return errors.New("an absolute URL without user info or fragment is required")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q is not 1 to 65535", p)
		}
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return nil
		}
	}
	return errors.New("use https (http only to a loopback address)")
}

// uriChar marks the ASCII bytes a URI may hold (RFC 3986 section 2:
// unreserved, reserved and '%').
var uriChar = func() (t [128]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%" {
		t[c] = true
	}
	return t
}()

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}

// hookSender delivers webhook calls: https to public addresses only (the
// did:web dialer policy), http to loopback only; each call bounded in
// time and retried a few times, the deliveries under way bounded, in all
// and per host.
type hookSender struct {
	log      *slog.Logger
	public   *http.Client
	loopback *http.Client
	slots    chan struct{}
	backoff  time.Duration
	metrics  *vpMetrics
	now      func() time.Time // the timestamp of signatures

	mu      sync.Mutex
	perHost map[string]int // deliveries under way, by host (under mu)
}

func newHookSender(log *slog.Logger, m *vpMetrics, now func() time.Time) *hookSender {
	mk := func(control func(network, address string, c syscall.RawConn) error) *http.Client {
		d := &net.Dialer{Timeout: WebhookTimeout, Control: control}
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = nil
		t.DialContext = d.DialContext
		return &http.Client{Transport: t, Timeout: WebhookTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &hookSender{log: log, public: mk(web.CheckPublic), loopback: mk(checkLoopback), slots: make(chan struct{}, maxWebhooksInFlight),
		backoff: time.Second, metrics: m, now: now, perHost: map[string]int{}}
}

// checkLoopback is a net.Dialer Control hook that refuses all but
// loopback addresses.
func checkLoopback(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !a.IsLoopback() {
		return fmt.Errorf("refusing to connect to %s: http webhooks go to loopback only", host)
	}
	return nil
}

// send posts v to hook in the background, signed with key.
func (h *hookSender) send(hook string, key []byte, v VPTransaction) {
	body, err := json.Marshal(v)
	if err != nil {
		h.log.Error("webhook", "transaction", v.TransactionID, "err", err)
		return
	}
	// checkRPURL accepted the URL, whose scheme url.Parse lowercases:
	// pick the client by that scheme, not by the raw text ("HTTP://").
	u, err := url.Parse(hook)
	if err != nil {
		h.log.Error("webhook", "transaction", v.TransactionID, "err", "unparsable URL")
		return
	}
	c := h.public
	if u.Scheme == "http" {
		c = h.loopback
	}
	host := strings.ToLower(u.Host)
	select {
	case h.slots <- struct{}{}:
	default:
		h.log.Warn("webhook dropped: too many deliveries under way", "transaction", v.TransactionID)
		h.metrics.webhook("dropped")
		return
	}
	if !h.takeHost(host) {
		<-h.slots
		h.log.Warn("webhook dropped: too many deliveries under way to its host", "transaction", v.TransactionID)
		h.metrics.webhook("dropped")
		return
	}
	ts := strconv.FormatInt(h.now().Unix(), 10)
	sig := webhookSignature{ts: ts, mac: "sha256=" + hmacHex(key, []byte(ts+"."), body)}
	go func() {
		defer func() { <-h.slots }()
		defer h.leaveHost(host)
		for i := range WebhookAttempts {
			if i > 0 {
				time.Sleep(h.backoff * time.Duration(i))
			}
			err := h.post(c, hook, sig, body)
			if err == nil {
				h.metrics.webhook("delivered")
				return
			}
			h.log.Warn("webhook", "transaction", v.TransactionID, "attempt", i+1, "err", err)
		}
		h.metrics.webhook("failed")
	}()
}

// takeHost counts one more delivery to host, unless it has
// maxWebhooksPerHost under way.
func (h *hookSender) takeHost(host string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.perHost[host] >= maxWebhooksPerHost {
		return false
	}
	h.perHost[host]++
	return true
}

// leaveHost counts one delivery to host less; a host without any leaves
// the table.
func (h *hookSender) leaveHost(host string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.perHost[host]--; h.perHost[host] <= 0 {
		delete(h.perHost, host)
	}
}

// webhookSignature are the signature headers of one webhook call.
type webhookSignature struct {
	ts  string // WebhookTimestampHeader
	mac string // WebhookSignatureHeader
}

// hmacHex is the hex HMAC-SHA256 of the parts, in order, keyed by key.
func hmacHex(key []byte, parts ...[]byte) string {
	mac := hmac.New(sha256.New, key)
	for _, p := range parts {
		mac.Write(p)
	}
	return hex.EncodeToString(mac.Sum(nil))
}

func (h *hookSender) post(c *http.Client, hook string, sig webhookSignature, body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mediaJSON)
	req.Header.Set(WebhookSignatureHeader, sig.mac)
	req.Header.Set(WebhookTimestampHeader, sig.ts)
	resp, err := c.Do(req)
	if err != nil {
		// Without the URL, which may carry the relying party's secrets,
		// into the log.
		var ue *url.Error
		if errors.As(err, &ue) {
			return ue.Err
		}
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("answered %d", resp.StatusCode)
	}
	return nil
}

// vpMetrics count the verifier's requests, responses and webhooks; nil
// counters (no registry) count nothing.
type vpMetrics struct {
	requests  *prometheus.CounterVec // by response mode
	responses *prometheus.CounterVec // by outcome
	webhooks  *prometheus.CounterVec // by outcome
}

func (m *vpMetrics) register(r prometheus.Registerer) error {
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idmesh_oid4vp_requests_total",
		Help: "OpenID4VP presentation requests made, by response mode."}, []string{"mode"})
	m.responses = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idmesh_oid4vp_responses_total",
		Help: "OpenID4VP responses, by outcome (verified, refused, declined, replay, expired, state, unknown, malformed)."}, []string{"outcome"})
	m.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idmesh_oid4vp_webhooks_total",
		Help: "OpenID4VP webhook deliveries, by outcome (delivered, failed, dropped)."}, []string{"outcome"})
	for _, c := range []prometheus.Collector{m.requests, m.responses, m.webhooks} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func (m *vpMetrics) request(mode string) {
	if m != nil && m.requests != nil {
		m.requests.WithLabelValues(mode).Inc()
	}
}

func (m *vpMetrics) response(outcome string) {
	if m != nil && m.responses != nil {
		m.responses.WithLabelValues(outcome).Inc()
	}
}

func (m *vpMetrics) webhook(outcome string) {
	if m != nil && m.webhooks != nil {
		m.webhooks.WithLabelValues(outcome).Inc()
	}
}
