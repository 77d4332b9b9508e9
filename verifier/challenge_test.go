package verifier_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/verifier"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestChallenges(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := &verifier.Challenges{TTL: time.Minute, Now: clk.now, Rand: rand.NewChaCha8([32]byte{1})}
	a, err := c.Issue("")
	if err != nil {
		t.Fatal(err)
	}
	d, _ := c.Issue("verifier.example")
	if err := c.Check(a.Challenge, "x"); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if err := c.Consume(a.Challenge, ""); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := c.Consume(a.Challenge, ""); !errors.Is(err, verifier.ErrChallengeUsed) {
		t.Fatalf("replay: %v", err)
	}
	if err := c.Consume("forged", ""); !errors.Is(err, verifier.ErrChallengeUnknown) {
		t.Fatalf("foreign: %v", err)
	}
	if err := c.Consume(d.Challenge, "other.example"); !errors.Is(err, verifier.ErrChallengeDomain) {
		t.Fatalf("domain: %v", err)
	}
	clk.t = clk.t.Add(2 * time.Minute)
	if err := c.Consume(d.Challenge, "verifier.example"); !errors.Is(err, verifier.ErrChallengeExpired) {
		t.Fatalf("expired: %v", err)
	}
	// Issuing after the TTL sweeps the expired challenges.
	last, err := c.Issue("")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(d.Challenge, "verifier.example"); !errors.Is(err, verifier.ErrChallengeUnknown) {
		t.Fatalf("swept: %v", err)
	}
	if err := c.Consume(last.Challenge, ""); err != nil {
		t.Fatalf("newest: %v", err)
	}
}

func TestChallengesPerClient(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := &verifier.Challenges{TTL: time.Minute, MaxPerClient: 2, Now: clk.now, Rand: rand.NewChaCha8([32]byte{2})}
	for range 2 {
		if _, err := c.IssueFor("10.0.0.1", ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.IssueFor("10.0.0.1", ""); !errors.Is(err, verifier.ErrTooManyChallenges) {
		t.Fatalf("third: %v", err)
	}
	if _, err := c.IssueFor("10.0.0.2", ""); err != nil {
		t.Fatalf("another client: %v", err)
	}
	clk.t = clk.t.Add(2 * time.Minute)
	if _, err := c.IssueFor("10.0.0.1", ""); err != nil {
		t.Fatalf("next window: %v", err)
	}
}

func TestChallengesDomainBound(t *testing.T) {
	c := &verifier.Challenges{Rand: rand.NewChaCha8([32]byte{3})}
	long := strings.Repeat("a", verifier.DefaultMaxDomainBytes+1)
	if _, err := c.Issue(long); !errors.Is(err, verifier.ErrDomainTooLong) {
		t.Fatalf("%d-byte domain: %v", len(long), err)
	}
	if st := c.Stats(); st.Challenges != 0 || st.Bytes != 0 {
		t.Fatalf("a refused domain is kept: %+v", st)
	}
	if _, err := c.Issue("https://" + strings.Repeat("a", 253) + ":65535"); err != nil {
		t.Fatalf("the longest origin: %v", err)
	}
}

// TestChallengesBoundedInBytes fills a small store from many clients:
// its bytes never pass MaxBytes, the issue that does not fit is refused
// with the time until the oldest challenge expires, and advancing the
// clock past the TTL sweeps every challenge and client window.
func TestChallengesBoundedInBytes(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	const maxBytes = 64 << 10
	c := &verifier.Challenges{TTL: time.Minute, MaxBytes: maxBytes, Now: clk.now, Rand: rand.NewChaCha8([32]byte{4})}
	domain := strings.Repeat("d", verifier.DefaultMaxDomainBytes)
	issued := 0
	var full *verifier.FullError
	for i := range 10_000 {
		_, err := c.IssueFor(fmt.Sprintf("10.0.%d.%d", i/256, i%256), domain)
		if errors.As(err, &full) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		issued++
		if st := c.Stats(); st.Bytes > maxBytes {
			t.Fatalf("after %d challenges the store holds %d bytes, bound %d", issued, st.Bytes, maxBytes)
		}
		clk.t = clk.t.Add(time.Millisecond)
	}
	if full == nil || !errors.Is(full, verifier.ErrChallengesFull) {
		t.Fatalf("10,000 challenges with %d-byte domains fit in %d bytes", len(domain), maxBytes)
	}
	if full.RetryAfter < time.Second || full.RetryAfter > time.Minute {
		t.Fatalf("RetryAfter %s, want until the oldest expires", full.RetryAfter)
	}
	st := c.Stats()
	if st.Challenges != issued || st.Clients != issued {
		t.Fatalf("stats %+v after %d challenges", st, issued)
	}
	clk.t = clk.t.Add(time.Minute + time.Second)
	if _, err := c.IssueFor("10.9.9.9", ""); err != nil {
		t.Fatalf("after the TTL: %v", err)
	}
	if st := c.Stats(); st.Challenges != 1 || st.Clients != 1 || st.Bytes >= maxBytes/10 {
		t.Fatalf("expired challenges not swept: %+v", st)
	}
}

// TestChallengesClientShare: one client's challenges may cost at most
// MaxClientBytes within a TTL, so that clients with the longest domains
// need MaxBytes/MaxClientBytes addresses to fill the store, not 25.
func TestChallengesClientShare(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := &verifier.Challenges{TTL: time.Minute, MaxBytes: 16 << 20, Now: clk.now, Rand: rand.NewChaCha8([32]byte{5})}
	domain := strings.Repeat("d", verifier.DefaultMaxDomainBytes)
	n := 0
	for ; n < 1000; n++ {
		if _, err := c.IssueFor("10.0.0.1", domain); errors.Is(err, verifier.ErrTooManyChallenges) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if st := c.Stats(); st.Bytes > (16<<20)/64 || n == 1000 {
		t.Fatalf("one client took %d challenges, %d bytes of a %d-byte store", n, st.Bytes, 16<<20)
	}
	// Short domains: the count bound (1,000) comes first.
	for i := range 1000 {
		if _, err := c.IssueFor("10.0.0.2", "example.com"); err != nil {
			t.Fatalf("short-domain challenge %d: %v", i, err)
		}
	}
	if _, err := c.IssueFor("10.0.0.3", domain); err != nil {
		t.Fatalf("another client: %v", err)
	}
}
