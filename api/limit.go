package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"math"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Problem types of the verification limits.
const (
	// ProblemVerifierBusy: every verification slot stayed taken for the
	// whole wait (503, with Retry-After).
	ProblemVerifierBusy = ProblemBase + "verifier-busy"
)

func init() {
	titles[ProblemVerifierBusy] = "The verifier is busy"
}

// Defaults of the limits on the unauthenticated verification endpoints
// (POST /credentials/verify, /presentations/verify and their per-issuer
// bases); see Config.
const (
	// DefaultVerifyWait is how long a verification waits for a slot
	// before it is answered 503.
	DefaultVerifyWait = time.Second
	// DefaultVerifyTimeout is the deadline of one verification, from
	// when it holds its slot: key resolution (did:web fetches) and every
	// check run under it.
	DefaultVerifyTimeout = 5 * time.Second
	// DefaultVerifyClientSlots is the default of Config.VerifyClientSlots:
	// a relying party's backend (or a NAT) verifies a few at a time.
	DefaultVerifyClientSlots = 4
	// MaxWebDIDsPerVerification bounds the distinct did:web DIDs whose
	// keys one verification request resolves over the network; the keys
	// of further ones are not fetched and fail.
	MaxWebDIDsPerVerification = 4
	// maxInflightClients bounds the table of clients with a verification
	// running or waiting (each entry about 128 bytes: 512 KiB); a new
	// client finding it full is answered 503.
	maxInflightClients = 4096
	// DefaultVerifyRate and DefaultVerifyBurst are each client's token
	// bucket: requests per second, and how many may come at once.
	DefaultVerifyRate  = 5
	DefaultVerifyBurst = 50
	// DefaultVerifyClientBytes bounds the memory of the per-client table.
	DefaultVerifyClientBytes = 1 << 20
	// clientEntryBytes is what one client of the table costs: its key
	// (netip.Addr, 24 bytes), its bucket (24) and the map's share
	// (about 80).
	clientEntryBytes = 128
	// sweepEvery is how often idle clients are dropped from the table;
	// a full table is swept at most this often too.
	sweepEvery = time.Minute
)

// verifyLimits are the global concurrency limit and the per-client rate
// limit of the verification endpoints. A nil *verifyLimits limits
// nothing.
type verifyLimits struct {
	slots chan struct{} // nil: no concurrency limit
	wait  time.Duration
	rate  *rateLimiter // nil: no rate limit
	// proxies are the peers whose X-Forwarded-For names the client.
	proxies []netip.Prefix
	// held, when set (tests), runs with a slot held before the handler.
	held atomic.Pointer[func()]
	// timeout is each verification's deadline once it holds its slot.
	timeout time.Duration
	// perClient: a client without the API token has at most clientSlots
	// verifications running at a time (when there is more than one
	// slot). inflight is the client slot of each client with a
	// verification running or waiting.
	perClient   bool
	clientSlots int
	mu          sync.Mutex
	inflight    map[netip.Addr]*clientSlot
	// free are client slots whose last request left, empty, for the
	// next client that joins (at most maxFreeClientSlots).
	free []*clientSlot
}

// maxFreeClientSlots bounds the client slots kept for reuse.
const maxFreeClientSlots = 64

// clientSlot is one client's slots: a semaphore of clientSlots, and the
// requests of the client that hold or wait for one.
type clientSlot struct {
	ch   chan struct{}
	refs int
}

func newVerifyLimits(cfg Config) *verifyLimits {
	l := &verifyLimits{wait: cfg.VerifyWait, proxies: cfg.TrustedProxies, timeout: cfg.VerifyTimeout, inflight: map[netip.Addr]*clientSlot{}}
	if l.wait <= 0 {
		l.wait = DefaultVerifyWait
	}
	if l.timeout <= 0 {
		l.timeout = DefaultVerifyTimeout
	}
	switch n := cfg.VerifyConcurrency; {
	case n == 0:
		l.slots = make(chan struct{}, runtime.NumCPU())
	case n > 0:
		l.slots = make(chan struct{}, n)
	}
	l.perClient = cap(l.slots) > 1
	if l.clientSlots = cfg.VerifyClientSlots; l.clientSlots <= 0 {
		l.clientSlots = DefaultVerifyClientSlots
	}
	if cfg.VerifyRate >= 0 {
		rate, burst, size := cfg.VerifyRate, cfg.VerifyBurst, cfg.VerifyClientBytes
		if rate == 0 {
			rate = DefaultVerifyRate
		}
		if burst <= 0 {
			burst = DefaultVerifyBurst
		}
		if size <= 0 {
			size = DefaultVerifyClientBytes
		}
		l.rate = newRateLimiter(rate, float64(burst), max(1, size/clientEntryBytes))
	}
	return l
}

// limitVerify wraps a verification handler: an unauthenticated client
// over its rate is answered 429; the request body is read, and then the
// client's own slot (one per client without the API token, when there is
// more than one slot) and a slot are waited for, together at most
// l.wait (503 past it), so that a slow sender holds no slot and no
// client holds more than one. The handler then runs under a deadline of
// l.timeout (see Config.VerifyTimeout). Callers with the API token are
// not rate-limited, only bounded by the slots.
func (s *Server) limitVerify(h http.HandlerFunc) http.HandlerFunc {
	l := s.limits
	return func(w http.ResponseWriter, r *http.Request) {
		token, client := s.hasToken(r), l.client(r)
		if s.overRate(w, r, token, client) {
			return
		}
		body, ok := s.readBody(w, r)
		if !ok {
			return
		}
		r.Body = &readBody{Reader: bytes.NewReader(body), body: body}
		var cpu *cpuSlot // the slot, given back while did:web documents are fetched
		if l.slots != nil {
			t := waitTimer{d: l.wait}
			defer t.stop()
			busy := func(detail string) {
				if r.Context().Err() != nil {
					return // the client is gone
				}
				s.creds.refusal("busy")
				w.Header().Set("Retry-After", "1")
				writeProblem(w, r, http.StatusServiceUnavailable, ProblemVerifierBusy, detail)
			}
			if l.perClient && !token {
				cs := l.join(client)
				if cs == nil {
					busy("too many clients are verifying; retry later")
					return
				}
				defer l.leave(client, cs)
				if !acquire(cs.ch, &t, r) {
					busy("this client's verification slot stayed taken by its other verification; retry later")
					return
				}
				defer func() { <-cs.ch }()
			}
			if !acquire(l.slots, &t, r) {
				busy("every verification slot is taken; retry later")
				return
			}
			cpu = &cpuSlot{sem: l.slots, held: true}
			defer cpu.done()
		}
		ctx, cancel := context.WithTimeout(r.Context(), l.timeout)
		defer cancel()
		r = r.WithContext(withWebDIDs(ctx, cpu))
		if f := l.held.Load(); f != nil {
			(*f)()
		}
		h(w, r)
	}
}

// acquire takes a slot of sem, waiting until t expires at most; false
// if none came or the request ended first.
func acquire(sem chan struct{}, t *waitTimer, r *http.Request) bool {
	select {
	case sem <- struct{}{}:
		return true
	default:
	}
	select {
	case sem <- struct{}{}:
		return true
	case <-t.expired():
		return false
	case <-r.Context().Done():
		return false
	}
}

// waitTimer bounds a request's waits for its slots together: it starts
// on the first wait (a slot free at once needs no timer, the common
// case) and fires d after that.
type waitTimer struct {
	d time.Duration
	t *time.Timer
}

// expired returns the channel that fires when the wait is over,
// starting the timer on the first call.
func (w *waitTimer) expired() <-chan time.Time {
	if w.t == nil {
		w.t = time.NewTimer(w.d)
	}
	return w.t.C
}

// stop releases the timer, if it started.
func (w *waitTimer) stop() {
	if w.t != nil {
		w.t.Stop()
	}
}

// join returns client's slot, counting one more request of it; nil when
// the table is full of other clients.
func (l *verifyLimits) join(client netip.Addr) *clientSlot {
	l.mu.Lock()
	defer l.mu.Unlock()
	cs, ok := l.inflight[client]
	if !ok {
		if len(l.inflight) >= maxInflightClients {
			return nil
		}
		if n := len(l.free); n > 0 {
			cs, l.free = l.free[n-1], l.free[:n-1]
		} else {
			cs = &clientSlot{ch: make(chan struct{}, l.clientSlots)}
		}
		l.inflight[client] = cs
	}
	cs.refs++
	return cs
}

// leave counts one request of client less; the client leaves the table
// with its last request.
func (l *verifyLimits) leave(client netip.Addr, cs *clientSlot) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cs.refs--; cs.refs == 0 {
		delete(l.inflight, client)
		// Every request of the client gave its slot back before leaving:
		// the semaphore is empty, as a new one is.
		if len(cs.ch) == 0 && len(l.free) < maxFreeClientSlots {
			l.free = append(l.free, cs)
		}
	}
}

// inflightClients is the size of the table of clients verifying.
func (l *verifyLimits) inflightClients() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.inflight)
}

// client is the key of r's client: the peer's address, or, when the
// peer is a trusted proxy, the nearest address in X-Forwarded-For that
// is not one. IPv6 clients are keyed by their /64, which one host
// usually holds whole.
func (l *verifyLimits) client(r *http.Request) netip.Addr {
	addr := peerAddr(r.RemoteAddr)
	if l.trusted(addr) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			addr = a.Unmap()
			if !l.trusted(addr) {
				break
			}
		}
	}
	if addr.Is6() {
		addr = netip.PrefixFrom(addr, 64).Masked().Addr()
	}
	return addr
}

func (l *verifyLimits) trusted(a netip.Addr) bool {
	for _, p := range l.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerAddr parses an http.Request's RemoteAddr; the zero Addr if it is
// not an address (then every such request shares one bucket).
func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// hasToken reports whether r carries the API token (see authorized),
// answering nothing.
func (s *Server) hasToken(r *http.Request) bool {
	if s.token == nil {
		return false
	}
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(got[:], s.token[:]) == 1
}

// rateLimiter is a token bucket per client, in a table of at most
// maxClients entries. A client whose bucket is full again is the same
// as one not in the table, so such entries are dropped when the table
// is swept (every sweepEvery, and when it is full, at most as often).
// While the table is full of active clients, new clients share one
// overflow bucket. Time comes from the caller: no goroutine, no timer.
type rateLimiter struct {
	mu         sync.Mutex
	rate       float64 // tokens per second
	burst      float64
	maxClients int
	clients    map[netip.Addr]*bucket
	overflow   bucket
	swept      time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRateLimiter(rate, burst float64, maxClients int) *rateLimiter {
	return &rateLimiter{rate: rate, burst: burst, maxClients: maxClients, clients: map[netip.Addr]*bucket{}, overflow: bucket{tokens: burst}}
}

// refill brings b's tokens to now.
func (rl *rateLimiter) refill(b *bucket, now time.Time) {
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(rl.burst, b.tokens+d.Seconds()*rl.rate)
	}
	b.at = now
}

// allow takes a token from client's bucket; when there is none it
// returns false and the whole seconds until there is one.
func (rl *rateLimiter) allow(client netip.Addr, now time.Time) (bool, int) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if now.Sub(rl.swept) >= sweepEvery {
		rl.sweep(now)
	}
	b, ok := rl.clients[client]
	if !ok {
		if len(rl.clients) >= rl.maxClients && now.Sub(rl.swept) >= time.Second {
			rl.sweep(now)
		}
		if len(rl.clients) < rl.maxClients {
			b = &bucket{tokens: rl.burst, at: now}
			rl.clients[client] = b
		} else {
			b = &rl.overflow
		}
	}
	rl.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, int(math.Ceil((1 - b.tokens) / rl.rate))
}

// sweep drops the clients whose bucket is full again.
func (rl *rateLimiter) sweep(now time.Time) {
	rl.swept = now
	for a, b := range rl.clients {
		rl.refill(b, now)
		if b.tokens >= rl.burst {
			delete(rl.clients, a)
		}
	}
}

// size is the number of clients in the table.
func (rl *rateLimiter) size() int {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return len(rl.clients)
}

// readBody is a request body limitVerify has read already: readBody
// (the method) hands its bytes over again without copying them.
type readBody struct {
	*bytes.Reader
	body []byte
}

// Close implements io.Closer.
func (*readBody) Close() error { return nil }
