package verifier_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/verifier"
)

const domain = "verifier.example"

// Presentation formats.
const (
	formatDI  = "di"
	formatVPJ = "vp+jwt"
)

// presenter makes presentations of a holder in one format.
type presenter struct {
	f      *fixture
	format string
	// context is an extra context URL; DI presentations are then
	// secured with eddsa-jcs-2022, which does not need to expand it.
	context string
}

// MustPresent secures a presentation of vcs by the fixture's holder,
// bound to challenge and domain when they are not empty. A DI
// presentation carries DI credentials, a vp+jwt one vc+jwt credentials.
func (p presenter) MustPresent(tb testing.TB, vcs []any, challenge, dom string) map[string]any {
	tb.Helper()
	vp := map[string]any{
		"@context":             []any{credential.ContextV2},
		"type":                 []any{credential.TypePresentation},
		"holder":               p.f.holder.DID,
		"verifiableCredential": vcs,
	}
	suite := dataintegrity.CryptosuiteRDFC
	if p.context != "" {
		vp["@context"] = []any{credential.ContextV2, p.context}
		suite = dataintegrity.CryptosuiteJCS
	}
	if p.format == formatVPJ {
		tok, err := jose.SignPresentation(vp, p.f.holder.Signer, jose.SignOptions{Nonce: challenge, Audience: dom})
		if err != nil {
			tb.Fatal(err)
		}
		return jose.Envelope(tok, jose.MediaTypeVP)
	}
	out, err := dataintegrity.Sign(tb.Context(), vp, p.f.holder.Signer, dataintegrity.SignOptions{
		Cryptosuite: suite, ProofPurpose: credential.PurposeAuthentication, Created: p.f.clk.t, Challenge: challenge, Domain: dom,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// credentialFormat is the format of the credentials a presentation holds.
func (p presenter) credentialFormat() string {
	if p.format == formatVPJ {
		return issuer.FormatJWT
	}
	return issuer.FormatRDFC
}

// MustCredential issues a degree about subject in the presentation's
// credential format.
func (p presenter) MustCredential(tb testing.TB, subject string) map[string]any {
	tb.Helper()
	m := degree(p.f.iss.DID)
	m["credentialSubject"].(map[string]any)["id"] = subject
	return MustIssue(tb, m, p.f.iss.Signer, p.credentialFormat())
}

// MustBreak invalidates a presentation's proof: a member added to a DI
// presentation, a changed signature byte of a vp+jwt.
func MustBreak(tb testing.TB, vp map[string]any) map[string]any {
	tb.Helper()
	out := MustClone(tb, vp)
	if id, ok := out["id"].(string); ok && strings.HasPrefix(id, "data:") {
		i := strings.LastIndexByte(id, '.') + 10
		c := byte('A')
		if id[i] == 'A' {
			c = 'B'
		}
		out["id"] = id[:i] + string(c) + id[i+1:]
		return out
	}
	out["id"] = "urn:uuid:6b7a2a6c-7d0f-4a55-9a43-1d7c1f0e3b1a"
	return out
}

// TestVerifyPresentation runs the presentation checks in both formats:
// the holder's proof, the challenge store, the embedded credentials and
// holder binding.
func TestVerifyPresentation(t *testing.T) {
	all := []string{verifier.CheckParse, verifier.CheckContext, verifier.CheckProof, verifier.CheckChallenge, verifier.CheckCredentials}
	type step struct {
		// vp names the presentation to verify: "" the one made, "broken"
		// the one made with its proof broken, "plain" one made without
		// the case's context.
		vp   string
		opts verifier.Options
		want expect
		// detail is a substring of the failing check's detail;
		// challengeDetail of the challenge check's.
		detail, challengeDetail string
	}
	type tc struct {
		name string
		// challenge returns the challenge to sign: by default one issued
		// for domain.
		challenge func(c *verifier.Challenges) string
		// dom is the domain signed; default domain.
		dom string
		// vcs returns the credentials; default a degree about subjectDID.
		vcs func(t *testing.T, p presenter) []any
		// after runs after presenting, before the steps.
		after func(f *fixture)
		// context is an extra context of the presentation.
		context string
		// noStore verifies without a challenge store.
		noStore bool
		steps   []step
	}
	issued := func(c *verifier.Challenges) string {
		ch, err := c.Issue(domain)
		if err != nil {
			panic(err)
		}
		return ch.Challenge
	}
	literal := func(s string) func(*verifier.Challenges) string {
		return func(*verifier.Challenges) string { return s }
	}
	challengeFails := func(detail string) step {
		return step{want: expect{check: verifier.CheckChallenge, code: credential.InvalidChallengeError, checks: all, passed: []string{verifier.CheckProof}}, detail: detail}
	}
	ok := step{want: expect{checks: all}}
	cases := []tc{
		{name: "accepted once, replay fails", steps: []step{ok, challengeFails(verifier.ErrChallengeUsed.Error())}},
		{name: "foreign challenge", challenge: literal("bm90LWlzc3VlZC1oZXJl"), steps: []step{challengeFails(verifier.ErrChallengeUnknown.Error())}},
		{
			name:  "expired challenge",
			after: func(f *fixture) { f.clk.t = f.clk.t.Add(6 * time.Minute) },
			steps: []step{challengeFails(verifier.ErrChallengeExpired.Error())},
		},
		{name: "wrong domain", dom: "other.example", steps: []step{challengeFails(verifier.ErrChallengeDomain.Error())}},
		{
			name:  "missing challenge",
			dom:   "-",
			steps: []step{challengeFails("no challenge"), {opts: verifier.Options{AllowNoChallenge: true}, want: expect{checks: all}}},
		},
		{
			name: "no challenge store",
			dom:  "-", noStore: true,
			steps: []step{{want: expect{checks: []string{verifier.CheckParse, verifier.CheckContext, verifier.CheckProof, verifier.CheckCredentials}}}},
		},
		{
			name: "failed proof does not spend the challenge",
			steps: []step{
				{vp: "broken", want: expect{check: verifier.CheckProof, checks: []string{verifier.CheckParse, verifier.CheckProof}}},
				ok,
				challengeFails(verifier.ErrChallengeUsed.Error()),
			},
		},
		{
			name:    "failed context check does not spend the challenge",
			context: "https://example.com/unknown/v1",
			steps: []step{
				{
					want:   expect{check: verifier.CheckContext, code: credential.UnknownContextError, checks: all, passed: []string{verifier.CheckProof}},
					detail: "https://example.com/unknown/v1", challengeDetail: "earlier check",
				},
				{vp: "plain", want: expect{checks: all}},
			},
		},
		{
			name: "expected challenge differs",
			steps: []step{
				{opts: verifier.Options{Challenge: "c29tZS1vdGhlci1jaGFsbGVuZ2U", Domain: domain}, want: expect{check: verifier.CheckProof, code: credential.InvalidChallengeError, checks: []string{verifier.CheckParse, verifier.CheckProof}}},
				ok,
			},
		},
		{
			name: "expected domain differs",
			dom:  "other.example",
			steps: []step{
				{opts: verifier.Options{Domain: domain}, want: expect{check: verifier.CheckProof, code: credential.InvalidDomainError, checks: []string{verifier.CheckParse, verifier.CheckProof}}},
			},
		},
		{
			name: "holder binding holds",
			vcs: func(t *testing.T, p presenter) []any {
				return []any{p.MustCredential(t, p.f.holder.DID), p.MustCredential(t, p.f.holder.DID)}
			},
			steps: []step{{opts: verifier.Options{HolderBinding: true}, want: expect{checks: append(all, verifier.CheckHolderBinding), passed: []string{verifier.CheckHolderBinding}}}},
		},
		{
			name: "holder binding fails",
			vcs: func(t *testing.T, p presenter) []any {
				return []any{p.MustCredential(t, p.f.holder.DID), p.MustCredential(t, subjectDID)}
			},
			steps: []step{{
				opts:   verifier.Options{Checks: []string{verifier.CheckProof, verifier.CheckCredentials, verifier.CheckHolderBinding}},
				want:   expect{check: verifier.CheckHolderBinding, code: credential.HolderBindingError, checks: []string{verifier.CheckParse, verifier.CheckProof, verifier.CheckCredentials, verifier.CheckHolderBinding}, passed: []string{verifier.CheckCredentials}},
				detail: "credential 2",
			}},
		},
		{
			name: "bad embedded credential",
			vcs: func(t *testing.T, p presenter) []any {
				return []any{p.MustCredential(t, subjectDID), MustTamper(t, p.MustCredential(t, subjectDID))}
			},
			steps: []step{{want: expect{check: verifier.CheckCredentials, checks: all, passed: []string{verifier.CheckProof, verifier.CheckChallenge}}, detail: "credential 2"}},
		},
		{
			name:  "unknown check",
			steps: []step{{opts: verifier.Options{Checks: []string{"revocation"}}, want: expect{check: verifier.CheckParse, code: credential.MalformedValueError, checks: []string{verifier.CheckParse}}}},
		},
	}
	for _, format := range []string{formatDI, formatVPJ} {
		for _, c := range cases {
			t.Run(format+"/"+c.name, func(t *testing.T) {
				f := newFixture(t)
				p := presenter{f: f, format: format}
				v := f.verifier()
				store := &verifier.Challenges{TTL: 5 * time.Minute, Now: f.clk.now, Rand: rand.NewChaCha8([32]byte{9})}
				if !c.noStore {
					v.Challenges = store
				}
				challenge, dom := "", domain
				if c.challenge != nil {
					challenge = c.challenge(store)
				} else {
					challenge = issued(store)
				}
				if c.dom != "" {
					dom = c.dom
				}
				if dom == "-" {
					challenge, dom = "", ""
				}
				var vcs []any
				if c.vcs != nil {
					vcs = c.vcs(t, p)
				} else {
					vcs = []any{p.MustCredential(t, subjectDID)}
				}
				plain := p.MustPresent(t, vcs, challenge, dom)
				vp := plain
				if c.context != "" {
					p.context = c.context
					vp = p.MustPresent(t, vcs, challenge, dom)
				}
				if c.after != nil {
					c.after(f)
				}
				for i, s := range c.steps {
					in := vp
					switch s.vp {
					case "broken":
						in = MustBreak(t, vp)
					case "plain":
						in = plain
					}
					want := s.want
					if want.check == verifier.CheckProof && want.code == "" {
						want.code = credential.ProofVerificationError
						if format == formatVPJ {
							want.code = credential.CryptographicSecurityError
						}
					}
					if want.check == verifier.CheckCredentials {
						want.code = credential.ProofVerificationError
						if format == formatVPJ {
							want.code = credential.CryptographicSecurityError
						}
					}
					// The relying party passes the challenge it issued and its
					// domain; the verifier never takes them from the proof.
					opts := s.opts
					if opts.Challenge == "" {
						opts.Challenge = challenge
					}
					if opts.Domain == "" {
						opts.Domain = dom
					}
					res := v.VerifyPresentation(t.Context(), in, opts)
					if t.Failed() {
						return
					}
					assertResult(t, res, want)
					if s.detail != "" && !hasDetail(res, want.check, s.detail) {
						t.Errorf("step %d: %s detail lacks %q: %+v", i, want.check, s.detail, res.ProblemDetails)
					}
					if s.challengeDetail != "" && !hasDetail(res, verifier.CheckChallenge, s.challengeDetail) {
						t.Errorf("step %d: challenge detail lacks %q: %+v", i, s.challengeDetail, res.ProblemDetails)
					}
					wantFormat := format
					if format == formatDI {
						wantFormat = dataintegrity.CryptosuiteRDFC
						if in["@context"].([]any)[len(in["@context"].([]any))-1] != credential.ContextV2 {
							wantFormat = dataintegrity.CryptosuiteJCS
						}
					}
					if res.Format != wantFormat && want.check != verifier.CheckParse {
						t.Errorf("step %d: format %q, want %q", i, res.Format, wantFormat)
					}
					if want.check == "" && res.Holder != f.holder.DID {
						t.Errorf("step %d: holder %q", i, res.Holder)
					}
					if slices.Contains(res.Checks, verifier.CheckCredentials) && len(res.Credentials) != len(vcs) {
						t.Errorf("step %d: %d credential results for %d credentials", i, len(res.Credentials), len(vcs))
					}
					if t.Failed() {
						t.Logf("step %d failed", i)
						return
					}
				}
			})
		}
	}
}

// hasDetail reports whether check failed with a detail holding sub.
func hasDetail(res verifier.Result, check, sub string) bool {
	for _, r := range res.Results {
		if r.Check == check && r.Problem != nil && strings.Contains(r.Problem.Detail, sub) {
			return true
		}
	}
	return false
}
