package idmesh

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/idmesh/idmesh/did"
)

// TestRelativeDocumentRoundTrip: for absolute documents as
// prepareDocument makes them (did.Document.WithID), absolutize undoes
// relativeDocument exactly, and relativeDocument leaves its input alone;
// references to other DIDs, and the DID where it is data, stay as they
// are.
func TestRelativeDocumentRoundTrip(t *testing.T) {
	const subject = "did:idmesh:3TPzCuNoyyqn3VaSNCLn1kdxShRiYw8FuxDPDmXioXoQ"
	const other = "did:idmesh:BwDvM7FRqHgBeJRGKwB5zLLgrqZNVfKFzvEWePQ4igqv"
	mk := "z6Mkn7x4bDadndy2bU6X3yyUYGkzRx5NxFXzVzCFFJ5U3EQZ"
	emb := did.VerificationMethod{ID: "#emb", Type: "Multikey", PublicKeyMultibase: mk}
	foreign := did.VerificationMethod{ID: other + "#k", Type: "Multikey", Controller: other, PublicKeyMultibase: mk}
	tests := []struct {
		name string
		doc  *did.Document
	}{
		{"empty", &did.Document{Context: []any{did.ContextV1}}},
		{"one key", &did.Document{Context: []any{did.ContextV1},
			VerificationMethod:   []did.VerificationMethod{{ID: "#key-1", Type: "Multikey", PublicKeyMultibase: mk}},
			Authentication:       []did.Relationship{did.Ref("#key-1")},
			CapabilityInvocation: []did.Relationship{did.Ref(subject + "#key-1")}}},
		{"embedded, foreign and absolute", &did.Document{Context: []any{did.ContextV1},
			AlsoKnownAs:          []string{subject, "https://example.com/" + subject},
			Controller:           did.StringSet{subject, other},
			VerificationMethod:   []did.VerificationMethod{foreign, {ID: "#own", Type: "Multikey", Controller: other, PublicKeyMultibase: mk}},
			Authentication:       []did.Relationship{{Embedded: &emb}, did.Ref(other + "#k")},
			AssertionMethod:      []did.Relationship{did.Ref("#own")},
			KeyAgreement:         []did.Relationship{did.Ref(subject + "x#frag")},
			CapabilityDelegation: []did.Relationship{did.Ref(other + "#own")},
			Service: []did.Service{{ID: "#hub", Type: did.StringSet{"LinkedDomains"}, ServiceEndpoint: json.RawMessage(`"` + subject + `"`)},
				{ID: other + "#svc", Type: did.StringSet{"X"}, ServiceEndpoint: json.RawMessage(`{"a":1}`)}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			abs, err := tc.doc.WithID(subject)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(abs)
			rel := relativeDocument(abs, subject)
			if after, _ := json.Marshal(abs); !bytes.Equal(after, want) {
				t.Fatalf("relativeDocument changed its input:\n%s\nwas\n%s", after, want)
			}
			enc, _ := json.Marshal(rel)
			if bytes.Contains(enc, []byte(subject+"#")) || bytes.Contains(enc, []byte(`"id":"`+subject)) {
				t.Fatalf("relative form still names the DID's own ids: %s", enc)
			}
			var back did.Document
			if err := json.Unmarshal(enc, &back); err != nil {
				t.Fatal(err)
			}
			absolutize(&back, subject)
			if got, _ := json.Marshal(&back); !bytes.Equal(got, want) {
				t.Fatalf("round trip:\n%s\nwant\n%s", got, want)
			}
		})
	}
}
