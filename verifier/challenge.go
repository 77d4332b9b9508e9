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

	mu    sync.Mutex
	items map[[32]byte]*challenge
	order [][32]byte // issue order, for eviction
	head  int
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
// which may be empty.
func (c *Challenges) Issue(domain string) (Challenge, error) {
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
