package verifier_test

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/didkeys"
	"github.com/idmesh/idmesh/credential/ld"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/verifier"
)

const examplesV2 = "https://www.w3.org/ns/credentials/examples/v2"

// sri is the digestSRI (sha256) of content.
func sri(content []byte) string {
	sum := sha256.Sum256(content)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// TestVerifyCredential runs every check on a credential secured in each
// mechanism, and every way each check fails.
func TestVerifyCredential(t *testing.T) {
	all := []string{verifier.CheckParse, verifier.CheckContext, verifier.CheckProof, verifier.CheckValidity}
	examples, ok := ld.Context(examplesV2)
	if !ok {
		t.Fatal("examples context not bundled")
	}
	type tc struct {
		name string
		// formats limits the case to some formats.
		formats []string
		// make returns the input; it defaults to the degree issued by f.iss.
		make func(t *testing.T, f *fixture, format string) any
		// keys replaces the fixture's key resolver.
		keys func(f *fixture) credential.KeyResolver
		opts verifier.Options
		// want is the outcome; wantJWT, when its checks are set, the
		// outcome for vc+jwt (whose payload is not read before its
		// signature verifies).
		want, wantJWT expect
	}
	issued := func(edit func(m map[string]any)) func(t *testing.T, f *fixture, format string) any {
		return func(t *testing.T, f *fixture, format string) any {
			m := degree(f.iss.DID)
			if edit != nil {
				edit(m)
			}
			return MustIssue(t, m, f.iss.Signer, format)
		}
	}
	onlyKey := func(purpose string, compromised bool) func(f *fixture) credential.KeyResolver {
		return func(f *fixture) credential.KeyResolver {
			k := f.iss.Key()
			k.Compromised = compromised
			var s credential.StaticKeys
			s.Add(k, purpose)
			return &s
		}
	}
	proofOnly := []string{verifier.CheckParse, verifier.CheckProof}
	cases := []tc{
		{name: "valid", want: expect{checks: all}},
		{name: "valid/issuer absent, filled in", make: issued(func(m map[string]any) { delete(m, "issuer") }), want: expect{checks: all}},
		{name: "valid/did:key resolution", keys: func(*fixture) credential.KeyResolver {
			return didkeys.DIDKeys{Resolver: did.Methods{"key": key.Resolver{}}}
		}, want: expect{checks: all}},
		{
			name: "tampered claim",
			make: func(t *testing.T, f *fixture, format string) any {
				return MustTamper(t, MustIssue(t, degree(f.iss.DID), f.iss.Signer, format))
			},
			want:    expect{check: verifier.CheckProof, code: credential.ProofVerificationError, checks: all},
			wantJWT: expect{check: verifier.CheckProof, code: credential.CryptographicSecurityError, checks: proofOnly},
		},
		{
			name: "issuer mismatch",
			make: func(t *testing.T, f *fixture, format string) any {
				return MustSign(t, degree(f.iss.DID), f.other.Signer, format)
			},
			want:    expect{check: verifier.CheckProof, code: credential.IssuerMismatchError, checks: all},
			wantJWT: expect{check: verifier.CheckProof, code: credential.IssuerMismatchError, checks: proofOnly},
		},
		{
			name:    "unknown key",
			keys:    func(f *fixture) credential.KeyResolver { return &credential.StaticKeys{} },
			want:    expect{check: verifier.CheckProof, code: credential.ProofVerificationError, checks: all},
			wantJWT: expect{check: verifier.CheckProof, code: credential.CryptographicSecurityError, checks: proofOnly},
		},
		{
			name:    "key not in assertionMethod",
			keys:    onlyKey(credential.PurposeAuthentication, false),
			want:    expect{check: verifier.CheckProof, code: credential.ProofVerificationError, checks: all},
			wantJWT: expect{check: verifier.CheckProof, code: credential.CryptographicSecurityError, checks: proofOnly},
		},
		{
			name:    "compromised key",
			keys:    onlyKey(credential.PurposeAssertion, true),
			want:    expect{check: verifier.CheckProof, code: credential.KeyCompromisedError, checks: all},
			wantJWT: expect{check: verifier.CheckProof, code: credential.KeyCompromisedError, checks: proofOnly},
		},
		{
			name: "expired",
			make: issued(func(m map[string]any) { m["validUntil"] = credential.FormatDateTime(t0.Add(-2 * time.Minute)) }),
			want: expect{check: verifier.CheckValidity, code: credential.ValidityPeriodError, checks: all, passed: []string{verifier.CheckProof}},
		},
		{
			name: "not yet valid",
			make: issued(func(m map[string]any) { m["validFrom"] = credential.FormatDateTime(t0.Add(2 * time.Minute)) }),
			want: expect{check: verifier.CheckValidity, code: credential.ValidityPeriodError, checks: all, passed: []string{verifier.CheckProof}},
		},
		{
			name: "expired within skew",
			make: issued(func(m map[string]any) { m["validUntil"] = credential.FormatDateTime(t0.Add(-30 * time.Second)) }),
			want: expect{checks: all},
		},
		{
			name: "not yet valid within skew",
			make: issued(func(m map[string]any) { m["validFrom"] = credential.FormatDateTime(t0.Add(30 * time.Second)) }),
			want: expect{checks: all},
		},
		{
			name: "expired, alias expiration",
			make: issued(func(m map[string]any) { m["validUntil"] = credential.FormatDateTime(t0.Add(-2 * time.Minute)) }),
			opts: verifier.Options{Checks: []string{"expiration"}},
			want: expect{check: verifier.CheckValidity, code: credential.ValidityPeriodError, checks: []string{verifier.CheckParse, verifier.CheckProof, verifier.CheckValidity}},
		},
		{
			name: "expired, validity not selected",
			make: issued(func(m map[string]any) { m["validUntil"] = credential.FormatDateTime(t0.Add(-2 * time.Minute)) }),
			opts: verifier.Options{Checks: []string{verifier.CheckProof}},
			want: expect{checks: proofOnly},
		},
		{
			name: "unknown context",
			make: func(t *testing.T, f *fixture, format string) any {
				m := degree(f.iss.DID)
				if format == issuer.FormatRDFC {
					// eddsa-rdfc-2022 cannot sign what it cannot expand:
					// the context is added after signing.
					vc := MustIssue(t, m, f.iss.Signer, format)
					vc["@context"] = append(vc["@context"].([]any), "https://example.com/unknown/v1")
					return vc
				}
				m["@context"] = append(m["@context"].([]any), "https://example.com/unknown/v1")
				return MustSign(t, m, f.iss.Signer, format)
			},
			want: expect{check: verifier.CheckContext, code: credential.UnknownContextError, checks: all},
		},
		{
			// Secured as JSON, the credential's proof holds: only the
			// context check fails.
			name:    "unknown context, proof holds",
			formats: []string{issuer.FormatJCS, issuer.FormatJWT},
			make: func(t *testing.T, f *fixture, format string) any {
				m := degree(f.iss.DID)
				m["@context"] = append(m["@context"].([]any), "https://example.com/unknown/v1")
				return MustSign(t, m, f.iss.Signer, format)
			},
			want: expect{check: verifier.CheckContext, code: credential.UnknownContextError, checks: all, passed: []string{verifier.CheckProof, verifier.CheckValidity}},
		},
		{
			name: "relatedResource matches",
			make: issued(func(m map[string]any) {
				m["relatedResource"] = []any{map[string]any{"id": examplesV2, "digestSRI": sri(examples)}}
			}),
			want: expect{checks: append(all, verifier.CheckRelatedResource)},
		},
		{
			// Signed elsewhere: issuance refuses it (issuer.Issue).
			name: "relatedResource bad digest",
			make: func(t *testing.T, f *fixture, format string) any {
				m := degree(f.iss.DID)
				m["relatedResource"] = []any{map[string]any{"id": examplesV2, "digestSRI": sri([]byte("not the context"))}}
				return MustSign(t, m, f.iss.Signer, format)
			},
			want: expect{check: verifier.CheckRelatedResource, code: credential.ResourceIntegrityError, checks: append(all, verifier.CheckRelatedResource)},
		},
		{
			name: "relatedResource unavailable",
			make: issued(func(m map[string]any) {
				m["relatedResource"] = []any{map[string]any{"id": "https://example.com/terms.html", "digestSRI": sri([]byte("terms"))}}
			}),
			want: expect{checks: append(all, verifier.CheckRelatedResource), warn: credential.ResourceIntegrityError},
		},
	}
	for _, format := range issuer.Formats {
		for _, c := range cases {
			if c.formats != nil && !slices.Contains(c.formats, format) {
				continue
			}
			t.Run(format+"/"+c.name, func(t *testing.T) {
				f := newFixture(t)
				var in any
				if c.make != nil {
					in = c.make(t, f, format)
				} else {
					in = MustIssue(t, degree(f.iss.DID), f.iss.Signer, format)
				}
				v := f.verifier()
				if c.keys != nil {
					v.Keys = c.keys(f)
				}
				res := v.VerifyCredential(t.Context(), in, c.opts)
				want := c.want
				if format == issuer.FormatJWT && c.wantJWT.checks != nil {
					want = c.wantJWT
				}
				assertResult(t, res, want)
				if res.Format != format {
					t.Errorf("format %q, want %q", res.Format, format)
				}
				if want.check == "" && res.Issuer != f.iss.DID {
					t.Errorf("issuer %q, want %q", res.Issuer, f.iss.DID)
				}
				if want.check == "" && res.Document["credentialSubject"] == nil {
					t.Errorf("no document: %v", res.Document)
				}
			})
		}
	}
}

// TestVerifyCredentialForms checks the forms a credential may come in:
// an enveloping object, a data: URL, a bare token.
func TestVerifyCredentialForms(t *testing.T) {
	f := newFixture(t)
	env := MustIssue(t, degree(f.iss.DID), f.iss.Signer, issuer.FormatJWT)
	dataURL := env["id"].(string)
	_, token, _ := strings.Cut(dataURL, ",")
	for name, in := range map[string]any{"enveloped": env, "data URL": dataURL, "bare token": token} {
		t.Run(name, func(t *testing.T) {
			res := f.verifier().VerifyCredential(t.Context(), in, verifier.Options{})
			assertResult(t, res, expect{checks: []string{verifier.CheckParse, verifier.CheckContext, verifier.CheckProof, verifier.CheckValidity}})
			if res.Format != issuer.FormatJWT {
				t.Errorf("format %q", res.Format)
			}
		})
	}
}

// TestVerifyCredentialMalformed feeds inputs that do not parse.
func TestVerifyCredentialMalformed(t *testing.T) {
	f := newFixture(t)
	vc := MustIssue(t, degree(f.iss.DID), f.iss.Signer, issuer.FormatRDFC)
	parse := []string{verifier.CheckParse}
	cases := []struct {
		name string
		in   any
		opts verifier.Options
		code credential.Code
	}{
		{"nil", nil, verifier.Options{}, credential.ParsingError},
		{"number", 42, verifier.Options{}, credential.ParsingError},
		{"array", []any{vc}, verifier.Options{}, credential.ParsingError},
		{"bare JWS garbage", "!!!.###.$$$", verifier.Options{}, credential.ParsingError},
		{"JWS without typ", "eyJhbGciOiJFZERTQSJ9.bm90IGpzb24.c2ln", verifier.Options{}, credential.MalformedValueError},
		{"not a token", "hello", verifier.Options{}, credential.ParsingError},
		{"data URL of another media type", "data:text/plain,hello", verifier.Options{}, credential.ParsingError},
		{"enveloped without a data URL", map[string]any{
			"@context": []any{credential.ContextV2}, "type": credential.TypeEnvelopedCredential, "id": "https://example.com/vc/1",
		}, verifier.Options{}, credential.ParsingError},
		{"enveloped without an id", map[string]any{
			"@context": []any{credential.ContextV2}, "type": credential.TypeEnvelopedCredential,
		}, verifier.Options{}, credential.MalformedValueError},
		{"object without a context", map[string]any{"type": "VerifiableCredential"}, verifier.Options{}, credential.MalformedValueError},
		{"credential without a subject", func() map[string]any { m := MustClone(t, vc); delete(m, "credentialSubject"); return m }(), verifier.Options{}, credential.MalformedValueError},
		{"unknown check", vc, verifier.Options{Checks: []string{verifier.CheckProof, "bogus"}}, credential.MalformedValueError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := f.verifier().VerifyCredential(t.Context(), c.in, c.opts)
			assertResult(t, res, expect{check: verifier.CheckParse, code: c.code, checks: parse})
			if len(res.Checks) != 1 {
				t.Errorf("checks after a parse failure: %v", res.Checks)
			}
		})
	}
}
