package api_test

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/credential/ld/ldtest"
	"github.com/idmesh/idmesh/verifier"
)

// challengeServer is a server with a deterministic challenge store.
type challengeServer struct {
	t     *testing.T
	ts    *httptest.Server
	url   string
	c     *http.Client
	clock *fakeClock
}

func newChallengeServer(t *testing.T, strict bool) challengeServer {
	ts, _, clock := limitServer(t, func(c *api.Config) {
		c.Rand = rand.NewChaCha8([32]byte{21})
		c.RequireNodeChallenges = strict
		c.VerifyWait = time.Minute
	})
	return challengeServer{t: t, ts: ts, url: ts.URL, c: ts.Client(), clock: clock}
}

// challenge asks the server for a challenge for domain.
func (s challengeServer) challenge(domain string) string {
	s.t.Helper()
	b, _ := json.Marshal(map[string]any{"domain": domain})
	a := post(s.t, s.c, s.url+"/challenges", b)
	var ch verifier.Challenge
	if err := json.Unmarshal(a.body, &ch); err != nil || a.status != http.StatusCreated || ch.Challenge == "" {
		s.t.Fatalf("POST /challenges: %d %s", a.status, a.body)
	}
	return ch.Challenge
}

// present signs an empty presentation by ldtest's did:key holder, its
// proof carrying challenge (none when empty): Data Integrity, or vp+jwt.
func (s challengeServer) present(challenge string, jwt bool) any {
	s.t.Helper()
	vp := map[string]any{"@context": []any{credential.ContextV2}, "type": []any{credential.TypePresentation}}
	if jwt {
		tok, err := jose.SignPresentation(vp, ldtest.Signer(), jose.SignOptions{Nonce: challenge})
		if err != nil {
			s.t.Fatal(err)
		}
		return jose.Envelope(tok, jose.MediaTypeVP)
	}
	signed, err := dataintegrity.Sign(s.t.Context(), vp, ldtest.Signer(), dataintegrity.SignOptions{
		Cryptosuite: dataintegrity.CryptosuiteJCS, ProofPurpose: credential.PurposeAuthentication, Created: s.clock.Now(), Challenge: challenge})
	if err != nil {
		s.t.Fatal(err)
	}
	return signed
}

// verify posts vp to /presentations/verify with options (challenge
// omitted when empty) and decodes the result.
func (s challengeServer) verify(vp any, challenge string, header ...string) (int, verifier.Result) {
	s.t.Helper()
	opts := map[string]any{}
	if challenge != "" {
		opts["challenge"] = challenge
	}
	b, _ := json.Marshal(map[string]any{"verifiablePresentation": vp, "options": opts})
	a := post(s.t, s.c, s.url+"/presentations/verify", b, header...)
	var res verifier.Result
	if err := json.Unmarshal(a.body, &res); err != nil || a.header.Get("Content-Type") != "application/json" {
		s.t.Fatalf("verify: %d %s", a.status, a.body)
	}
	return a.status, res
}

// mustFail checks a 400 whose check failed with INVALID_CHALLENGE_ERROR
// and a detail holding sub, and challengeIssuedByNode.
func mustFail(t *testing.T, status int, res verifier.Result, check, sub string, byNode *bool) {
	t.Helper()
	if status != http.StatusBadRequest || res.Verified {
		t.Fatalf("status %d, verified %v, want 400", status, res.Verified)
	}
	found := false
	for _, r := range res.Results {
		if r.Check == check && !r.Verified && r.Problem != nil && r.Problem.Type == credential.InvalidChallengeError.Type() && strings.Contains(r.Problem.Detail, sub) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no %s failure with %q: %+v", check, sub, res.Results)
	}
	mustByNode(t, res, byNode)
}

func mustByNode(t *testing.T, res verifier.Result, want *bool) {
	t.Helper()
	switch {
	case want == nil && res.ChallengeIssuedByNode != nil:
		t.Fatalf("challengeIssuedByNode %v, want absent", *res.ChallengeIssuedByNode)
	case want != nil && (res.ChallengeIssuedByNode == nil || *res.ChallengeIssuedByNode != *want):
		t.Fatalf("challengeIssuedByNode %v, want %v", res.ChallengeIssuedByNode, *want)
	}
}

func mustVerified(t *testing.T, status int, res verifier.Result, byNode bool) {
	t.Helper()
	if status != http.StatusOK || !res.Verified {
		t.Fatalf("status %d: %+v", status, res.ProblemDetails)
	}
	mustByNode(t, res, &byNode)
}

// TestPresentationChallenges is issue 12 item 4 through the HTTP server:
// node challenges (POST /challenges) are tagged and one-time, refused
// when spent, expired, swept from the store or forged; a relying party's
// own challenge is accepted when the proof carries it, with
// challengeIssuedByNode false; options.challenge must equal the proof's;
// the challenge is never read from the presentation; and a challenge is
// bounded in bytes.
func TestPresentationChallenges(t *testing.T) {
	yes, no := true, false
	for _, jwt := range []bool{false, true} {
		name := "di"
		if jwt {
			name = "vp+jwt"
		}
		t.Run(name, func(t *testing.T) {
			s := newChallengeServer(t, false)

			ch := s.challenge("")
			if !verifier.IsNodeChallenge(ch) || len(ch) != 74 {
				t.Fatalf("node challenge %q", ch)
			}
			vp := s.present(ch, jwt)
			status, res := s.verify(vp, ch)
			mustVerified(t, status, res, true)
			status, res = s.verify(vp, ch)
			mustFail(t, status, res, verifier.CheckChallenge, "already used", &yes)

			// Forged: the tag altered, or a tag made up.
			forged := ch[:len(ch)-1] + map[bool]string{true: "A", false: "B"}[ch[len(ch)-1] != 'A']
			status, res = s.verify(s.present(forged, jwt), forged)
			mustFail(t, status, res, verifier.CheckChallenge, "tag does not verify", &no)
			madeUp := "idmesh1." + strings.Repeat("A", 22) + "." + strings.Repeat("A", 43)
			status, res = s.verify(s.present(madeUp, jwt), madeUp)
			mustFail(t, status, res, verifier.CheckChallenge, "tag does not verify", &no)

			// Expired, then swept from the store by the next issue.
			old := s.challenge("")
			s.clock.Add(6 * time.Minute)
			oldVP := s.present(old, jwt)
			status, res = s.verify(oldVP, old)
			mustFail(t, status, res, verifier.CheckChallenge, "expired", &yes)
			s.challenge("")
			status, res = s.verify(oldVP, old)
			mustFail(t, status, res, verifier.CheckChallenge, "no longer held", &yes)

			// The relying party's own challenge.
			own := "rp-" + name + "-0b8e2c"
			ownVP := s.present(own, jwt)
			status, res = s.verify(ownVP, own)
			mustVerified(t, status, res, false)

			// options.challenge must equal the proof's.
			status, res = s.verify(ownVP, own+"x")
			mustFail(t, status, res, verifier.CheckProof, "", &no)
			other := s.challenge("")
			status, res = s.verify(s.present(s.challenge(""), jwt), other)
			mustFail(t, status, res, verifier.CheckProof, "", &yes)
			// The presentation's own challenge is never taken for the
			// relying party's.
			status, res = s.verify(ownVP, "")
			mustFail(t, status, res, verifier.CheckChallenge, "no challenge", nil)
			// The challenge the failed proof named is still good.
			status, res = s.verify(s.present(other, jwt), other)
			mustVerified(t, status, res, true)

			// Bounded: the longest caller's challenge passes, one byte more
			// is refused before any other work.
			longest := strings.Repeat("c", verifier.MaxChallengeBytes)
			status, res = s.verify(s.present(longest, jwt), longest)
			mustVerified(t, status, res, false)
			status, res = s.verify(s.present(longest+"c", jwt), longest+"c")
			mustFail(t, status, res, verifier.CheckChallenge, "too long", nil)
			if len(res.Checks) != 1 {
				t.Fatalf("checks after a too-long challenge: %v", res.Checks)
			}
		})
	}
}

// TestRequireNodeChallenges: with RequireNodeChallenges (the flag
// --require-node-challenges) a relying party's own challenge is refused,
// and node challenges pass as before.
func TestRequireNodeChallenges(t *testing.T) {
	s := newChallengeServer(t, true)
	no := false
	own := "rp-own-challenge"
	status, res := s.verify(s.present(own, false), own)
	mustFail(t, status, res, verifier.CheckChallenge, "accepts only the challenges it issues", &no)
	ch := s.challenge("")
	status, res = s.verify(s.present(ch, false), ch)
	mustVerified(t, status, res, true)
}

// TestNodeChallengeSpentOnceAtOnce: many verifications of one
// presentation and its node challenge at once: exactly one verifies.
func TestNodeChallengeSpentOnceAtOnce(t *testing.T) {
	s := newChallengeServer(t, false)
	ch := s.challenge("")
	vp := s.present(ch, false)
	const n = 16
	body, _ := json.Marshal(map[string]any{"verifiablePresentation": vp, "options": map[string]any{"challenge": ch}})
	verified := make(chan bool, n)
	for range n {
		go func() {
			a := post(t, s.c, s.url+"/presentations/verify", body, "Authorization", "Bearer secret")
			var res verifier.Result
			_ = json.Unmarshal(a.body, &res)
			verified <- a.status == http.StatusOK && res.Verified
		}()
	}
	ok := 0
	for range n {
		if <-verified {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d verified", ok, n)
	}
	if v := metric(t, s.ts, "idmesh_challenge_store_challenges"); v != "1" {
		t.Fatalf("store holds %s challenges", v)
	}
}
