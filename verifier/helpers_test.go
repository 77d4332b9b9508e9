package verifier_test

import (
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/verifier"
)

// t0 is the verifiers' clock in these tests; credentials are issued an
// hour before.
var (
	t0       = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	issuedAt = t0.Add(-time.Hour)
)

// subjectDID is the subject of the test credentials.
const subjectDID = "did:example:ebfeb1f712ebc6f1c276e12ec21"

// party is a did:key with its signing key.
type party struct {
	DID    string
	Signer credential.KeySigner
}

// MustParty returns a did:key party whose Ed25519 key is drawn from a
// ChaCha8 stream seeded with seed.
func MustParty(tb testing.TB, seed byte) party {
	tb.Helper()
	k, err := keys.Generate(keys.Ed25519, rand.NewChaCha8([32]byte{seed}))
	if err != nil {
		tb.Fatal(err)
	}
	d := key.New(k.Public())
	return party{DID: d, Signer: credential.KeySigner{ID: d + "#" + k.Public().Multibase(), Key: k}}
}

// Key is the party's verification key.
func (p party) Key() credential.VerificationKey {
	return credential.VerificationKey{ID: p.Signer.ID, Controller: p.DID, Public: p.Signer.Key.Public()}
}

// fixture is an issuer, another issuer, a holder, their keys and a clock.
type fixture struct {
	iss, other, holder party
	keys               *credential.StaticKeys
	clk                *clock
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	f := &fixture{iss: MustParty(tb, 1), other: MustParty(tb, 2), holder: MustParty(tb, 3), keys: &credential.StaticKeys{}, clk: &clock{t: t0}}
	f.keys.Add(f.iss.Key(), credential.PurposeAssertion)
	f.keys.Add(f.other.Key(), credential.PurposeAssertion)
	f.keys.Add(f.holder.Key(), credential.PurposeAuthentication)
	return f
}

func (f *fixture) verifier() *verifier.Verifier {
	return &verifier.Verifier{Keys: f.keys, Now: f.clk.now}
}

// degree is an unsecured example credential about subjectDID.
func degree(iss string) map[string]any {
	m := map[string]any{
		"@context": []any{credential.ContextV2, "https://www.w3.org/ns/credentials/examples/v2"},
		"type":     []any{credential.TypeCredential, "ExampleDegreeCredential"},
		"credentialSubject": map[string]any{
			"id":     subjectDID,
			"degree": map[string]any{"type": "ExampleBachelorDegree", "name": "Bachelor of Science and Arts"},
		},
	}
	if iss != "" {
		m["issuer"] = iss
	}
	return m
}

// MustIssue issues cred with signer in format, at issuedAt.
func MustIssue(tb testing.TB, cred map[string]any, signer credential.Signer, format string) map[string]any {
	tb.Helper()
	vc, err := issuer.Issue(tb.Context(), cred, signer, issuer.Options{Format: format, Now: issuedAt})
	if err != nil {
		tb.Fatalf("issue %s: %v", format, err)
	}
	return vc
}

// MustSign secures cred in format without Issue's checks: the issuer may
// be another, and the contexts are not checked for vc+jwt and JCS.
func MustSign(tb testing.TB, cred map[string]any, signer credential.Signer, format string) map[string]any {
	tb.Helper()
	if format == issuer.FormatJWT {
		tok, err := jose.SignCredential(cred, signer, jose.SignOptions{})
		if err != nil {
			tb.Fatal(err)
		}
		return jose.Envelope(tok, jose.MediaTypeVC)
	}
	vc, err := dataintegrity.Sign(tb.Context(), cred, signer, dataintegrity.SignOptions{Cryptosuite: format, Created: issuedAt})
	if err != nil {
		tb.Fatalf("sign %s: %v", format, err)
	}
	return vc
}

// MustClone deep-copies a JSON object.
func MustClone(tb testing.TB, m map[string]any) map[string]any {
	tb.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		tb.Fatal(err)
	}
	return out
}

// MustTamper changes the degree's name of a secured credential, keeping
// its proof (or, enveloped, its signature).
func MustTamper(tb testing.TB, vc map[string]any) map[string]any {
	tb.Helper()
	out := MustClone(tb, vc)
	if id, ok := out["id"].(string); ok && strings.HasPrefix(id, "data:") {
		prefix, token, _ := strings.Cut(id, ",")
		parts := strings.Split(token, ".")
		if len(parts) != 3 {
			tb.Fatalf("not a compact JWS: %s", token)
		}
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			tb.Fatal(err)
		}
		changed := strings.Replace(string(payload), "Bachelor of Science and Arts", "Doctor of Philosophy", 1)
		if changed == string(payload) {
			tb.Fatalf("nothing to tamper with in %s", payload)
		}
		parts[1] = base64.RawURLEncoding.EncodeToString([]byte(changed))
		out["id"] = prefix + "," + strings.Join(parts, ".")
		return out
	}
	out["credentialSubject"].(map[string]any)["degree"].(map[string]any)["name"] = "Doctor of Philosophy"
	return out
}

// expect is the expected outcome of a verification: verified when check
// is empty, else failed by check with code; checks lists checks that must
// have reported whatever the outcome.
type expect struct {
	check  string
	code   credential.Code
	checks []string
	// passed lists checks that must have passed.
	passed []string
	warn   credential.Code
}

// assertResult checks a result against want.
func assertResult(tb testing.TB, res verifier.Result, want expect) {
	tb.Helper()
	if len(res.Checks) != len(res.Results) {
		tb.Errorf("checks %v but %d results", res.Checks, len(res.Results))
	}
	if len(res.Errors) != len(res.ProblemDetails) {
		tb.Errorf("errors %v but problemDetails %v", res.Errors, res.ProblemDetails)
	}
	for _, c := range want.checks {
		if !slices.Contains(res.Checks, c) {
			tb.Errorf("check %q did not report: checks %v", c, res.Checks)
		}
	}
	for _, c := range want.passed {
		if !slices.ContainsFunc(res.Results, func(r verifier.CheckResult) bool { return r.Check == c && r.Verified }) {
			tb.Errorf("check %q did not pass: %+v", c, res.ProblemDetails)
		}
	}
	if want.warn != "" && !slices.ContainsFunc(res.Warnings, func(p verifier.ProblemDetail) bool { return p.Type == want.warn.Type() }) {
		tb.Errorf("no %s warning in %+v", want.warn, res.Warnings)
	}
	if want.check == "" {
		if !res.Verified || len(res.ProblemDetails) != 0 {
			tb.Errorf("want verified, got %+v", res.ProblemDetails)
		}
		return
	}
	if res.Verified {
		tb.Errorf("want %s to fail with %s, got verified (checks %v)", want.check, want.code, res.Checks)
		return
	}
	i := slices.IndexFunc(res.Results, func(r verifier.CheckResult) bool { return r.Check == want.check })
	if i < 0 {
		tb.Errorf("check %q did not run: checks %v, problems %+v", want.check, res.Checks, res.ProblemDetails)
		return
	}
	r := res.Results[i]
	switch {
	case r.Verified || r.Problem == nil:
		tb.Errorf("check %q passed; problems %+v", want.check, res.ProblemDetails)
	case r.Problem.Type != want.code.Type():
		tb.Errorf("check %q: type %s (%s), want %s", want.check, r.Problem.Type, r.Problem.Detail, want.code.Type())
	case r.Problem.Title == "":
		tb.Errorf("check %q: problem without a title: %+v", want.check, r.Problem)
	}
	if !slices.ContainsFunc(res.ProblemDetails, func(p verifier.ProblemDetail) bool { return p.Type == want.code.Type() }) {
		tb.Errorf("problemDetails %+v lack %s", res.ProblemDetails, want.code)
	}
}
