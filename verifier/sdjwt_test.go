package verifier_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/verifier"
)

const (
	sdVCT       = "https://node.example/vct/employment"
	sdStatusURI = "https://node.example/status-lists/7/token"
	sdNonce     = "n-0S6_WzA2Mj"
	sdAudience  = "https://verifier.example"
)

// fakeTokenStatus answers every entry with value, or err.
type fakeTokenStatus struct {
	value  uint8
	err    error
	called []string
}

func (f *fakeTokenStatus) TokenStatus(_ context.Context, issuer, uri string, idx int) (uint8, uint64, error) {
	f.called = append(f.called, issuer+" "+uri)
	return f.value, 42, f.err
}

// MustIssueSDJWT issues an SD-JWT VC by f.iss bound to f.holder, with a
// status claim when status is set; exp, when not zero, is its expiry.
func MustIssueSDJWT(tb testing.TB, f *fixture, status bool, exp time.Time) string {
	tb.Helper()
	claims := map[string]any{
		"vct":        sdVCT,
		"given_name": "Alice",
		"employer":   "Example Corp",
		"address":    map[string]any{"locality": "Paris", "country": "FR"},
	}
	if status {
		claims["status"] = map[string]any{"status_list": map[string]any{"idx": 12, "uri": sdStatusURI}}
	}
	if !exp.IsZero() {
		claims["exp"] = exp.Unix()
	}
	s, err := sdjwt.Issue(claims, f.iss.Signer, sdjwt.IssueOptions{
		Disclosable: []string{"/given_name", "/employer", "/address", "/address/locality"},
		Random:      rand.NewChaCha8([32]byte{9}), IssuedAt: issuedAt, HolderKey: f.holder.Signer.Key.Public(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// MustPresentSDJWT presents issued with the claims at ptrs and a KB-JWT
// for sdNonce and sdAudience by holder (none when holder is nil).
func MustPresentSDJWT(tb testing.TB, f *fixture, issued string, holder credential.Signer, ptrs ...string) string {
	tb.Helper()
	opts := sdjwt.PresentOptions{Disclose: ptrs}
	if holder != nil {
		opts.Holder, opts.Nonce, opts.Audience, opts.Now = holder, sdNonce, sdAudience, f.clk.now()
	}
	p, err := sdjwt.Present(issued, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// MustForgeKB appends to sd (an SD-JWT ending in "~") a well-formed
// key-binding JWT for sdNonce and sdAudience signed by signer.
func MustForgeKB(tb testing.TB, f *fixture, sd string, signer credential.Signer) string {
	tb.Helper()
	payload, _ := json.Marshal(map[string]any{"nonce": sdNonce, "aud": sdAudience, "iat": f.clk.now().Unix(), "sd_hash": sdjwt.Digest(sd)})
	kb, err := jose.SignCompact(payload, sdjwt.TypKB, "", signer, "")
	if err != nil {
		tb.Fatal(err)
	}
	return sd + kb
}

// TestVerifySDJWT: SD-JWT VCs in every accepted form, with and without
// key binding, and each refusal under its named check and problem type.
func TestVerifySDJWT(t *testing.T) {
	f := newFixture(t)
	issued := MustIssueSDJWT(t, f, false, time.Time{})
	pres := MustPresentSDJWT(t, f, issued, f.holder.Signer, "/employer")
	kb := verifier.Options{Challenge: sdNonce, Domain: sdAudience}
	envelope := func(s string) map[string]any { return jose.Envelope(s, sdjwt.MediaType) }

	t.Run("forms", func(t *testing.T) {
		for name, in := range map[string]any{
			"bare":      pres,
			"data URL":  "data:application/dc+sd-jwt," + pres,
			"enveloped": envelope(pres),
		} {
			res := f.verifier().VerifyCredential(t.Context(), in, kb)
			assertResult(t, res, expect{passed: []string{verifier.CheckParse, verifier.CheckProof, verifier.CheckValidity}})
			if res.Format != verifier.FormatSDJWT || res.Issuer != f.iss.DID || res.Disclosed == nil {
				t.Fatalf("%s: result %+v", name, res)
			}
			d := res.Disclosed
			if !d.KeyBound || d.VCT != sdVCT || strings.Join(d.Disclosed, ",") != "/employer" ||
				d.Claims["employer"] != "Example Corp" || d.Claims["given_name"] != nil || d.Claims["address"] != nil {
				t.Fatalf("%s: disclosed %+v", name, d)
			}
		}
	})
	t.Run("no key binding asked", func(t *testing.T) {
		res := f.verifier().VerifyCredential(t.Context(), envelope(issued), verifier.Options{})
		assertResult(t, res, expect{passed: []string{verifier.CheckProof}})
		if res.Disclosed.KeyBound || len(res.Disclosed.Disclosed) != 4 {
			t.Fatalf("disclosed %+v", res.Disclosed)
		}
	})

	other, err := sdjwt.Issue(map[string]any{"vct": sdVCT, "given_name": "Mallory"}, f.iss.Signer,
		sdjwt.IssueOptions{Disclosable: []string{"/given_name"}, Random: rand.NewChaCha8([32]byte{10}), IssuedAt: issuedAt})
	if err != nil {
		t.Fatal(err)
	}
	otherDisclosure := strings.Split(other, "~")[1]
	jwt, _, _ := strings.Cut(issued, "~")
	disclosures := strings.Split(strings.TrimSuffix(issued, "~"), "~")[1:]
	modified := []byte(disclosures[0])
	modified[5] ^= 1
	for _, tc := range []struct {
		name string
		in   any
		opts verifier.Options
		want expect
	}{
		{"not an SD-JWT", "a~b", kb, expect{check: verifier.CheckParse, code: credential.ParsingError}},
		{"oversized", pres + strings.Repeat("A", sdjwt.DefaultMaxBytes), kb, expect{check: verifier.CheckParse, code: credential.LimitExceededError}},
		{"enveloped in a presentation type", map[string]any{"@context": []any{credential.ContextV2}, "type": "EnvelopedVerifiablePresentation",
			"id": "data:application/dc+sd-jwt," + pres}, kb, expect{check: verifier.CheckParse, code: credential.ParsingError}},
		{"modified disclosure", jwt + "~" + string(modified) + "~", verifier.Options{}, expect{check: verifier.CheckProof, code: credential.CryptographicSecurityError}},
		{"disclosure of another credential", jwt + "~" + otherDisclosure + "~", verifier.Options{}, expect{check: verifier.CheckProof, code: credential.CryptographicSecurityError}},
		{"no KB-JWT when a challenge is given", MustPresentSDJWT(t, f, issued, nil, "/employer"), kb, expect{check: verifier.CheckProof, code: credential.HolderBindingError}},
		{"KB-JWT by another key", MustForgeKB(t, f, MustPresentSDJWT(t, f, issued, nil, "/employer"), f.other.Signer), kb, expect{check: verifier.CheckProof, code: credential.CryptographicSecurityError}},
		{"wrong nonce", pres, verifier.Options{Challenge: "another", Domain: sdAudience}, expect{check: verifier.CheckProof, code: credential.InvalidChallengeError}},
		{"wrong audience", pres, verifier.Options{Challenge: sdNonce, Domain: "https://evil.example"}, expect{check: verifier.CheckProof, code: credential.InvalidDomainError}},
		{"expired", MustIssueSDJWT(t, f, false, t0.Add(-time.Hour)), verifier.Options{}, expect{check: verifier.CheckValidity, code: credential.ValidityPeriodError, passed: []string{verifier.CheckProof}}},
		{"expired, validity not asked", MustIssueSDJWT(t, f, false, t0.Add(-time.Hour)), verifier.Options{Checks: []string{"proof"}}, expect{passed: []string{verifier.CheckProof}}},
		{"unknown check", pres, verifier.Options{Checks: []string{"nonsense"}}, expect{check: verifier.CheckParse, code: credential.MalformedValueError}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assertResult(t, f.verifier().VerifyCredential(t.Context(), tc.in, tc.opts), tc.want)
		})
	}
}

// TestVerifySDJWTStatus: the status claim through a TokenStatusChecker:
// 0 valid, 1 revoked, 2 suspended, anything else and errors fail; with
// no checker, a warning by default and a failure when asked for.
func TestVerifySDJWTStatus(t *testing.T) {
	f := newFixture(t)
	issued := MustIssueSDJWT(t, f, true, time.Time{})
	for _, tc := range []struct {
		name   string
		status *fakeTokenStatus
		checks []string
		want   expect
	}{
		{"valid", &fakeTokenStatus{value: 0}, nil, expect{passed: []string{verifier.CheckStatus}}},
		{"revoked", &fakeTokenStatus{value: 1}, nil, expect{check: verifier.CheckStatus, code: credential.CredentialRevoked}},
		{"suspended", &fakeTokenStatus{value: 2}, nil, expect{check: verifier.CheckStatus, code: credential.CredentialSuspended}},
		{"other value", &fakeTokenStatus{value: 3}, nil, expect{check: verifier.CheckStatus, code: credential.StatusVerificationError}},
		{"unreadable", &fakeTokenStatus{err: errors.New("no such list")}, nil, expect{check: verifier.CheckStatus, code: credential.StatusRetrievalError}},
		{"asked by its alias", &fakeTokenStatus{value: 1}, []string{"credentialStatus"}, expect{check: verifier.CheckStatus, code: credential.CredentialRevoked}},
		{"not asked", &fakeTokenStatus{value: 1}, []string{"proof"}, expect{warn: credential.StatusRetrievalError}},
		{"no checker", nil, nil, expect{warn: credential.StatusRetrievalError}},
		{"no checker, asked", nil, []string{"status"}, expect{check: verifier.CheckStatus, code: credential.StatusRetrievalError}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := f.verifier()
			if tc.status != nil {
				v.TokenStatus = tc.status
			}
			res := v.VerifyCredential(t.Context(), issued, verifier.Options{Checks: tc.checks})
			assertResult(t, res, tc.want)
			if tc.status != nil && len(tc.status.called) > 0 && tc.status.called[0] != f.iss.DID+" "+sdStatusURI {
				t.Errorf("checker called with %v", tc.status.called)
			}
			if tc.want.check == verifier.CheckStatus && tc.status != nil && tc.status.err == nil && res.StatusHeight != 42 {
				t.Errorf("status height %d", res.StatusHeight)
			}
		})
	}
}

// TestVerifySDJWTTrust: the trust check reads the vct as the type.
func TestVerifySDJWTTrust(t *testing.T) {
	f := newFixture(t)
	issued := MustIssueSDJWT(t, f, false, time.Time{})
	v := f.verifier()
	v.TrustPolicy.Require = []string{sdVCT}
	assertResult(t, v.VerifyCredential(t.Context(), issued, verifier.Options{}), expect{check: verifier.CheckTrust, code: credential.UntrustedIssuerError})
	v.TrustPolicy.Trusted = map[string][]string{f.iss.DID: {sdVCT}}
	assertResult(t, v.VerifyCredential(t.Context(), issued, verifier.Options{}), expect{passed: []string{verifier.CheckTrust}})
}

// TestSDJWTInPresentation: an SD-JWT VC carried inside a verifiable
// presentation is refused (its own key-binding JWT is how it is
// presented), in both presentation formats.
func TestSDJWTInPresentation(t *testing.T) {
	f := newFixture(t)
	issued := MustIssueSDJWT(t, f, false, time.Time{})
	for _, format := range []string{dataintegrity.CryptosuiteRDFC, formatVPJ} {
		p := presenter{f: f, format: format}
		vp := p.MustPresent(t, []any{jose.Envelope(issued, sdjwt.MediaType)}, "c-1", "")
		res := f.verifier().VerifyPresentation(t.Context(), vp, verifier.Options{Challenge: "c-1"})
		if res.Verified {
			t.Fatalf("%s: verified: %+v", format, res)
		}
		if len(res.Credentials) != 1 {
			t.Fatalf("%s: credential results %+v", format, res.Credentials)
		}
		assertResult(t, res.Credentials[0], expect{check: verifier.CheckParse, code: credential.ParsingError})
	}
}

// TestSDJWTNodeChallenge: with a challenge store, a node challenge as
// the key-binding JWT's nonce is accepted once (for its domain); a
// relying party's own is accepted unless the verifier takes only its
// own challenges.
func TestSDJWTNodeChallenge(t *testing.T) {
	f := newFixture(t)
	issued := MustIssueSDJWT(t, f, false, time.Time{})
	v := f.verifier()
	v.Challenges = &verifier.Challenges{Now: f.clk.now, Rand: rand.NewChaCha8([32]byte{4})}
	v.AcceptCallerChallenges = true
	ch, err := v.Challenges.Issue(sdAudience)
	if err != nil {
		t.Fatal(err)
	}
	pres, err := sdjwt.Present(issued, sdjwt.PresentOptions{Disclose: []string{"/employer"}, Holder: f.holder.Signer, Nonce: ch.Challenge, Audience: sdAudience, Now: f.clk.now()})
	if err != nil {
		t.Fatal(err)
	}
	opts := verifier.Options{Challenge: ch.Challenge, Domain: sdAudience}
	res := v.VerifyCredential(t.Context(), pres, opts)
	assertResult(t, res, expect{passed: []string{verifier.CheckProof, verifier.CheckChallenge}})
	if res.ChallengeIssuedByNode == nil || !*res.ChallengeIssuedByNode {
		t.Fatalf("challengeIssuedByNode %v", res.ChallengeIssuedByNode)
	}
	assertResult(t, v.VerifyCredential(t.Context(), pres, opts), expect{check: verifier.CheckChallenge, code: credential.InvalidChallengeError})

	own := MustPresentSDJWT(t, f, issued, f.holder.Signer, "/employer")
	kb := verifier.Options{Challenge: sdNonce, Domain: sdAudience}
	assertResult(t, v.VerifyCredential(t.Context(), own, kb), expect{passed: []string{verifier.CheckChallenge}})
	v.AcceptCallerChallenges = false
	assertResult(t, v.VerifyCredential(t.Context(), own, kb), expect{check: verifier.CheckChallenge, code: credential.InvalidChallengeError})
}

// TestSDJWTKeyBindingNeedsTheChallenge (security review 2, finding 2): a
// key-binding JWT counts only when its nonce was compared with the
// relying party's challenge. A presentation verified with only a domain
// is refused under challenge (it could be replayed at will), and one
// verified with no options reports keyBound false though its KB-JWT
// verified.
func TestSDJWTKeyBindingNeedsTheChallenge(t *testing.T) {
	f := newFixture(t)
	v := f.verifier()
	pres := MustPresentSDJWT(t, f, MustIssueSDJWT(t, f, false, time.Time{}), f.holder.Signer, "/employer")
	res := v.VerifyCredential(t.Context(), pres, verifier.Options{Domain: sdAudience})
	assertResult(t, res, expect{check: verifier.CheckChallenge, code: credential.InvalidChallengeError})
	res = v.VerifyCredential(t.Context(), pres, verifier.Options{})
	if !res.Verified || res.Disclosed == nil || res.Disclosed.KeyBound {
		t.Fatalf("no options: verified %v, disclosed %+v; want verified, not key-bound", res.Verified, res.Disclosed)
	}
	res = v.VerifyCredential(t.Context(), pres, verifier.Options{Challenge: sdNonce, Domain: sdAudience})
	if !res.Verified || !res.Disclosed.KeyBound {
		t.Fatalf("with the challenge: verified %v, disclosed %+v", res.Verified, res.Disclosed)
	}
}

// TestSDJWTStatusWithoutList: a status claim that names no status_list
// (another mechanism) is not checked: a warning by default, a failure
// when the status check is asked for.
func TestSDJWTStatusWithoutList(t *testing.T) {
	f := newFixture(t)
	m := map[string]any{"vct": sdVCT, "status": map[string]any{"other_mechanism": map[string]any{"x": 1}}}
	issued, err := sdjwt.Issue(m, f.iss.Signer, sdjwt.IssueOptions{IssuedAt: issuedAt, HolderKey: f.holder.Signer.Key.Public(), Random: rand.NewChaCha8([32]byte{3})})
	if err != nil {
		t.Fatal(err)
	}
	v := f.verifier()
	v.TokenStatus = &fakeTokenStatus{value: 1}
	if res := v.VerifyCredential(t.Context(), issued, verifier.Options{}); !res.Verified || len(res.Warnings) == 0 {
		t.Errorf("default checks: verified %v, warnings %v", res.Verified, res.Warnings)
	}
	if res := v.VerifyCredential(t.Context(), issued, verifier.Options{Checks: []string{"status"}}); res.Verified {
		t.Error("an unsupported status mechanism passed the status check asked for")
	}
}
