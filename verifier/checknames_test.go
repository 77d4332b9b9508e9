package verifier_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/statuslist"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/verifier"
)

// TestCheckName maps the names callers send in options.checks to the
// names the checks run and are reported under.
func TestCheckName(t *testing.T) {
	cases := []struct{ in, want string }{
		{"credentialStatus", verifier.CheckStatus},
		{"issuanceDate", verifier.CheckValidity},
		{"credentialSchema", verifier.CheckSchema},
		{"expiration", verifier.CheckValidity},
		{"validFrom", verifier.CheckValidity},
		{"validUntil", verifier.CheckValidity},
		{verifier.CheckStatus, verifier.CheckStatus},
		{verifier.CheckValidity, verifier.CheckValidity},
		{verifier.CheckSchema, verifier.CheckSchema},
		{verifier.CheckProof, verifier.CheckProof},
		{"bogus", "bogus"},
		{"CredentialStatus", "CredentialStatus"}, // names are case-sensitive
	}
	for _, c := range cases {
		if got := verifier.CheckName(c.in); got != c.want {
			t.Errorf("CheckName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestCheckNamesCredential selects a credential's checks by the VC-API's
// names, ours, and both at once: each selected check runs once and is
// reported once, under our name.
func TestCheckNamesCredential(t *testing.T) {
	mapped := []string{verifier.CheckParse, verifier.CheckProof, verifier.CheckValidity, verifier.CheckSchema, verifier.CheckStatus}
	cases := []struct {
		name   string
		checks []string
		want   []string // the checks reported, in order
		warn   credential.Code
	}{
		{name: "VC-API names", checks: []string{"credentialStatus", "issuanceDate", "credentialSchema", "proof"}, want: mapped},
		{name: "ours", checks: []string{"status", "validity", "schema", "proof"}, want: mapped},
		{name: "both spellings", checks: []string{"status", "credentialStatus", "validity", "issuanceDate", "expiration", "validFrom", "validUntil", "schema", "credentialSchema", "credentialStatus"}, want: mapped},
		{name: "credentialStatus alone", checks: []string{"credentialStatus"}, want: []string{verifier.CheckParse, verifier.CheckProof, verifier.CheckStatus}, warn: credential.SchemaValidationError},
		{name: "credentialSchema alone", checks: []string{"credentialSchema"}, want: []string{verifier.CheckParse, verifier.CheckProof, verifier.CheckSchema}, warn: credential.StatusRetrievalError},
		{name: "issuanceDate alone", checks: []string{"issuanceDate"}, want: []string{verifier.CheckParse, verifier.CheckProof, verifier.CheckValidity}, warn: credential.StatusRetrievalError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			v := statusAndSchemaVerifier(t, f)
			res := v.VerifyCredential(t.Context(), statusAndSchemaCredential(t, f), verifier.Options{Checks: c.checks})
			if !res.Verified {
				t.Fatalf("not verified: %+v", res.ProblemDetails)
			}
			if !slices.Equal(res.Checks, c.want) {
				t.Errorf("checks %v, want %v", res.Checks, c.want)
			}
			var reported []string
			for _, r := range res.Results {
				reported = append(reported, r.Check)
			}
			if !slices.Equal(reported, c.want) {
				t.Errorf("results %v, want %v", reported, c.want)
			}
			if c.warn != "" && !slices.ContainsFunc(res.Warnings, func(p verifier.ProblemDetail) bool { return p.Type == c.warn.Type() }) {
				t.Errorf("no %s warning in %+v", c.warn, res.Warnings)
			}
		})
	}
}

// TestCheckNamesUnknown: an unknown name fails the parse check with
// MALFORMED_VALUE_ERROR as before, naming the caller's spelling and
// listing the names accepted there, the aliases included. A name that is
// an alias of a check the endpoint does not run is unknown there too.
func TestCheckNamesUnknown(t *testing.T) {
	f := newFixture(t)
	v := statusAndSchemaVerifier(t, f)
	p := presenter{f: f, format: formatDI}
	vp := p.MustPresent(t, []any{p.MustCredential(t, subjectDID)}, "", "")
	cases := []struct {
		name      string
		run       func([]string) verifier.Result
		checks    []string
		want, not []string // in the detail, and not in it
	}{
		{
			name: "credential", checks: []string{"proof", "bogus"},
			run: func(c []string) verifier.Result {
				return v.VerifyCredential(t.Context(), statusAndSchemaCredential(t, f), verifier.Options{Checks: c})
			},
			want: []string{`"bogus"`, "status", "schema", "credentialStatus (status)", "issuanceDate (validity)", "credentialSchema (schema)", "expiration (validity)", "validFrom (validity)"},
		},
		{
			name: "presentation", checks: []string{"bogus"},
			run: func(c []string) verifier.Result {
				return v.VerifyPresentation(t.Context(), vp, verifier.Options{Checks: c})
			},
			want: []string{`"bogus"`, "challenge", "credentials", "holderBinding", "issuanceDate (validity)", "expiration (validity)", "credentialStatus (status)", "credentialSchema (schema)"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := c.run(c.checks)
			assertResult(t, res, expect{check: verifier.CheckParse, code: credential.MalformedValueError, checks: []string{verifier.CheckParse}})
			if len(res.ProblemDetails) != 1 {
				t.Fatalf("problems %+v", res.ProblemDetails)
			}
			detail := res.ProblemDetails[0].Detail
			for _, w := range c.want {
				if !strings.Contains(detail, w) {
					t.Errorf("detail %q lacks %q", detail, w)
				}
			}
			for _, w := range c.not {
				if strings.Contains(detail, w) {
					t.Errorf("detail %q has %q", detail, w)
				}
			}
		})
	}
}

// TestCheckNamesPresentation: the presentation's names, aliases among
// them, each run and reported once.
func TestCheckNamesPresentation(t *testing.T) {
	f := newFixture(t)
	v := f.verifier()
	p := presenter{f: f, format: formatDI}
	vp := p.MustPresent(t, []any{p.MustCredential(t, subjectDID)}, "", "")
	want := []string{verifier.CheckParse, verifier.CheckProof, verifier.CheckCredentials}
	for _, checks := range [][]string{
		{"proof", "credentials"},
		{"issuanceDate", "proof", "credentials", "credentials", "validFrom", "expiration", "validity"},
	} {
		res := v.VerifyPresentation(t.Context(), vp, verifier.Options{Checks: checks})
		if !res.Verified || !slices.Equal(res.Checks, want) || len(res.Results) != len(want) {
			t.Errorf("%v: verified %v, checks %v, want %v (%+v)", checks, res.Verified, res.Checks, want, res.ProblemDetails)
		}
	}
}

// statusAndSchemaVerifier is f's verifier with status lists on which the
// fixture credential's entries are clear, and the degree schema.
func statusAndSchemaVerifier(t *testing.T, f *fixture) *verifier.Verifier {
	t.Helper()
	lists := &fakeLists{}
	lists.put(revocationList, MustList(t, list{url: revocationList, issuer: f.iss.DID, purpose: statuslist.PurposeRevocation, signer: f.iss.Signer}), 7)
	lists.put(suspensionList, MustList(t, list{url: suspensionList, issuer: f.iss.DID, purpose: statuslist.PurposeSuspension, signer: f.iss.Signer}), 12)
	v := f.verifier()
	v.Lists = lists
	v.Schemas = fakeSchemas{degreeSchemaID: degreeSchema}
	return v
}

// statusAndSchemaCredential is a degree with status entries and a schema.
func statusAndSchemaCredential(t *testing.T, f *fixture) map[string]any {
	t.Helper()
	m := degree(f.iss.DID)
	withStatus(m)
	m["credentialSchema"] = map[string]any{"id": degreeSchemaID, "type": "JsonSchema"}
	return MustIssue(t, m, f.iss.Signer, issuer.FormatRDFC)
}

// TestCheckNamesPresentationPassDown: status and schema named for a
// presentation (in either spelling) are required of every credential it
// carries, which are then verified even if "credentials" is not named:
// a credential whose schema idmesh cannot check fails the presentation
// when the schema check is asked for, and only warns when it is not.
func TestCheckNamesPresentationPassDown(t *testing.T) {
	f := newFixture(t)
	v := statusAndSchemaVerifier(t, f)
	p := presenter{f: f, format: formatDI}
	vp := p.MustPresent(t, []any{statusAndSchemaCredential(t, f)}, "", "")
	for _, checks := range [][]string{{"proof", "credentialStatus", "credentialSchema"}, {"status", "schema"}} {
		res := v.VerifyPresentation(t.Context(), vp, verifier.Options{Checks: checks})
		if !res.Verified || len(res.Credentials) != 1 {
			t.Fatalf("%v: verified %v, %d credentials (%+v)", checks, res.Verified, len(res.Credentials), res.ProblemDetails)
		}
		got := res.Credentials[0].Checks
		if !slices.Contains(got, verifier.CheckStatus) || !slices.Contains(got, verifier.CheckSchema) {
			t.Errorf("%v: the credential ran %v, want status and schema among them", checks, got)
		}
	}
	m := degree(f.iss.DID)
	m["credentialSchema"] = map[string]any{"id": "https://example.com/unknown-schema", "type": "JsonSchema"}
	unknown := p.MustPresent(t, []any{MustIssue(t, m, f.iss.Signer, issuer.FormatRDFC)}, "", "")
	if res := v.VerifyPresentation(t.Context(), unknown, verifier.Options{Checks: []string{"credentialSchema"}}); res.Verified {
		t.Error("a credential whose schema cannot be checked passed a presentation that asked for the schema check")
	}
	if res := v.VerifyPresentation(t.Context(), unknown, verifier.Options{}); !res.Verified {
		t.Errorf("without the schema check asked for: %+v", res.ProblemDetails)
	}
}
