package verifier

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
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
	// ErrChallengeForged reports a challenge in the form of this node's
	// (it starts with the node challenge prefix) whose tag does not
	// verify under the store's secret: made up, altered, or issued by
	// another node or before a restart.
	ErrChallengeForged = errors.New("challenge tag does not verify: not issued by this node")
	// ErrChallengeTooLong reports a challenge longer than
	// MaxChallengeBytes.
	ErrChallengeTooLong = errors.New("challenge too long")
	// ErrChallengeSecret reports a Challenges.Secret shorter than
	// ChallengeSecretBytes.
	ErrChallengeSecret = errors.New("challenge secret too short")
)

// The form of node challenges: challengePrefix, the nonce and the tag,
// base64url without padding, joined by a dot. The tag is
// HMAC-SHA-256(secret, challengeTagLabel || nonce), so that the node can
// tell its own challenges from a caller's without a lookup, and a caller
// cannot pass a string of its own off as one of the node's.
const (
	challengePrefix   = "idmesh1."
	challengeTagLabel = "idmesh challenge v1\x00"
	nonceBytes        = 16
	tagBytes          = sha256.Size
	// nodeChallengeLen is the length of every node challenge.
	nodeChallengeLen = len(challengePrefix) + (nonceBytes*8+5)/6 + 1 + (tagBytes*8+5)/6
)

// Bounds of challenges.
const (
	// MaxChallengeBytes bounds a challenge a relying party gives
	// (ErrChallengeTooLong): a node challenge is 74 bytes, a caller's own
	// may be up to this.
	MaxChallengeBytes = 256
	// ChallengeSecretBytes is the size of the secret that tags node
	// challenges.
	ChallengeSecretBytes = 32
)

// b64 decodes base64url without padding, refusing the encodings that
// are not canonical (stray low bits), so that a challenge has one
// spelling.
var b64 = base64.RawURLEncoding.Strict()

// parseChallenge reads a challenge: tagged reports whether it has the
// node challenge prefix (else it is a caller's own, and nonce and tag are
// nil); a tagged challenge that is not one well-formed nonce and tag is
// an error (ErrChallengeForged). Challenges longer than MaxChallengeBytes
// are refused first (ErrChallengeTooLong).
func parseChallenge(s string) (nonce, tag []byte, tagged bool, err error) {
	if len(s) > MaxChallengeBytes {
		return nil, nil, false, fmt.Errorf("%w: %d bytes, at most %d", ErrChallengeTooLong, len(s), MaxChallengeBytes)
	}
	rest, tagged := strings.CutPrefix(s, challengePrefix)
	if !tagged {
		return nil, nil, false, nil
	}
	n, t, ok := strings.Cut(rest, ".")
	if !ok || len(s) != nodeChallengeLen {
		return nil, nil, true, fmt.Errorf("%w: malformed", ErrChallengeForged)
	}
	if nonce, err = b64.DecodeString(n); err != nil || len(nonce) != nonceBytes {
		return nil, nil, true, fmt.Errorf("%w: malformed nonce", ErrChallengeForged)
	}
	if tag, err = b64.DecodeString(t); err != nil || len(tag) != tagBytes {
		return nil, nil, true, fmt.Errorf("%w: malformed tag", ErrChallengeForged)
	}
	return nonce, tag, true, nil
}

// IsNodeChallenge reports whether s is in the form of a node challenge
// (it starts with the node challenge prefix), whether or not its tag
// verifies; any other string is a relying party's own challenge.
func IsNodeChallenge(s string) bool { return strings.HasPrefix(s, challengePrefix) }

// challengeTag is the tag of nonce under secret.
func challengeTag(secret, nonce []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(challengeTagLabel))
	m.Write(nonce)
	return m.Sum(nil)
}

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
//
// Challenges are self-authenticating: each carries an HMAC-SHA-256 tag
// of its random nonce under the store's Secret ("idmesh1.NONCE.TAG"),
// checked in constant time before the store is consulted, so that a
// verifier tells the challenges it issued from a relying party's own
// ([IsNodeChallenge], [Challenges.Authentic]). A tagged challenge is
// still accepted once only, unexpired, and only while the store holds
// it.
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
	// Secret keys the challenges' tags: at least ChallengeSecretBytes
	// (ErrChallengeSecret). Default: ChallengeSecretBytes read from Rand
	// when first needed, so that a restart voids the challenges issued
	// before it, as it voids the store.
	Secret []byte

	mu      sync.Mutex
	secret  []byte // Secret, or the one drawn from Rand
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

func (c *Challenges) random() io.Reader {
	if c.Rand != nil {
		return c.Rand
	}
	return rand.Reader
}

// key returns the secret of the tags, drawn from Rand the first time
// when Secret is not set. c.mu must be held.
func (c *Challenges) key() ([]byte, error) {
	switch {
	case c.secret != nil:
		return c.secret, nil
	case c.Secret != nil && len(c.Secret) < ChallengeSecretBytes:
		return nil, fmt.Errorf("%w: %d bytes, at least %d", ErrChallengeSecret, len(c.Secret), ChallengeSecretBytes)
	case c.Secret != nil:
		c.secret = append([]byte(nil), c.Secret...)
		return c.secret, nil
	}
	b := make([]byte, ChallengeSecretBytes)
	if _, err := io.ReadFull(c.random(), b); err != nil {
		return nil, fmt.Errorf("read challenge secret: %w", err)
	}
	c.secret = b
	return b, nil
}

// Authentic reports whether challenge is a node challenge whose tag
// verifies under this store's secret: one this node issued, whether or
// not it is still acceptable (unspent, unexpired, held).
func (c *Challenges) Authentic(challenge string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.authenticate(challenge) == nil
}

// authenticate checks a node challenge's tag in constant time. A
// challenge without the node prefix is ErrChallengeUnknown: the store
// issued no such challenge. c.mu must be held.
func (c *Challenges) authenticate(challenge string) error {
	nonce, tag, tagged, err := parseChallenge(challenge)
	switch {
	case err != nil:
		return err
	case !tagged:
		return ErrChallengeUnknown
	}
	secret, err := c.key()
	if err != nil {
		return err
	}
	if !hmac.Equal(tag, challengeTag(secret, nonce)) {
		return ErrChallengeForged
	}
	return nil
}

// key is the map key of a challenge: its hash, so that lookups do not
// depend on comparing the secret value byte by byte.
func key(s string) [32]byte { return sha256.Sum256([]byte(s)) }

// Issue returns a new challenge (128 random bits and their tag) for
// domain, which may be empty, with no per-client bound.
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
	var b [nonceBytes]byte
	if _, err := io.ReadFull(c.random(), b[:]); err != nil {
		return Challenge{}, fmt.Errorf("read challenge: %w", err)
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	secret, err := c.key()
	if err != nil {
		return Challenge{}, err
	}
	ch := Challenge{
		Challenge: challengePrefix + b64.EncodeToString(b[:]) + "." + b64.EncodeToString(challengeTag(secret, b[:])),
		Domain:    domain, Expires: now.Add(c.ttl()),
	}
	k := key(ch.Challenge)
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
// here (its tag verifies, else ErrChallengeForged, or ErrChallengeUnknown
// for a challenge without the node prefix) and still be held (else
// ErrChallengeUnknown), for the same domain (if it was issued for one),
// unexpired and unused. After Consume returns nil, every later call
// fails with ErrChallengeUsed.
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
	if err := c.authenticate(challenge); err != nil {
		return nil, err
	}
	ch, ok := c.items[key(challenge)]
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: it is no longer held (expired and forgotten)", ErrChallengeUnknown)
	case ch.used:
		return nil, ErrChallengeUsed
	case c.now().After(ch.expires):
		return nil, ErrChallengeExpired
	case ch.domain != "" && ch.domain != domain:
		return nil, ErrChallengeDomain
	}
	return ch, nil
}
