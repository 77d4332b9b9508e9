package verifier_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/verifier"
)

// flipLast changes a challenge's last character.
func flipLast(s string) string {
	c := byte('A')
	if s[len(s)-1] == 'A' {
		c = 'B'
	}
	return s[:len(s)-1] + string(c)
}

// TestChallengeTags: a node challenge carries an HMAC tag under the
// store's secret and is refused when the tag does not verify (forged,
// altered, another node's), and still only while the store holds it
// unspent and unexpired; the secret comes from the injected randomness
// or from Secret.
func TestChallengeTags(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := &verifier.Challenges{TTL: time.Minute, Now: clk.now, Rand: rand.NewChaCha8([32]byte{1})}
	a, err := c.Issue("")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.Challenge, "idmesh1.") || len(a.Challenge) != 74 || !verifier.IsNodeChallenge(a.Challenge) || !c.Authentic(a.Challenge) {
		t.Fatalf("challenge %q (%d bytes)", a.Challenge, len(a.Challenge))
	}
	// The same randomness makes the same secret and challenges.
	twin := &verifier.Challenges{TTL: time.Minute, Now: clk.now, Rand: rand.NewChaCha8([32]byte{1})}
	if b, _ := twin.Issue(""); b.Challenge != a.Challenge {
		t.Fatalf("injected randomness: %q then %q", a.Challenge, b.Challenge)
	}
	nonce, tag, _ := strings.Cut(strings.TrimPrefix(a.Challenge, "idmesh1."), ".")
	other := &verifier.Challenges{TTL: time.Minute, Now: clk.now, Rand: rand.NewChaCha8([32]byte{2})}
	otherCh, _ := other.Issue("")
	forged := map[string]string{
		"altered tag":             flipLast(a.Challenge),
		"altered nonce":           "idmesh1." + flipLast(nonce) + "." + tag,
		"another node's":          otherCh.Challenge,
		"made up":                 "idmesh1." + strings.Repeat("A", 22) + "." + strings.Repeat("A", 43),
		"truncated":               a.Challenge[:len(a.Challenge)-1],
		"padded":                  a.Challenge + "=",
		"prefix only":             "idmesh1.",
		"tag of another's nonce":  "idmesh1." + strings.Split(otherCh.Challenge, ".")[1] + "." + tag,
		"non-canonical last char": a.Challenge[:len(a.Challenge)-1] + string(a.Challenge[len(a.Challenge)-1]+1),
	}
	for name, s := range forged {
		if c.Authentic(s) {
			t.Errorf("%s: authentic", name)
		}
		if err := c.Check(s, ""); !errors.Is(err, verifier.ErrChallengeForged) {
			t.Errorf("%s: Check = %v", name, err)
		}
		if err := c.Consume(s, ""); !errors.Is(err, verifier.ErrChallengeForged) {
			t.Errorf("%s: Consume = %v", name, err)
		}
	}
	if err := c.Consume(a.Challenge, ""); err != nil {
		t.Fatalf("the real one after the forgeries: %v", err)
	}
	if err := c.Consume(a.Challenge, ""); !errors.Is(err, verifier.ErrChallengeUsed) || !c.Authentic(a.Challenge) {
		t.Fatalf("spent: %v", err)
	}
	if err := c.Consume(strings.Repeat("a", verifier.MaxChallengeBytes+1), ""); !errors.Is(err, verifier.ErrChallengeTooLong) {
		t.Fatalf("too long: %v", err)
	}

	// A store with the same Secret (a restart that kept it) knows the
	// tag but does not hold the challenge.
	secret := []byte(strings.Repeat("k", verifier.ChallengeSecretBytes))
	first := &verifier.Challenges{Secret: secret, Now: clk.now, Rand: rand.NewChaCha8([32]byte{3})}
	second := &verifier.Challenges{Secret: secret, Now: clk.now, Rand: rand.NewChaCha8([32]byte{4})}
	ch, err := first.Issue("")
	if err != nil {
		t.Fatal(err)
	}
	if !second.Authentic(ch.Challenge) {
		t.Fatal("the same secret does not authenticate")
	}
	if err := second.Consume(ch.Challenge, ""); !errors.Is(err, verifier.ErrChallengeUnknown) {
		t.Fatalf("not held: %v", err)
	}
	if _, err := (&verifier.Challenges{Secret: secret[:31]}).Issue(""); !errors.Is(err, verifier.ErrChallengeSecret) {
		t.Fatalf("short secret: %v", err)
	}
}

// TestVerifyPresentationChallengeKinds is issue 12 item 4 in the
// verifier: with AcceptCallerChallenges a relying party's own challenge
// (without the node prefix) is accepted when the proof carries it, and
// the result says challengeIssuedByNode false; a node challenge says
// true and stays one-time; a forged node challenge is refused; the proof
// must carry options.challenge; without AcceptCallerChallenges only node
// challenges pass.
func TestVerifyPresentationChallengeKinds(t *testing.T) {
	type step struct {
		// challenge signed into the proof and given in options (given
		// overrides the latter when set).
		signed, given string
		strict        bool
		// fail is the failing check ("" verified), detail a substring of
		// its problem; byNode the wanted challengeIssuedByNode.
		fail, detail string
		byNode       *bool
	}
	yes, no := true, false
	for _, format := range []string{formatDI, formatVPJ} {
		f := newFixture(t)
		p := presenter{f: f, format: format}
		store := &verifier.Challenges{TTL: 5 * time.Minute, Now: f.clk.now, Rand: rand.NewChaCha8([32]byte{9})}
		node := func() string {
			ch, err := store.Issue(domain)
			if err != nil {
				t.Fatal(err)
			}
			return ch.Challenge
		}
		spent := node()
		forged := flipLast(node())
		steps := map[string]step{
			"caller's own":                      {signed: "rp-nonce-1234", byNode: &no},
			"caller's own, again":               {signed: "rp-nonce-1234", byNode: &no},
			"node challenge":                    {signed: spent, byNode: &yes},
			"node challenge, spent":             {signed: spent, fail: verifier.CheckChallenge, detail: verifier.ErrChallengeUsed.Error(), byNode: &yes},
			"forged node challenge":             {signed: forged, fail: verifier.CheckChallenge, detail: verifier.ErrChallengeForged.Error(), byNode: &no},
			"caller's own differs from proof":   {signed: "rp-nonce-1234", given: "rp-nonce-5678", fail: verifier.CheckProof, byNode: &no},
			"node challenge differs from proof": {signed: node(), given: node(), fail: verifier.CheckProof, byNode: &yes},
			"proof has none":                    {given: "rp-nonce-1234", fail: verifier.CheckProof, byNode: &no},
			"strict: caller's own":              {signed: "rp-nonce-1234", strict: true, fail: verifier.CheckChallenge, detail: "accepts only the challenges it issues", byNode: &no},
			"strict: node challenge":            {signed: node(), strict: true, byNode: &yes},
			"too long":                          {signed: strings.Repeat("n", verifier.MaxChallengeBytes+1), fail: verifier.CheckChallenge, detail: "too long"},
			"longest caller's own":              {signed: strings.Repeat("n", verifier.MaxChallengeBytes), byNode: &no},
		}
		// Order matters for the spent challenge: run in a fixed order.
		for _, name := range []string{"caller's own", "caller's own, again", "node challenge", "node challenge, spent", "forged node challenge",
			"caller's own differs from proof", "node challenge differs from proof", "proof has none", "strict: caller's own", "strict: node challenge",
			"too long", "longest caller's own"} {
			s := steps[name]
			t.Run(format+"/"+name, func(t *testing.T) {
				v := f.verifier()
				v.Challenges, v.AcceptCallerChallenges = store, !s.strict
				given := s.signed
				if s.given != "" {
					given = s.given
				}
				vp := p.MustPresent(t, []any{p.MustCredential(t, subjectDID)}, s.signed, domain)
				res := v.VerifyPresentation(t.Context(), vp, verifier.Options{Challenge: given, Domain: domain})
				switch {
				case s.fail == "" && !res.Verified:
					t.Fatalf("not verified: %+v", res.ProblemDetails)
				case s.fail != "" && res.Verified:
					t.Fatalf("verified, want %s to fail", s.fail)
				case s.fail != "":
					if !hasDetail(res, s.fail, s.detail) {
						t.Fatalf("%s does not fail with %q: %+v", s.fail, s.detail, res.Results)
					}
					if s.fail == verifier.CheckProof && res.ProblemDetails[0].Type != credential.InvalidChallengeError.Type() {
						t.Fatalf("proof problem %+v", res.ProblemDetails[0])
					}
				}
				switch {
				case s.byNode == nil && res.ChallengeIssuedByNode != nil:
					t.Errorf("challengeIssuedByNode %v", *res.ChallengeIssuedByNode)
				case s.byNode != nil && (res.ChallengeIssuedByNode == nil || *res.ChallengeIssuedByNode != *s.byNode):
					t.Errorf("challengeIssuedByNode %v, want %v", res.ChallengeIssuedByNode, *s.byNode)
				}
			})
		}
	}
}

// TestChallengeConsumedOnceAtOnce: many verifications racing with one
// node challenge, and forgeries of it, spend it exactly once.
func TestChallengeConsumedOnceAtOnce(t *testing.T) {
	c := &verifier.Challenges{}
	ch, err := c.Issue("")
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	results := make(chan error, 2*n)
	for range n {
		go func() { results <- c.Consume(ch.Challenge, "") }()
		go func() { results <- c.Consume(flipLast(ch.Challenge), "") }()
	}
	ok, used, forged := 0, 0, 0
	for range 2 * n {
		switch err := <-results; {
		case err == nil:
			ok++
		case errors.Is(err, verifier.ErrChallengeUsed):
			used++
		case errors.Is(err, verifier.ErrChallengeForged):
			forged++
		default:
			t.Fatal(err)
		}
	}
	if ok != 1 || used != n-1 || forged != n {
		t.Fatalf("accepted %d, replays %d, forgeries %d", ok, used, forged)
	}
}
