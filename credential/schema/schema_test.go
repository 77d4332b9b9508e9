package schema_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/schema"
	"github.com/idmesh/idmesh/did/strictjson"
	"github.com/idmesh/idmesh/schemas"
)

func TestHash(t *testing.T) {
	a := []byte(`{"type":"object","required":["id"],"properties":{"id":{"type":"string"}}}`)
	variants := [][]byte{
		a,
		[]byte("{\n  \"properties\": {\"id\": {\"type\": \"string\"}},\n  \"required\": [\"id\"],\n  \"type\": \"object\"\n}\n"),
		[]byte(`  {"required":["id"] , "type":"object","properties":{"id":{"type":"str\u0069ng"}}}`),
	}
	want := mustHash(t, a)
	for i, v := range variants {
		if got := mustHash(t, v); got != want {
			t.Errorf("variant %d: Hash = %s, want %s", i, got, want)
		}
	}
	// The hash is of the JCS form, which for this schema is its compact
	// form with members sorted.
	sum := sha256.Sum256([]byte(`{"properties":{"id":{"type":"string"}},"required":["id"],"type":"object"}`))
	if want != hex.EncodeToString(sum[:]) {
		t.Errorf("Hash = %s, want SHA-256 of the JCS form %x", want, sum)
	}
	if other := mustHash(t, []byte(`{"type":"object","required":["id"]}`)); other == want {
		t.Error("different schemas have the same hash")
	}
	// Numbers are compared as JCS writes them.
	if mustHash(t, []byte(`{"minimum":1.0}`)) != mustHash(t, []byte(`{"minimum":1e0}`)) {
		t.Error("1.0 and 1e0 hash differently")
	}
}

func mustHash(tb testing.TB, b []byte) string {
	tb.Helper()
	h, err := schema.Hash(b)
	if err != nil {
		tb.Fatalf("Hash(%s): %v", b, err)
	}
	return h
}

// TestCompileRefused covers schemas that Hash or Compile must refuse, each
// with MalformedValueError and the package error that says why.
func TestCompileRefused(t *testing.T) {
	huge := `{"description":"` + strings.Repeat("x", schema.MaxSchemaBytes) + `"}`
	deep := strings.Repeat(`{"not":`, strictjson.MaxDepth+1) + `{}` + strings.Repeat(`}`, strictjson.MaxDepth+1)
	tests := []struct {
		name, schema string
		want         error
	}{
		{"empty", ``, schema.ErrNotJSON},
		{"not JSON", `{"type":`, schema.ErrNotJSON},
		{"array", `[{"type":"object"}]`, schema.ErrNotJSON},
		{"boolean", `true`, schema.ErrNotJSON},
		{"trailing", `{} {}`, schema.ErrNotJSON},
		{"duplicate member", `{"type":"object","type":"string"}`, schema.ErrNotJSON},
		{"too deep", deep, schema.ErrNotJSON},
		{"too large", huge, schema.ErrTooLarge},
		{"draft-07", `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object"}`, schema.ErrDialect},
		{"draft 2019-09", `{"$schema":"https://json-schema.org/draft/2019-09/schema"}`, schema.ErrDialect},
		{"unknown dialect", `{"$schema":"https://example.com/my-meta"}`, schema.ErrDialect},
		{"embedded draft-04 resource", `{"$defs":{"old":{"$id":"https://example.com/old","$schema":"http://json-schema.org/draft-04/schema#"}}}`, schema.ErrDialect},
		{"remote $ref", `{"properties":{"credentialSubject":{"$ref":"https://example.com/subject.json"}}}`, schema.ErrExternalRef},
		{"remote $ref in $defs", `{"$defs":{"a":{"$ref":"https://evil.example/a"}},"$ref":"#/$defs/a"}`, schema.ErrExternalRef},
		{"relative $ref to a sibling document", `{"$id":"https://schemas.idmesh.dev/x/v1","$ref":"../common/v1"}`, schema.ErrExternalRef},
		{"file $ref", `{"$ref":"file:///etc/passwd"}`, schema.ErrExternalRef},
		{"remote $dynamicRef", `{"$dynamicRef":"https://example.com/s#meta"}`, schema.ErrExternalRef},
		{"custom meta-schema vocabulary", `{"$schema":"https://example.com/meta","$id":"https://example.com/s"}`, schema.ErrDialect},
		{"bad type", `{"type":12}`, schema.ErrInvalid},
		{"negative minLength", `{"minLength":-1}`, schema.ErrInvalid},
		{"pattern not RE2", `{"pattern":"(?=a)b"}`, schema.ErrInvalid},
		{"dangling local $ref", `{"$ref":"#/$defs/missing"}`, schema.ErrInvalid},
	}
	var c schema.Compiler
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := c.Compile([]byte(tt.schema))
			if err == nil {
				t.Fatalf("Compile accepted it (id %q)", s.ID())
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("error %v does not wrap %v", err, tt.want)
			}
			if code := credential.CodeOf(err, ""); code != credential.MalformedValueError {
				t.Errorf("code %q, want %s", code, credential.MalformedValueError)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

// TestCompileRefs covers the references that resolve without loading
// anything: inside the schema, to its own $id, to an embedded resource,
// and to the bundled meta-schema.
func TestCompileRefs(t *testing.T) {
	for name, s := range map[string]string{
		"pointer":           `{"$defs":{"a":{"type":"string"}},"properties":{"x":{"$ref":"#/$defs/a"}}}`,
		"own $id":           `{"$id":"https://schemas.idmesh.dev/t/v1","$defs":{"a":{"type":"string"}},"properties":{"x":{"$ref":"https://schemas.idmesh.dev/t/v1#/$defs/a"}}}`,
		"embedded resource": `{"$id":"https://schemas.idmesh.dev/t/v1","$defs":{"a":{"$id":"a","type":"string"}},"properties":{"x":{"$ref":"a"}}}`,
		"anchor":            `{"$defs":{"a":{"$anchor":"str","type":"string"}},"properties":{"x":{"$ref":"#str"}}}`,
		"meta-schema":       `{"$schema":"https://json-schema.org/draft/2020-12/schema","properties":{"x":{"$ref":"https://json-schema.org/draft/2020-12/schema"}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			var c schema.Compiler
			sc, err := c.Compile([]byte(s))
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			if name == "meta-schema" {
				return
			}
			if err := sc.Validate(map[string]any{"x": json.Number("1")}); credential.CodeOf(err, "") != credential.SchemaValidationError {
				t.Errorf("Validate(x: 1) = %v, want a type failure through the $ref", err)
			}
			if err := sc.Validate(map[string]any{"x": "s"}); err != nil {
				t.Errorf("Validate(x: s) = %v", err)
			}
		})
	}
}

func mustCompile(tb testing.TB, c *schema.Compiler, s string) *schema.Schema {
	tb.Helper()
	sc, err := c.Compile([]byte(s))
	if err != nil {
		tb.Fatalf("Compile(%s): %v", s, err)
	}
	return sc
}

func mustObject(tb testing.TB, s string) map[string]any {
	tb.Helper()
	m, err := strictjson.Object([]byte(s), credential.MaxBytes)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestValidateValues covers numbers as json.Number (strictjson's
// UseNumber), other Go types, and formats, which are asserted.
func TestValidateValues(t *testing.T) {
	var c schema.Compiler
	s := mustCompile(t, &c, `{
		"type": "object",
		"properties": {
			"age": {"type": "integer", "minimum": 18, "maximum": 150},
			"score": {"type": "number", "multipleOf": 0.5},
			"big": {"type": "integer", "minimum": 9007199254740993},
			"tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
			"when": {"type": "string", "format": "date-time"},
			"email": {"type": "string", "format": "email"},
			"site": {"type": "string", "format": "uri"}
		}
	}`)
	tests := []struct {
		name    string
		cred    map[string]any
		keyword string // "" when valid
	}{
		{"json.Number integer", mustObject(t, `{"age": 18}`), ""},
		{"json.Number integer as 18.0", mustObject(t, `{"age": 18.0}`), ""},
		{"json.Number below minimum", mustObject(t, `{"age": 17}`), "minimum"},
		{"json.Number fraction", mustObject(t, `{"age": 18.5}`), "type"},
		{"json.Number exponent", mustObject(t, `{"age": 1e3}`), "maximum"},
		{"json.Number multipleOf", mustObject(t, `{"score": 2.5}`), ""},
		{"json.Number not multipleOf", mustObject(t, `{"score": 2.25}`), "multipleOf"},
		// The schema's 2^53+1 is rounded to 2^53 by JCS, as RFC 8785 does
		// every number; the instance keeps full precision.
		{"json.Number 2^53+1", mustObject(t, `{"big": 9007199254740993}`), ""},
		{"json.Number 2^53, the schema's minimum after JCS", mustObject(t, `{"big": 9007199254740992}`), ""},
		{"json.Number 2^53-1", mustObject(t, `{"big": 9007199254740991}`), "minimum"},
		{"Go int", map[string]any{"age": 30}, ""},
		{"Go float64", map[string]any{"age": 12.0}, "minimum"},
		{"Go []string", map[string]any{"tags": []string{"a", "b", "c"}}, "maxItems"},
		{"Go map[string]string", map[string]any{"tags": map[string]string{"a": "b"}}, "type"},
		{"date-time", mustObject(t, `{"when": "2024-06-01T09:00:00Z"}`), ""},
		{"date-time with offset", mustObject(t, `{"when": "2024-06-01T09:00:00+02:00"}`), ""},
		{"date-time without zone", mustObject(t, `{"when": "2024-06-01T09:00:00"}`), "format"},
		{"date-time, hour 25", mustObject(t, `{"when": "2024-06-01T25:00:00Z"}`), "format"},
		{"email", mustObject(t, `{"email": "alice@example.com"}`), ""},
		{"email without @", mustObject(t, `{"email": "alice.example.com"}`), "format"},
		{"uri DID", mustObject(t, `{"site": "did:example:123"}`), ""},
		{"uri relative", mustObject(t, `{"site": "/relative"}`), "format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Validate(tt.cred)
			if tt.keyword == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var e *credential.Error
			if !errors.As(err, &e) || e.Code != credential.SchemaValidationError {
				t.Fatalf("Validate = %v, want %s", err, credential.SchemaValidationError)
			}
			if !strings.Contains(e.Detail, "(keyword "+tt.keyword+")") {
				t.Errorf("detail %q does not name keyword %s", e.Detail, tt.keyword)
			}
		})
	}
	// A value encoding/json cannot represent is a failure, not a panic.
	if err := s.Validate(map[string]any{"age": make(chan int)}); credential.CodeOf(err, "") != credential.SchemaValidationError {
		t.Errorf("Validate(chan) = %v", err)
	}
}

// TestValidateDetail checks the one-line detail: location, keyword, a
// clipped message, and how many other failures there are.
func TestValidateDetail(t *testing.T) {
	var c schema.Compiler
	s := mustCompile(t, &c, `{"$id":"https://schemas.idmesh.dev/t/v1","properties":{"a":{"type":"integer"},"b":{"const":"x"},"c/d":{"pattern":"^z$"}}}`)
	long := strings.Repeat("y\n", 1000)
	err := s.Validate(map[string]any{"a": "1", "b": "y", "c/d": long})
	var e *credential.Error
	if !errors.As(err, &e) {
		t.Fatalf("Validate = %v", err)
	}
	for _, w := range []string{"schema https://schemas.idmesh.dev/t/v1: ", `at "/a" (keyword type)`, "(and 2 more failures)"} {
		if !strings.Contains(e.Detail, w) {
			t.Errorf("detail %q does not contain %q", e.Detail, w)
		}
	}
	if strings.Contains(e.Detail, "\n") || len(e.Detail) > 600 {
		t.Errorf("detail is not one short line: %q", e.Detail)
	}
	// The cause holds every failure.
	if e.Err == nil || !strings.Contains(e.Err.Error(), "/c~1d") {
		t.Errorf("cause %v does not list every failure", e.Err)
	}
	// The same input gives the same detail (the failures come out of maps).
	for range 20 {
		if err2 := s.Validate(map[string]any{"a": "1", "b": "y", "c/d": long}); err2.Error() != err.Error() {
			t.Fatalf("detail varies: %q and %q", err, err2)
		}
	}
}

func TestCache(t *testing.T) {
	var c schema.Compiler
	a := mustCompile(t, &c, `{"type":"object","required":["id"]}`)
	b := mustCompile(t, &c, "{\n\"required\": [\"id\"],\n\"type\": \"object\"\n}")
	if a != b {
		t.Error("the same schema in another layout compiled twice")
	}
	for i := range 10 { // more layouts than the cache remembers
		if mustCompile(t, &c, strings.Repeat(" ", i)+`{"type":"object","required":["id"]}`) != a {
			t.Fatalf("layout %d compiled again", i)
		}
	}
	if a.Hash() != mustHash(t, []byte(`{"type":"object","required":["id"]}`)) {
		t.Error("Schema.Hash differs from Hash")
	}

	small := schema.Compiler{MaxCached: 2}
	first := mustCompile(t, &small, `{"title":"1"}`)
	mustCompile(t, &small, `{"title":"2"}`)
	if mustCompile(t, &small, `{"title":"1"}`) != first {
		t.Error("cached schema recompiled")
	}
	mustCompile(t, &small, `{"title":"3"}`) // evicts 2, the least recently used
	if mustCompile(t, &small, `{"title":"1"}`) != first {
		t.Error("recently used schema evicted")
	}
	mustCompile(t, &small, `{"title":"4"}`)
	mustCompile(t, &small, `{"title":"5"}`)
	if mustCompile(t, &small, `{"title":"1"}`) == first {
		t.Error("cache holds more than MaxCached schemas")
	}

	none := schema.Compiler{MaxCached: -1}
	first, second := mustCompile(t, &none, `{}`), mustCompile(t, &none, `{}`)
	if first == second {
		t.Error("MaxCached < 0 still caches")
	}

	// A failed compilation is not cached: it fails again, the same way.
	for range 2 {
		if _, err := c.Compile([]byte(`{"$ref":"https://example.com/x"}`)); !errors.Is(err, schema.ErrExternalRef) {
			t.Fatalf("Compile = %v", err)
		}
	}
}

// TestConcurrent compiles and validates from many goroutines; run with
// -race.
func TestConcurrent(t *testing.T) {
	var c schema.Compiler
	c.MaxCached = 4 // smaller than the schemas used, to exercise eviction
	names := schemas.Names()
	degree, _ := schemas.Get("university-degree")
	cred := mustObject(t, degreeCredential)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 16 {
		wg.Go(func() {
			for i := range 20 {
				name := names[(g+i)%len(names)]
				b, _ := schemas.Get(name)
				if _, err := c.Compile(b); err != nil {
					errs <- fmt.Errorf("%s: %w", name, err)
					return
				}
				s, err := c.Compile(degree)
				if err != nil {
					errs <- err
					return
				}
				if err := s.Validate(cred); err != nil {
					errs <- err
					return
				}
				if _, err := c.Compile(fmt.Appendf(nil, `{"title":"%d"}`, i)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

const degreeCredential = `{
  "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
  "id": "urn:uuid:2f4e8b1c-7a3d-4c55-9f0e-1b2a3c4d5e01",
  "type": ["VerifiableCredential", "UniversityDegreeCredential"],
  "issuer": {"id": "did:example:university", "name": "Example University"},
  "validFrom": "2024-06-01T09:00:00Z",
  "credentialSchema": {"id": "https://schemas.idmesh.dev/university-degree/v1", "type": "JsonSchema"},
  "credentialSubject": {
    "id": "did:example:alice",
    "degree": {"type": "BachelorDegree", "name": "Bachelor of Science and Arts", "dateAwarded": "2024-05-30"},
    "alumniOf": {"id": "did:example:university", "name": "Example University"}
  }
}`

func BenchmarkValidate(b *testing.B) {
	var c schema.Compiler
	degree, _ := schemas.Get("university-degree")
	s, err := c.Compile(degree)
	if err != nil {
		b.Fatal(err)
	}
	cred := mustObject(b, degreeCredential)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Validate(cred); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompileCached is the cost of a cache hit: hashing the schema.
func BenchmarkCompileCached(b *testing.B) {
	var c schema.Compiler
	degree, _ := schemas.Get("university-degree")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Compile(degree); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	c := schema.Compiler{MaxCached: -1}
	degree, _ := schemas.Get("university-degree")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Compile(degree); err != nil {
			b.Fatal(err)
		}
	}
}
