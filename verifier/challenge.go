package verifier

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"sync"
	"time"
)

// Errors of [Challenges.Consume].
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
)

// Challenges issues one-time challenges for presentations and accepts
// each at most once before it expires. It is safe for concurrent use and
// keeps at most Max outstanding challenges (the oldest are forgotten
// first). Challenges live in memory: a restart voids outstanding ones,
// which fails closed.
type Challenges struct {
	// TTL is a challenge's lifetime; default 5 minutes.
	TTL time.Duration
	// Max bounds the challenges remembered; default 100,000.
	Max int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Rand is the randomness; default crypto/rand.
	Rand io.Reader
	// MaxPerClient bounds the challenges one client (IssueFor's client)
	// gets within one TTL, so that nobody evicts everyone else's
	// outstanding challenges; default 1,000.
	MaxPerClient int

	mu      sync.Mutex
	items   map[[32]byte]*challenge
	order   [][32]byte // issue order, for eviction
	head    int
	clients map[string]*window
}

// window counts a client's challenges since start.
type window struct {
	start time.Time
	n     int
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

func (c *Challenges) max() int {
	if c.Max > 0 {
		return c.Max
	}
	return 100_000
}

// key is the map key of a challenge: its hash, so that lookups do not
// depend on comparing the secret value byte by byte.
func key(s string) [32]byte { return sha256.Sum256([]byte(s)) }

// Issue returns a new challenge (128 random bits, base64url) for domain,
// which may be empty, with no per-client bound.
func (c *Challenges) Issue(domain string) (Challenge, error) { return c.IssueFor("", domain) }

// IssueFor is Issue for a client (for example its network address): a
// client gets at most MaxPerClient challenges per TTL (ErrTooManyChallenges).
func (c *Challenges) IssueFor(client, domain string) (Challenge, error) {
	if client != "" && !c.admit(client) {
		return Challenge{}, ErrTooManyChallenges
	}
	var b [16]byte
	r := c.Rand
	if r == nil {
		r = rand.Reader
	}
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return Challenge{}, err
	}
	ch := Challenge{Challenge: base64.RawURLEncoding.EncodeToString(b[:]), Domain: domain, Expires: c.now().Add(c.ttl())}
	k := key(ch.Challenge)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.items == nil {
		c.items = map[[32]byte]*challenge{}
	}
	for len(c.items) >= c.max() {
		delete(c.items, c.order[c.head])
		c.head++
	}
	if c.head > len(c.order)/2 { // compact the queue
		c.order = append(c.order[:0:0], c.order[c.head:]...)
		c.head = 0
	}
	c.items[k] = &challenge{domain: domain, expires: ch.Expires}
	c.order = append(c.order, k)
	return ch, nil
}

// admit counts a challenge for client, reporting whether it is within
// its bound.
func (c *Challenges) admit(client string) bool {
	max := c.MaxPerClient
	if max <= 0 {
		max = 1000
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.clients == nil || len(c.clients) > 100_000 {
		c.clients = map[string]*window{} // forget old windows wholesale
	}
	w := c.clients[client]
	if w == nil || now.Sub(w.start) > c.ttl() {
		w = &window{start: now}
		c.clients[client] = w
	}
	if w.n >= max {
		return false
	}
	w.n++
	return true
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
