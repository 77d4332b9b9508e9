package verifier_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/verifier"
)

// TestVerifySchemaNotChecked is issue 12 item 3: a credentialSchema the
// verifier cannot check (not JsonSchema, or a JsonSchema neither
// registered nor bundled) is reported as not performed, a warning of type
// SCHEMA_NOT_CHECKED, and fails the credential only when the relying
// party asked for the schema check in options.checks (as schema or
// credentialSchema). Schemas it holds are still checked beside them.
func TestVerifySchemaNotChecked(t *testing.T) {
	known := map[string]any{"id": degreeSchemaID, "type": "JsonSchema"}
	unknown := map[string]any{"id": "https://schemas.example/other/v1", "type": "JsonSchema"}
	otherType := map[string]any{"id": "https://schemas.example/credential/v1", "type": "JsonSchemaCredential"}
	noType := map[string]any{"id": "https://schemas.example/untyped/v1", "type": []any{"JsonSchema", "Other"}}
	cases := []struct {
		name    string
		schemas []any
		renamed bool // the credential breaks the known schema
		checks  []string
		// verified is the outcome; failCode the schema check's problem
		// when it fails; ran whether the schema check is reported.
		verified bool
		failCode credential.Code
		ran      bool
		// warnings counts the SCHEMA_NOT_CHECKED warnings.
		warnings int
	}{
		{name: "unknown, default checks", schemas: []any{unknown}, verified: true, warnings: 1},
		{name: "other type, default checks", schemas: []any{otherType}, verified: true, warnings: 1},
		{name: "type not a string, default checks", schemas: []any{noType}, verified: true, warnings: 1},
		{name: "unknown and other type", schemas: []any{unknown, otherType}, verified: true, warnings: 2},
		{name: "unknown, schema asked for", schemas: []any{unknown}, checks: []string{"proof", "schema"}, failCode: credential.SchemaNotChecked, ran: true},
		{name: "unknown, credentialSchema asked for", schemas: []any{unknown}, checks: []string{"credentialSchema"}, failCode: credential.SchemaNotChecked, ran: true},
		{name: "other type, both names asked for", schemas: []any{otherType}, checks: []string{"schema", "credentialSchema"}, failCode: credential.SchemaNotChecked, ran: true},
		{name: "unknown, other checks asked for", schemas: []any{unknown}, checks: []string{"proof"}, verified: true},
		{name: "known matches, unknown beside it", schemas: []any{known, unknown}, verified: true, ran: true, warnings: 1},
		{name: "known matches, unknown beside it, asked for", schemas: []any{known, unknown}, checks: []string{"schema"}, failCode: credential.SchemaNotChecked, ran: true},
		{name: "known broken, unknown beside it", schemas: []any{unknown, known}, renamed: true, failCode: credential.SchemaValidationError, ran: true, warnings: 1},
		{name: "known matches, asked for", schemas: []any{known}, checks: []string{"credentialSchema"}, verified: true, ran: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			v := f.verifier()
			v.Schemas = fakeSchemas{degreeSchemaID: degreeSchema}
			m := degree(f.iss.DID)
			m["credentialSchema"] = c.schemas
			if c.renamed {
				m["credentialSubject"].(map[string]any)["degree"].(map[string]any)["name"] = "Master of Arts"
			}
			res := v.VerifyCredential(t.Context(), MustIssue(t, m, f.iss.Signer, issuer.FormatJCS), verifier.Options{Checks: c.checks})
			if res.Verified != c.verified {
				t.Fatalf("verified %v, want %v: %+v", res.Verified, c.verified, res.ProblemDetails)
			}
			if got := slices.Contains(res.Checks, verifier.CheckSchema); got != c.ran {
				t.Errorf("schema check reported: %v, want %v (checks %v)", got, c.ran, res.Checks)
			}
			if !c.verified {
				i := slices.IndexFunc(res.Results, func(r verifier.CheckResult) bool { return r.Check == verifier.CheckSchema })
				if i < 0 || res.Results[i].Problem == nil || res.Results[i].Problem.Type != c.failCode.Type() || res.Results[i].Problem.Title == "" {
					t.Fatalf("schema check %+v, want %s", res.Results, c.failCode)
				}
				if c.failCode == credential.SchemaNotChecked && !strings.Contains(res.Results[i].Problem.Detail, "schemas.example") {
					t.Errorf("detail %q does not name the schema", res.Results[i].Problem.Detail)
				}
			}
			n := 0
			for _, w := range res.Warnings {
				if w.Type == credential.SchemaNotChecked.Type() {
					n++
					if w.Title == "" || !strings.Contains(w.Detail, "credentialSchema https://schemas.example/") {
						t.Errorf("warning %+v", w)
					}
				}
			}
			if n != c.warnings {
				t.Errorf("%d SCHEMA_NOT_CHECKED warnings, want %d: %+v", n, c.warnings, res.Warnings)
			}
		})
	}
}

// TestCheckSchemasSkipsWhatItCannotCheck: what issuers call before
// signing accepts the schemas the verifier cannot check, and still
// refuses a credential that breaks one it holds.
func TestCheckSchemasSkipsWhatItCannotCheck(t *testing.T) {
	for name, v := range map[string]*verifier.Verifier{
		"schemas":    {Schemas: fakeSchemas{degreeSchemaID: degreeSchema}},
		"no schemas": {},
	} {
		m := degree("did:example:issuer")
		m["credentialSchema"] = []any{
			map[string]any{"id": "https://schemas.example/other/v1", "type": "JsonSchema"},
			map[string]any{"id": degreeSchemaID, "type": "JsonSchemaCredential"},
		}
		c, err := credential.CredentialFrom(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.CheckSchemas(c); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	v := &verifier.Verifier{Schemas: fakeSchemas{degreeSchemaID: degreeSchema}}
	m := degree("did:example:issuer")
	m["credentialSchema"] = []any{map[string]any{"id": "https://schemas.example/other/v1", "type": "JsonSchema"}, map[string]any{"id": degreeSchemaID, "type": "JsonSchema"}}
	m["credentialSubject"].(map[string]any)["degree"].(map[string]any)["name"] = "Master of Arts"
	c, err := credential.CredentialFrom(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.CheckSchemas(c); credential.CodeOf(err, "") != credential.SchemaValidationError {
		t.Fatalf("broken known schema: %v", err)
	}
}
