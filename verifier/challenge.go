package verifier

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Errors of [Challenges.IssueFor] and [Challenges.Consume].
var (
	// ErrChallengeUnknown reports a challenge this verifier never issued
	// (or issued so long ago that it was forgotten).
	ErrChallengeUnknown = errors.New("challenge was not issued by this verifier")
	// ErrChallengeUsed reports a challenge already accepted once: a replay.
	ErrChallengeUsed = errors.New("challenge already used")
	// ErrChallengeExpired reports a challenge past its lifetime.
	ErrChallengeExpired = errors.New("challenge expired")
	// ErrChallengeDomain reports a challenge issued for another domain.
	ErrChallengeDomain = errors.New("challenge issued for another domain")
	// ErrTooManyChallenges reports a client that asked for more
	// challenges than MaxPerClient within one TTL.
	ErrTooManyChallenges = errors.New("too many challenges for this client: try again later")
	// ErrDomainTooLong reports a domain longer than MaxDomainBytes.
	ErrDomainTooLong = errors.New("challenge domain too long")
	// ErrChallengesFull reports a store full of unexpired challenges;
	// IssueFor returns it as a [*FullError].
	ErrChallengesFull = errors.New("challenge store full: try again later")
)

// Bounds of a [Challenges] store.
const (
	// DefaultChallengeBytes is the default of Challenges.MaxBytes.
	DefaultChallengeBytes = 16 << 20
	// DefaultMaxDomainBytes is the default of Challenges.MaxDomainBytes:
	// a domain is a host name (at most 253 bytes) or an origin (scheme,
	// host and port, at most about 270), with room to spare.
	DefaultMaxDomainBytes = 512
	// challengeOverhead is what a challenge costs besides its domain:
	// its map key and slot, its record and its place in the issue queue.
	challengeOverhead = 160
	// clientOverhead is what a client's window costs besides its name.
	clientOverhead = 128
)

// Challenges issues one-time challenges for presentations and accepts
// each at most once before it expires. It is safe for concurrent use.
// Its memory is bounded in bytes (MaxBytes, counting every challenge
// with its domain and every client's window); expired challenges and
// windows are swept when challenges are issued, oldest first, in
// amortised constant time. When the store is full of unexpired
// challenges, IssueFor refuses with a [*FullError] rather than forget
// challenges that relying parties are still waiting on. Challenges live
// in memory: a restart voids outstanding ones, which fails closed.
type Challenges struct {
	// TTL is a challenge's lifetime; default 5 minutes.
	TTL time.Duration
	// MaxBytes bounds the store's memory; default DefaultChallengeBytes
	// (16 MiB, about 100,000 challenges without a domain).
	MaxBytes int64
	// MaxDomainBytes bounds a challenge's domain (ErrDomainTooLong);
	// default DefaultMaxDomainBytes.
	MaxDomainBytes int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Rand is the randomness; default crypto/rand.
	Rand io.Reader
	// MaxPerClient bounds the challenges one client (IssueFor's client)
	// gets within one TTL, so that nobody takes the whole store; default
	// 1,000.
	MaxPerClient int
	// MaxClientBytes bounds what one client's challenges within one TTL
	// may cost of MaxBytes (ErrTooManyChallenges), so that a few clients
	// with long domains cannot fill the store; default MaxBytes/64
	// (256 KiB: 1,000 challenges with short domains, about 390 with the
	// longest).
	MaxClientBytes int64

	mu      sync.Mutex
	bytes   int64
	items   map[[32]byte]*challenge
	order   [][32]byte // issue order: expiry order, for the sweep
	head    int
	clients map[string]*window
	windows []*window // start order, for the sweep
	whead   int
}

// window counts a client's challenges since start.
type window struct {
	client string
	start  time.Time
	n      int
	bytes  int64 // what its challenges cost, as counted in Challenges.bytes
}

type challenge struct {
	domain  string
	expires time.Time
	used    bool
}

// Challenge is an issued challenge.
type Challenge struct {
	Challenge string    `json:"challenge"`
	Domain    string    `json:"domain,omitempty"`
	Expires   time.Time `json:"expires"`
}

// FullError reports a store full of unexpired challenges. It matches
// ErrChallengesFull with errors.Is.
type FullError struct {
	// RetryAfter is when the oldest challenge expires, at least a second.
	RetryAfter time.Duration
}

func (e *FullError) Error() string {
	return fmt.Sprintf("%v: retry in %s", ErrChallengesFull, e.RetryAfter)
}

// Unwrap returns ErrChallengesFull.
func (e *FullError) Unwrap() error { return ErrChallengesFull }

// ChallengeStats describes a store's contents.
type ChallengeStats struct {
	// Challenges counts outstanding challenges, used or not, until they
	// are swept.
	Challenges int
	// Clients counts the per-client windows kept.
	Clients int
	// Bytes is the memory the store accounts for, at most MaxBytes.
	Bytes int64
}

func (c *Challenges) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Challenges) ttl() time.Duration {
	if c.TTL > 0 {
		return c.TTL
	}
	return 5 * time.Minute
}

func (c *Challenges) maxBytes() int64 {
	if c.MaxBytes > 0 {
		return c.MaxBytes
	}
	return DefaultChallengeBytes
}

func (c *Challenges) maxClientBytes() int64 {
	if c.MaxClientBytes > 0 {
		return c.MaxClientBytes
	}
	return c.maxBytes() / 64
}

func (c *Challenges) maxDomain() int {
	if c.MaxDomainBytes > 0 {
		return c.MaxDomainBytes
	}
	return DefaultMaxDomainBytes
}

func (c *Challenges) maxPerClient() int {
	if c.MaxPerClient > 0 {
		return c.MaxPerClient
	}
	return 1000
}

// key is the map key of a challenge: its hash, so that lookups do not
// depend on comparing the secret value byte by byte.
func key(s string) [32]byte { return sha256.Sum256([]byte(s)) }

// Issue returns a new challenge (128 random bits, base64url) for domain,
// which may be empty, with no per-client bound.
func (c *Challenges) Issue(domain string) (Challenge, error) { return c.IssueFor("", domain) }

// IssueFor is Issue for a client (for example its network address): a
// client gets at most MaxPerClient challenges costing at most
// MaxClientBytes per TTL (ErrTooManyChallenges).
// A domain longer than MaxDomainBytes is refused (ErrDomainTooLong), and
// so is any challenge while the store is full (a *FullError).
func (c *Challenges) IssueFor(client, domain string) (Challenge, error) {
	if len(domain) > c.maxDomain() {
		return Challenge{}, fmt.Errorf("%w: %d bytes, at most %d", ErrDomainTooLong, len(domain), c.maxDomain())
	}
	var b [16]byte
	r := c.Rand
	if r == nil {
		r = rand.Reader
	}
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return Challenge{}, fmt.Errorf("read challenge: %w", err)
	}
	now := c.now()
	ch := Challenge{Challenge: base64.RawURLEncoding.EncodeToString(b[:]), Domain: domain, Expires: now.Add(c.ttl())}
	k := key(ch.Challenge)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.items == nil {
		c.items, c.clients = map[[32]byte]*challenge{}, map[string]*window{}
	}
	c.sweep(now)
	cost := int64(challengeOverhead + len(domain))
	var w *window
	if client != "" {
		w = c.clients[client]
		if w != nil && (w.n >= c.maxPerClient() || w.bytes+cost > c.maxClientBytes()) {
			return Challenge{}, ErrTooManyChallenges
		}
		if w == nil {
			cost += int64(clientOverhead + len(client))
		}
	}
	if c.bytes+cost > c.maxBytes() {
		retry := time.Second
		if c.head < len(c.order) {
			if old := c.items[c.order[c.head]]; old != nil {
				retry = max(retry, old.expires.Sub(now).Truncate(time.Second)+time.Second)
			}
		}
		return Challenge{}, &FullError{RetryAfter: retry}
	}
	if client != "" && w == nil {
		w = &window{client: client, start: now}
		c.clients[client] = w
		c.windows = append(c.windows, w)
	}
	if w != nil {
		w.n++
		w.bytes += cost
	}
	c.items[k] = &challenge{domain: domain, expires: ch.Expires}
	c.order = append(c.order, k)
	c.bytes += cost
	return ch, nil
}

// sweep forgets the challenges and client windows that have expired,
// oldest first, stopping at the first one that has not: each is swept
// once, so the cost is amortised over the issues that made them.
func (c *Challenges) sweep(now time.Time) {
	for c.head < len(c.order) {
		k := c.order[c.head]
		ch := c.items[k]
		if ch != nil && !now.After(ch.expires) {
			break
		}
		if ch != nil {
			delete(c.items, k)
			c.bytes -= int64(challengeOverhead + len(ch.domain))
		}
		c.order[c.head] = [32]byte{}
		c.head++
	}
	if c.head > len(c.order)/2 { // compact the queue
		c.order = append(c.order[:0:0], c.order[c.head:]...)
		c.head = 0
	}
	ttl := c.ttl()
	for c.whead < len(c.windows) {
		w := c.windows[c.whead]
		if now.Sub(w.start) <= ttl {
			break
		}
		delete(c.clients, w.client)
		c.bytes -= int64(clientOverhead + len(w.client))
		c.windows[c.whead] = nil
		c.whead++
	}
	if c.whead > len(c.windows)/2 {
		c.windows = append(c.windows[:0:0], c.windows[c.whead:]...)
		c.whead = 0
	}
}

// Stats returns what the store holds now.
func (c *Challenges) Stats() ChallengeStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return ChallengeStats{Challenges: len(c.items), Clients: len(c.clients), Bytes: c.bytes}
}

// Consume accepts challenge once for domain: it must have been issued
// here, for the same domain (if it was issued for one), be unexpired and
// unused. After Consume returns nil, every later call fails with
// ErrChallengeUsed.
func (c *Challenges) Consume(challenge, domain string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, err := c.find(challenge, domain)
	if err == nil {
		ch.used = true
	}
	return err
}

// Check reports whether Consume would accept the challenge now, without
// consuming it.
func (c *Challenges) Check(challenge, domain string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.find(challenge, domain)
	return err
}

func (c *Challenges) find(challenge, domain string) (*challenge, error) {
	ch, ok := c.items[key(challenge)]
	switch {
	case !ok:
		return nil, ErrChallengeUnknown
	case ch.used:
		return nil, ErrChallengeUsed
	case c.now().After(ch.expires):
		return nil, ErrChallengeExpired
	case ch.domain != "" && ch.domain != domain:
		return nil, ErrChallengeDomain
	}
	return ch, nil
}
