package verifier_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/verifier"
)

const degreeSchemaID = "https://schemas.example/degree/v1"

// degreeSchema requires the degree's name to be the bachelor's.
var degreeSchema = []byte(`{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://schemas.example/degree/v1",
  "type": "object",
  "required": ["credentialSubject"],
  "properties": {
    "credentialSubject": {
      "type": "object",
      "required": ["degree"],
      "properties": {"degree": {"type": "object", "required": ["name"], "properties": {"name": {"const": "Bachelor of Science and Arts"}}}}
    }
  }
}`)

// fakeSchemas serves schemas from memory.
type fakeSchemas map[string][]byte

var _ verifier.SchemaSource = fakeSchemas(nil)

func (s fakeSchemas) Schema(id string) ([]byte, error) {
	b, ok := s[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s is not on this chain", verifier.ErrUnknownSchema, id)
	}
	return b, nil
}

// failingSchemas cannot read its schemas.
type failingSchemas struct{}

func (failingSchemas) Schema(id string) ([]byte, error) {
	return nil, fmt.Errorf("read schema %s: store unavailable", id)
}

// fakeTrust accredits issuers for types, or fails.
type fakeTrust struct {
	types map[string][]string
	err   error
}

var _ verifier.TrustRegistry = fakeTrust{}

func (r fakeTrust) TrustedTypes(iss string) ([]string, error) { return r.types[iss], r.err }

func TestVerifySchema(t *testing.T) {
	all := []string{verifier.CheckParse, verifier.CheckContext, verifier.CheckProof, verifier.CheckValidity, verifier.CheckSchema}
	withSchema := func(id, typ string) func(m map[string]any) {
		return func(m map[string]any) { m["credentialSchema"] = map[string]any{"id": id, "type": typ} }
	}
	renamed := func(m map[string]any) {
		m["credentialSubject"].(map[string]any)["degree"].(map[string]any)["name"] = "Master of Arts"
	}
	cases := []struct {
		name string
		edit []func(m map[string]any)
		// schemas replaces the fixture's source; noSchemas removes it.
		schemas   verifier.SchemaSource
		noSchemas bool
		opts      verifier.Options
		want      expect
	}{
		{name: "match", edit: []func(map[string]any){withSchema(degreeSchemaID, "JsonSchema")}, want: expect{checks: all, passed: []string{verifier.CheckSchema}}},
		{name: "match, asked for", edit: []func(map[string]any){withSchema(degreeSchemaID, "JsonSchema")}, opts: verifier.Options{Checks: []string{verifier.CheckSchema}},
			want: expect{checks: []string{verifier.CheckParse, verifier.CheckProof, verifier.CheckSchema}, passed: []string{verifier.CheckSchema}}},
		{name: "mismatch", edit: []func(map[string]any){withSchema(degreeSchemaID, "JsonSchema"), renamed}, want: expect{check: verifier.CheckSchema, code: credential.SchemaValidationError, checks: all, passed: []string{verifier.CheckProof}}},
		// Issue 12 item 3: a schema the verifier cannot check is a
		// SCHEMA_NOT_CHECKED warning unless the check was asked for
		// (TestVerifySchemaNotChecked); it used to fail the check.
		{name: "unknown schema", edit: []func(map[string]any){withSchema("https://schemas.example/other/v1", "JsonSchema")}, want: expect{checks: all[:4], warn: credential.SchemaNotChecked}},
		{name: "not JsonSchema", edit: []func(map[string]any){withSchema(degreeSchemaID, "JsonSchemaCredential")}, want: expect{checks: all[:4], warn: credential.SchemaNotChecked}},
		{name: "no schema source", edit: []func(map[string]any){withSchema(degreeSchemaID, "JsonSchema")}, noSchemas: true, want: expect{checks: all[:4], warn: credential.SchemaNotChecked}},
		{name: "schema source fails", edit: []func(map[string]any){withSchema(degreeSchemaID, "JsonSchema")}, schemas: failingSchemas{},
			want: expect{check: verifier.CheckSchema, code: credential.SchemaValidationError, checks: all}},
		{name: "schema does not compile", edit: []func(map[string]any){withSchema(degreeSchemaID, "JsonSchema")}, schemas: fakeSchemas{degreeSchemaID: []byte(`{"$schema": "http://json-schema.org/draft-07/schema#"}`)},
			want: expect{check: verifier.CheckSchema, code: credential.SchemaValidationError, checks: all}},
		{name: "mismatch, not asked for", edit: []func(map[string]any){withSchema(degreeSchemaID, "JsonSchema"), renamed}, opts: verifier.Options{Checks: []string{verifier.CheckProof}},
			want: expect{checks: []string{verifier.CheckParse, verifier.CheckProof}, warn: credential.SchemaValidationError}},
		{name: "no credentialSchema", want: expect{checks: all[:4]}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			v := f.verifier()
			v.Schemas = fakeSchemas{degreeSchemaID: degreeSchema}
			switch {
			case c.noSchemas:
				v.Schemas = nil
			case c.schemas != nil:
				v.Schemas = c.schemas
			}
			m := degree(f.iss.DID)
			for _, e := range c.edit {
				e(m)
			}
			res := v.VerifyCredential(t.Context(), MustIssue(t, m, f.iss.Signer, issuer.FormatRDFC), c.opts)
			assertResult(t, res, c.want)
			if c.want.check == "" && c.want.warn == "" && len(res.Warnings) != 0 {
				t.Errorf("warnings %+v", res.Warnings)
			}
		})
	}
}

// TestCheckSchemas checks what issuers call before signing.
func TestCheckSchemas(t *testing.T) {
	v := &verifier.Verifier{Schemas: fakeSchemas{degreeSchemaID: degreeSchema}}
	m := degree("did:example:issuer")
	m["credentialSchema"] = []any{map[string]any{"id": degreeSchemaID, "type": "JsonSchema"}}
	c, err := credential.CredentialFrom(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.CheckSchemas(c); err != nil {
		t.Fatalf("match: %v", err)
	}
	m["credentialSubject"].(map[string]any)["degree"].(map[string]any)["name"] = "Master of Arts"
	if c, err = credential.CredentialFrom(m); err != nil {
		t.Fatal(err)
	}
	if err := v.CheckSchemas(c); credential.CodeOf(err, "") != credential.SchemaValidationError {
		t.Fatalf("mismatch: %v", err)
	}
}

func TestVerifyTrust(t *testing.T) {
	base := []string{verifier.CheckParse, verifier.CheckContext, verifier.CheckProof, verifier.CheckValidity}
	all := append(base[:4:4], verifier.CheckTrust)
	untrusted := expect{check: verifier.CheckTrust, code: credential.UntrustedIssuerError, checks: all, passed: []string{verifier.CheckProof}}
	trusted := expect{checks: all, passed: []string{verifier.CheckTrust}}
	cases := []struct {
		name string
		// registry maps "iss" and "other" to types.
		registry map[string][]string
		regErr   error
		noReg    bool
		policy   verifier.TrustPolicy
		local    map[string][]string
		opts     verifier.Options
		want     expect
	}{
		{name: "not required", registry: map[string][]string{}, want: expect{checks: base}},
		{name: "required for another type", registry: map[string][]string{}, policy: verifier.TrustPolicy{Require: []string{"ExampleDiplomaCredential"}}, want: expect{checks: base}},
		{name: "require, accredited", registry: map[string][]string{"iss": {"ExampleDegreeCredential"}}, policy: verifier.TrustPolicy{Require: []string{"ExampleDegreeCredential"}}, want: trusted},
		{name: "require, accredited for others", registry: map[string][]string{"iss": {"ExampleDiplomaCredential"}, "other": {"ExampleDegreeCredential"}}, policy: verifier.TrustPolicy{Require: []string{"ExampleDegreeCredential"}}, want: untrusted},
		{name: "require, registry fails", regErr: errors.New("chain unavailable"), policy: verifier.TrustPolicy{Require: []string{"ExampleDegreeCredential"}}, want: untrusted},
		{name: "require, no registry", noReg: true, policy: verifier.TrustPolicy{Require: []string{"ExampleDegreeCredential"}}, want: untrusted},
		{name: "require, trusted locally", noReg: true, local: map[string][]string{"iss": {"ExampleDegreeCredential"}}, policy: verifier.TrustPolicy{Require: []string{"ExampleDegreeCredential"}}, want: trusted},
		{name: "require, trusted locally and by registry", registry: map[string][]string{"iss": {"ExampleDiplomaCredential"}}, local: map[string][]string{"iss": {"ExampleDegreeCredential"}},
			policy: verifier.TrustPolicy{Require: []string{"ExampleDegreeCredential", "ExampleDiplomaCredential"}}, want: trusted},
		{name: "require *, accredited", registry: map[string][]string{"iss": {"ExampleDegreeCredential"}}, policy: verifier.TrustPolicy{Require: []string{"*"}}, want: trusted},
		{name: "require *, not accredited", registry: map[string][]string{"other": {"ExampleDegreeCredential"}}, policy: verifier.TrustPolicy{Require: []string{"*"}}, want: untrusted},
		{name: "explicit check, accredited", registry: map[string][]string{"iss": {"ExampleDegreeCredential"}}, opts: verifier.Options{Checks: []string{verifier.CheckTrust}},
			want: expect{checks: []string{verifier.CheckParse, verifier.CheckProof, verifier.CheckTrust}, passed: []string{verifier.CheckTrust}}},
		{name: "explicit check, not accredited", registry: map[string][]string{}, opts: verifier.Options{Checks: []string{verifier.CheckTrust}},
			want: expect{check: verifier.CheckTrust, code: credential.UntrustedIssuerError, checks: []string{verifier.CheckParse, verifier.CheckProof, verifier.CheckTrust}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			names := map[string]string{"iss": f.iss.DID, "other": f.other.DID}
			rename := func(m map[string][]string) map[string][]string {
				if m == nil {
					return nil
				}
				out := map[string][]string{}
				for k, v := range m {
					out[names[k]] = v
				}
				return out
			}
			v := f.verifier()
			if !c.noReg {
				v.Trust = fakeTrust{types: rename(c.registry), err: c.regErr}
			}
			v.TrustPolicy = c.policy
			v.TrustPolicy.Trusted = rename(c.local)
			res := v.VerifyCredential(t.Context(), MustIssue(t, degree(f.iss.DID), f.iss.Signer, issuer.FormatJCS), c.opts)
			assertResult(t, res, c.want)
			if c.want.check == "" && len(c.want.passed) == 0 && len(res.Checks) != len(c.want.checks) {
				t.Errorf("checks %v, want %v", res.Checks, c.want.checks)
			}
		})
	}
}
