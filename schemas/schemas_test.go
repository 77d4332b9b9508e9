package schemas_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/ld"
	"github.com/idmesh/idmesh/credential/schema"
	"github.com/idmesh/idmesh/did/strictjson"
	"github.com/idmesh/idmesh/schemas"
)

// failure is what an invalid example must fail with: the instance location
// and keyword the detail names, and a word of the reason.
type failure struct {
	at, keyword, reason string
}

// examples lists every file under testdata/<schema>/: valid-* files pass,
// invalid-* files fail as given.
var examples = map[string]map[string]*failure{
	"university-degree": {
		"valid-bachelor":               nil,
		"valid-master-issuer-object":   nil,
		"invalid-degree-missing-name":  {"/credentialSubject/degree", "required", "'name'"},
		"invalid-degree-type":          {"/credentialSubject/degree/type", "enum", "BachelorDegree"},
		"invalid-type-missing-degree":  {"/type", "contains", "UniversityDegreeCredential"},
		"invalid-valid-from-date-only": {"/validFrom", "format", "date-time"},
		"invalid-context-order":        {"/@context/0", "const", "credentials/v2"},
		"invalid-issuer-number":        {"/issuer", "type", "string"},
	},
	"employment": {
		"valid-current":            nil,
		"valid-former-part-time":   nil,
		"invalid-missing-employer": {"/credentialSubject", "required", "'employer'"},
		"invalid-start-date":       {"/credentialSubject/startDate", "format", "date"},
		"invalid-employment-type":  {"/credentialSubject/employmentType", "enum", "FullTime"},
	},
	"age-over-18": {
		"valid":                        nil,
		"valid-issuer-object":          nil,
		"invalid-false":                {"/credentialSubject/ageOver18", "const", "true"},
		"invalid-string":               {"/credentialSubject/ageOver18", "const", "true"},
		"invalid-birth-date-disclosed": {"/credentialSubject", "additionalProperties", "'birthDate'"},
		"invalid-missing-subject-id":   {"/credentialSubject", "required", "'id'"},
	},
	"kyc-identity": {
		"valid-passport":                    nil,
		"valid-minimal":                     nil,
		"invalid-nationality-alpha3":        {"/credentialSubject/nationality", "pattern", "^[A-Z]{2}$"},
		"invalid-birth-date":                {"/credentialSubject/birthDate", "format", "date"},
		"invalid-missing-document-number":   {"/credentialSubject", "required", "'documentNumber'"},
		"invalid-document-number-lowercase": {"/credentialSubject/documentNumber", "pattern", "[A-Z0-9]"},
	},
	"professional-licence": {
		"valid-nurse":              nil,
		"valid-minimal":            nil,
		"invalid-missing-expiry":   {"/credentialSubject/licence", "required", "'expiryDate'"},
		"invalid-authority-string": {"/credentialSubject/licence/issuingAuthority", "type", "object"},
		"invalid-jurisdiction":     {"/credentialSubject/licence/jurisdiction", "pattern", "[A-Z]{2}"},
		"invalid-expiry-date":      {"/credentialSubject/licence/expiryDate", "format", "date"},
	},
	"product-origin": {
		"valid-harvest":             nil,
		"valid-manufactured":        nil,
		"invalid-gtin":              {"/credentialSubject/gtin", "pattern", "[0-9]{8}"},
		"invalid-country-lowercase": {"/credentialSubject/countryOfOrigin", "pattern", "^[A-Z]{2}$"},
		"invalid-no-date":           {"/credentialSubject", "required", "Date'"},
		"invalid-batch-too-long":    {"/credentialSubject/batchNumber", "pattern", "{1,20}"},
		"invalid-harvest-date":      {"/credentialSubject/harvestDate", "format", "date"},
	},
	"health-insurance": {
		"valid-full":                       nil,
		"valid-minimal":                    nil,
		"invalid-missing-coverage-end":     {"/credentialSubject", "required", "'coverageEndDate'"},
		"invalid-coverage-start-date-time": {"/credentialSubject/coverageStartDate", "format", "date"},
		"invalid-insurer-missing-name":     {"/credentialSubject/insurer", "required", "'name'"},
		"invalid-policy-number":            {"/credentialSubject/policyNumber", "pattern", "{4,32}"},
	},
}

func TestNames(t *testing.T) {
	names := schemas.Names()
	if !slices.IsSorted(names) {
		t.Errorf("Names() = %v, not sorted", names)
	}
	var want []string
	for n := range examples {
		want = append(want, n)
	}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("Names() = %v, want %v (one example table per schema)", names, want)
	}
	if _, ok := schemas.Get("no-such-schema"); ok {
		t.Error("Get(no-such-schema) found one")
	}
}

// TestSchemas checks each schema's metadata and that it compiles.
func TestSchemas(t *testing.T) {
	var c schema.Compiler
	for _, name := range schemas.Names() {
		t.Run(name, func(t *testing.T) {
			b, ok := schemas.Get(name)
			if !ok {
				t.Fatal("Get: not found")
			}
			fb, err := fs.ReadFile(schemas.FS(), name+".json")
			if err != nil || string(fb) != string(b) {
				t.Fatalf("FS file differs from Get (err %v)", err)
			}
			m, err := strictjson.Object(b, schema.MaxSchemaBytes)
			if err != nil {
				t.Fatal(err)
			}
			id := schemas.IDPrefix + name + "/v1"
			if m["$schema"] != schema.Draft2020 || m["$id"] != id {
				t.Errorf("$schema %v, $id %v; want %s, %s", m["$schema"], m["$id"], schema.Draft2020, id)
			}
			for _, k := range []string{"title", "description"} {
				if s, _ := m[k].(string); s == "" {
					t.Errorf("no %s", k)
				}
			}
			if bb, ok := schemas.ByID(id); !ok || string(bb) != string(b) {
				t.Errorf("ByID(%s) does not return the schema", id)
			}
			s, err := c.Compile(b)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			if s.ID() != id {
				t.Errorf("ID() = %q, want %q", s.ID(), id)
			}
		})
	}
}

// TestGetCopies checks that a caller cannot change the embedded schema.
func TestGetCopies(t *testing.T) {
	b, _ := schemas.Get("age-over-18")
	b[0] = 'X'
	if again, _ := schemas.Get("age-over-18"); again[0] != '{' {
		t.Fatal("Get returned the embedded bytes")
	}
}

// TestExamples validates every example credential against its schema.
// Valid examples must also be valid VC Data Model 2.0 credentials naming
// the schema, and canonicalize (RDFC-1.0, safe mode) without undefined
// terms under their contexts.
func TestExamples(t *testing.T) {
	var c schema.Compiler
	for name, cases := range examples {
		t.Run(name, func(t *testing.T) {
			b, _ := schemas.Get(name)
			s, err := c.Compile(b)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			files, err := filepath.Glob(filepath.Join("testdata", name, "*.json"))
			if err != nil {
				t.Fatal(err)
			}
			var valid, invalid int
			for _, f := range files {
				if _, ok := cases[strings.TrimSuffix(filepath.Base(f), ".json")]; !ok {
					t.Errorf("%s is not in the examples table", f)
				}
			}
			for file, want := range cases {
				t.Run(file, func(t *testing.T) {
					cred := mustLoad(t, filepath.Join("testdata", name, file+".json"))
					if strings.HasPrefix(file, "valid") != (want == nil) {
						t.Fatalf("file name and expectation disagree")
					}
					err := s.Validate(cred)
					if want == nil {
						valid++
						if err != nil {
							t.Fatalf("Validate: %v", err)
						}
						checkCredential(t, cred, s.ID())
						return
					}
					invalid++
					if err == nil {
						t.Fatal("Validate passed an invalid credential")
					}
					var e *credential.Error
					if !errors.As(err, &e) || e.Code != credential.SchemaValidationError {
						t.Fatalf("error %v is not a %s", err, credential.SchemaValidationError)
					}
					if strings.Contains(e.Detail, "\n") {
						t.Errorf("detail is not one line: %q", e.Detail)
					}
					for _, w := range []string{`at "` + want.at + `"`, "(keyword " + want.keyword + ")", want.reason} {
						if !strings.Contains(e.Detail, w) {
							t.Errorf("detail %q does not contain %q", e.Detail, w)
						}
					}
				})
			}
			if valid == 0 || invalid == 0 {
				t.Errorf("%d valid and %d invalid examples; want some of each", valid, invalid)
			}
		})
	}
}

func checkCredential(t *testing.T, obj map[string]any, schemaID string) {
	t.Helper()
	c, err := credential.CredentialFrom(obj)
	if err != nil {
		t.Fatalf("not a valid credential: %v", err)
	}
	if len(c.Schemas) != 1 || c.Schemas[0]["id"] != schemaID || c.Schemas[0]["type"] != "JsonSchema" {
		t.Errorf("credentialSchema = %v, want id %s type JsonSchema", c.Schemas, schemaID)
	}
	if _, err := ld.Canonicalize(t.Context(), obj, ld.Options{}); err != nil {
		t.Errorf("Canonicalize (safe mode): %v", err)
	}
}

func mustLoad(tb testing.TB, path string) map[string]any {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := strictjson.Object(b, credential.MaxBytes)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return m
}

// TestExamplesJSON keeps the examples in one format: two-space indented
// JSON, as a reader would write them.
func TestExamplesJSON(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
