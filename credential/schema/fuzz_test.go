package schema_test

import (
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/schema"
	"github.com/idmesh/idmesh/did/strictjson"
	"github.com/idmesh/idmesh/schemas"
)

// FuzzCompile feeds arbitrary schemas to Compile and, when one compiles,
// validates a credential with it: neither may panic, and every error must
// carry its code.
func FuzzCompile(f *testing.F) {
	for _, name := range schemas.Names() {
		b, _ := schemas.Get(name)
		f.Add(b)
	}
	for _, s := range []string{
		`{}`, `{"type":"object"}`, `{"$ref":"#"}`, `{"$ref":"https://example.com/x"}`,
		`{"$id":"https://json-schema.org/draft/2020-12/schema"}`,
		`{"$dynamicAnchor":"meta","$dynamicRef":"#meta"}`,
		`{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}`,
		`{"properties":{"a":{"pattern":"^(a+)+$"}},"unevaluatedProperties":false}`,
		`{"contains":{"const":1},"minContains":2,"maxContains":1}`,
		`{"$schema":"http://json-schema.org/draft-07/schema#"}`,
		`{"format":"date-time","contentEncoding":"base64"}`,
	} {
		f.Add([]byte(s))
	}
	cred := mustObject(f, degreeCredential)
	var c schema.Compiler
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := c.Compile(b)
		if err != nil {
			if code := credential.CodeOf(err, ""); code != credential.MalformedValueError {
				t.Fatalf("Compile error %v has code %q", err, code)
			}
			return
		}
		for _, v := range []map[string]any{cred, {}, {"a": []any{map[string]any{}}}} {
			if err := s.Validate(v); err != nil && credential.CodeOf(err, "") != credential.SchemaValidationError {
				t.Fatalf("Validate error %v has code %q", err, credential.CodeOf(err, ""))
			}
		}
		// The schema as an instance of itself, as decoded JSON.
		if m, err := strictjson.Object(b, schema.MaxSchemaBytes); err == nil {
			_ = s.Validate(m)
		}
	})
}
