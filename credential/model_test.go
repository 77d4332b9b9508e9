package credential_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
)

func load(t testing.TB, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestParseCredentialVectors(t *testing.T) {
	for _, name := range []string{"credential-full.json", "credential-minimal.json", "alumni-unsigned.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		c, err := credential.ParseCredential(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.Version != credential.V2 || c.Issuer == "" || len(c.Subjects) == 0 {
			t.Errorf("%s: %+v", name, c)
		}
	}
	c, err := credential.CredentialFrom(load(t, "credential-full.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Status) != 1 || len(c.Schemas) != 1 || len(c.Evidence) != 1 || len(c.TermsOfUse) != 1 || len(c.RefreshServices) != 1 {
		t.Errorf("typed members not kept: %+v", c)
	}
	if want := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC); !c.ValidUntil.Equal(want) {
		t.Errorf("ValidUntil = %v", c.ValidUntil)
	}
}

// edit applies change to a fresh copy of the minimal credential.
func edit(t *testing.T, change func(m map[string]any)) map[string]any {
	m := load(t, "alumni-unsigned.json")
	change(m)
	return m
}

func TestCredentialRules(t *testing.T) {
	v1 := func(m map[string]any) {
		m["@context"] = []any{credential.ContextV1}
		delete(m, "validFrom")
		m["issuanceDate"] = "2010-01-01T00:00:00Z"
	}
	tests := []struct {
		name   string
		change func(m map[string]any)
		code   credential.Code // "" means valid
	}{
		{"valid", func(map[string]any) {}, ""},
		{"1.1 accepted", v1, ""},
		{"1.1 without issuanceDate", func(m map[string]any) { v1(m); delete(m, "issuanceDate") }, credential.MalformedValueError},
		{"no context", func(m map[string]any) { delete(m, "@context") }, credential.MalformedValueError},
		{"wrong first context", func(m map[string]any) {
			m["@context"] = []any{"https://www.w3.org/ns/credentials/examples/v2", credential.ContextV2}
		}, credential.MalformedValueError},
		{"context entry not a URL", func(m map[string]any) { m["@context"] = []any{credential.ContextV2, "not a url"} }, credential.MalformedValueError},
		{"context entry number", func(m map[string]any) { m["@context"] = []any{credential.ContextV2, 3.0} }, credential.MalformedValueError},
		{"no type", func(m map[string]any) { delete(m, "type") }, credential.MalformedValueError},
		{"type without VerifiableCredential", func(m map[string]any) { m["type"] = []any{"AlumniCredential"} }, credential.MalformedValueError},
		{"type not strings", func(m map[string]any) { m["type"] = []any{"VerifiableCredential", 1.0} }, credential.MalformedValueError},
		{"no issuer", func(m map[string]any) { delete(m, "issuer") }, credential.MalformedValueError},
		{"issuer not a URL", func(m map[string]any) { m["issuer"] = "example" }, credential.MalformedValueError},
		{"issuer object", func(m map[string]any) { m["issuer"] = map[string]any{"id": "did:example:1", "name": "Example U"} }, ""},
		{"issuer object without id", func(m map[string]any) { m["issuer"] = map[string]any{"name": "x"} }, credential.MalformedValueError},
		{"id not a URL", func(m map[string]any) { m["id"] = "12 34" }, credential.MalformedValueError},
		{"no subject", func(m map[string]any) { delete(m, "credentialSubject") }, credential.MalformedValueError},
		{"empty subject", func(m map[string]any) { m["credentialSubject"] = map[string]any{} }, credential.MalformedValueError},
		{"subject array", func(m map[string]any) {
			m["credentialSubject"] = []any{map[string]any{"id": "did:example:1"}, map[string]any{"name": "x"}}
		}, ""},
		{"subject not object", func(m map[string]any) { m["credentialSubject"] = "did:example:1" }, credential.MalformedValueError},
		{"validFrom not a date", func(m map[string]any) { m["validFrom"] = "2023-01-01" }, credential.MalformedValueError},
		{"validFrom without zone", func(m map[string]any) { m["validFrom"] = "2023-01-01T00:00:00" }, credential.MalformedValueError},
		{"validUntil before validFrom", func(m map[string]any) { m["validUntil"] = "2022-01-01T00:00:00Z" }, credential.MalformedValueError},
		{"offset and fraction", func(m map[string]any) { m["validUntil"] = "2030-01-01T00:00:00.25+02:00" }, ""},
		{"status without type", func(m map[string]any) { m["credentialStatus"] = map[string]any{"id": "https://x.example/1"} }, credential.MalformedValueError},
		{"schema without id", func(m map[string]any) { m["credentialSchema"] = map[string]any{"type": "JsonSchema"} }, credential.MalformedValueError},
		{"evidence not object", func(m map[string]any) { m["evidence"] = []any{"x"} }, credential.MalformedValueError},
		{"name object", func(m map[string]any) { m["name"] = map[string]any{"@value": "Alumni", "@language": "en"} }, ""},
		{"name number", func(m map[string]any) { m["name"] = 3.0 }, credential.MalformedValueError},
		{"related resource", func(m map[string]any) {
			m["relatedResource"] = []any{map[string]any{"id": "https://x.example/a", "digestSRI": "sha384-" + strings.Repeat("A", 64)}}
		}, ""},
		{"related resource without digest", func(m map[string]any) {
			m["relatedResource"] = []any{map[string]any{"id": "https://x.example/a"}}
		}, credential.MalformedValueError},
		{"related resource twice", func(m map[string]any) {
			r := map[string]any{"id": "https://x.example/a", "digestMultibase": "uEiBZlVztZpfWHgPyslVv6-UwirFoQoRvW1htfx963sknNA"}
			m["relatedResource"] = []any{r, r}
		}, credential.MalformedValueError},
		{"related resource bad SRI", func(m map[string]any) {
			m["relatedResource"] = map[string]any{"id": "https://x.example/a", "digestSRI": "md5-AAAA"}
		}, credential.MalformedValueError},
		{"enveloped", func(m map[string]any) {
			for k := range m {
				delete(m, k)
			}
			m["@context"] = []any{credential.ContextV2}
			m["type"] = "EnvelopedVerifiableCredential"
			m["id"] = "data:application/vc+jwt,eyJ"
		}, ""},
		{"enveloped without data URL", func(m map[string]any) {
			m["type"] = "EnvelopedVerifiableCredential"
		}, credential.MalformedValueError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := credential.CredentialFrom(edit(t, tt.change))
			switch {
			case tt.code == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tt.code != "" && err == nil:
				t.Fatal("accepted")
			case tt.code != "" && credential.CodeOf(err, "") != tt.code:
				t.Fatalf("code %s (%v), want %s", credential.CodeOf(err, ""), err, tt.code)
			}
		})
	}
}

func TestParseCredentialBytes(t *testing.T) {
	for name, in := range map[string]string{
		"duplicate member": `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"VerifiableCredential","type":"x"}`,
		"trailing":         `{} {}`,
		"oversize":         `{"a":"` + strings.Repeat("x", credential.MaxBytes) + `"}`,
		"not JSON":         `{`,
	} {
		if _, err := credential.ParseCredential([]byte(in)); credential.CodeOf(err, "") != credential.ParsingError {
			t.Errorf("%s: %v, want a parsing error", name, err)
		}
	}
}

func TestRelatedResourceCheck(t *testing.T) {
	content := []byte("hello")
	// sha256("hello") in SRI and as a base58btc multihash.
	r := credential.RelatedResource{ID: "https://x.example/a",
		DigestSRI:       "sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=",
		DigestMultibase: "zQmRN6wdp1S2A5EtjW9A3M1vKSBuQQGcgvuhoMUoEz4iiT5"}
	if err := r.Check(content); err != nil {
		t.Fatal(err)
	}
	if err := r.Check([]byte("hellO")); credential.CodeOf(err, "") != credential.ResourceIntegrityError {
		t.Fatalf("tampered content: %v", err)
	}
	r.DigestSRI = ""
	if err := r.Check(content); err != nil {
		t.Fatalf("multibase only: %v", err)
	}
}

func TestPresentationRules(t *testing.T) {
	p, err := credential.PresentationFrom(load(t, "presentation-multiple.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Credentials) == 0 {
		t.Fatal("no credentials")
	}
	for name, in := range map[string]string{
		"no type":        `{"@context":["https://www.w3.org/ns/credentials/v2"]}`,
		"wrong type":     `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"VerifiableCredential"}`,
		"holder bad":     `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"VerifiablePresentation","holder":"x y"}`,
		"vc not object":  `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"VerifiablePresentation","verifiableCredential":["x"]}`,
		"enveloped bare": `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"EnvelopedVerifiablePresentation","id":"https://x"}`,
	} {
		if _, err := credential.ParsePresentation([]byte(in)); credential.CodeOf(err, "") != credential.MalformedValueError {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzParseCredential(f *testing.F) {
	for _, name := range []string{"credential-full.json", "credential-minimal.json", "alumni-unsigned.json", "presentation-multiple.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := credential.ParseCredential(b)
		if err == nil && (c.Object == nil || len(c.Types) == 0) {
			t.Fatal("accepted without object or types")
		}
		if err != nil && credential.CodeOf(err, "") == "" {
			t.Fatalf("error without a code: %v", err)
		}
		_, _ = credential.ParsePresentation(b)
	})
}

func TestIsURL(t *testing.T) {
	for s, want := range map[string]bool{
		"https://example.com/a": true, "did:example:123": true, "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33": true,
		"data:application/vc+jwt,eyJ": true, "did:web:example.com%3A8080": true, "x+y.z-1:abc": true,
		"": false, "example": false, ":abc": false, "https:": false, "1http://x": false, "ht tp://x": false,
		"https://exa mple.com": false, "https://x\n": false, "did:bad:%zz": false, "did:bad:%4": false, "h_t:x": false,
	} {
		if got := credential.IsURL(s); got != want {
			t.Errorf("IsURL(%q) = %v, want %v", s, got, want)
		}
	}
}
