package verifier

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// FuzzParseChallenge: parsing any string is bounded and consistent. A
// string without the node prefix is a caller's own; one with it either
// parses into a nonce and tag that spell it exactly (one spelling per
// challenge) or is ErrChallengeForged; anything over MaxChallengeBytes is
// ErrChallengeTooLong. Only the challenges the store issued authenticate.
func FuzzParseChallenge(f *testing.F) {
	c := &Challenges{Rand: rand.NewChaCha8([32]byte{1})}
	ch, err := c.Issue("")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", "made-up", ch.Challenge, ch.Challenge[:len(ch.Challenge)-1] + "B", challengePrefix, challengePrefix + ".",
		challengePrefix + strings.Repeat("A", 22) + "." + strings.Repeat("A", 43), strings.Repeat("x", MaxChallengeBytes+1), ch.Challenge + "=",
		strings.Replace(ch.Challenge, ".", "..", 1)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		nonce, tag, tagged, err := parseChallenge(s)
		switch {
		case len(s) > MaxChallengeBytes:
			if !errors.Is(err, ErrChallengeTooLong) {
				t.Fatalf("%d bytes: %v", len(s), err)
			}
			return
		case tagged != IsNodeChallenge(s):
			t.Fatalf("tagged %v for %q", tagged, s)
		case !tagged && (err != nil || nonce != nil || tag != nil):
			t.Fatalf("caller's own %q: %v", s, err)
		case tagged && err != nil && !errors.Is(err, ErrChallengeForged):
			t.Fatalf("%q: %v", s, err)
		case tagged && err == nil:
			if len(nonce) != nonceBytes || len(tag) != tagBytes {
				t.Fatalf("%q: nonce %d, tag %d bytes", s, len(nonce), len(tag))
			}
			if again := challengePrefix + b64.EncodeToString(nonce) + "." + b64.EncodeToString(tag); again != s {
				t.Fatalf("%q parses, but spells %q", s, again)
			}
		}
		if c.Authentic(s) != (s == ch.Challenge) {
			t.Fatalf("Authentic(%q) = %v", s, s != ch.Challenge)
		}
		if err := c.Check(s, ""); (err == nil) != (s == ch.Challenge) {
			t.Fatalf("Check(%q) = %v", s, err)
		}
		if tagged && err == nil && s != ch.Challenge && bytes.Equal(tag, challengeTag(c.secret, nonce)) {
			t.Fatalf("another spelling of a valid tag: %q", s)
		}
	})
}
