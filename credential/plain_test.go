package credential_test

import (
	"testing"

	"github.com/idmesh/idmesh/credential"
)

func TestCheckPlain(t *testing.T) {
	tests := []struct {
		name  string
		doc   map[string]any
		plain bool
	}{
		{"terms", map[string]any{"@context": []any{credential.ContextV2}, "type": "VerifiableCredential", "credentialSubject": map[string]any{"name": "x"}}, true},
		{"value object", map[string]any{"name": map[string]any{"@value": "x", "@language": "en", "@direction": "ltr"}}, true},
		{"typed value", map[string]any{"validUntil": map[string]any{"@value": "2030-01-01T00:00:00Z", "@type": "xsd:dateTime"}}, true},
		{"proof context", map[string]any{"proof": map[string]any{"@context": []any{credential.ContextV2}, "type": "DataIntegrityProof"}}, true},
		{"proof set contexts", map[string]any{"proof": []any{map[string]any{"@context": credential.ContextV2}}}, true},
		{"presentation credentials", map[string]any{"verifiableCredential": []any{map[string]any{"@context": []any{credential.ContextV2}}}}, true},
		{"inline context", map[string]any{"@context": []any{credential.ContextV2, map[string]any{"x": "https://e.example/x"}}}, false},
		{"inline context in a proof", map[string]any{"proof": map[string]any{"@context": []any{map[string]any{}}}}, false},
		{"IRI member", map[string]any{"https://www.w3.org/2018/credentials#credentialStatus": map[string]any{}}, false},
		{"compact IRI nested", map[string]any{"credentialSubject": map[string]any{"ex:claim": 1}}, false},
		{"keyword member", map[string]any{"@nest": map[string]any{}}, false},
		{"@type outside a value", map[string]any{"credentialSubject": map[string]any{"@type": "X"}}, false},
		{"@id", map[string]any{"@id": "urn:x"}, false},
		{"nested context", map[string]any{"credentialSubject": map[string]any{"@context": []any{credential.ContextV2}}}, false},
		{"context in an array element", map[string]any{"evidence": []any{map[string]any{"@context": "x"}}}, false},
	}
	for _, tt := range tests {
		err := credential.CheckPlain(tt.doc)
		if (err == nil) != tt.plain {
			t.Errorf("%s: CheckPlain = %v, want plain %v", tt.name, err, tt.plain)
		}
		if err != nil && credential.CodeOf(err, "") != credential.MalformedValueError {
			t.Errorf("%s: code %s", tt.name, credential.CodeOf(err, ""))
		}
	}
}
