package verifier_test

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/idmesh/idmesh/verifier"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestChallenges(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := &verifier.Challenges{TTL: time.Minute, Max: 3, Now: clk.now, Rand: rand.NewChaCha8([32]byte{1})}
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
	// Max 3: issuing three more forgets the oldest.
	var last verifier.Challenge
	for range 3 {
		if last, err = c.Issue(""); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Check(d.Challenge, "verifier.example"); !errors.Is(err, verifier.ErrChallengeUnknown) {
		t.Fatalf("evicted: %v", err)
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
