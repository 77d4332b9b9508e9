package did_test

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/idmesh/idmesh/did"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"did:example:123", "did:web:example.com%3A8443:u:a", "did:ex::b", "did:ex:a:", "did:Ex:a",
		"did:ex:%4", "did:ex:%41", "did:key:z6Mk", "did:", "did:a:b#c", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := did.Parse(s)
		if err != nil {
			if !errors.Is(err, did.ErrInvalidDID) {
				t.Fatalf("error %v does not wrap ErrInvalidDID", err)
			}
			return
		}
		if d.String() != s {
			t.Fatalf("String() = %q, want %q", d.String(), s)
		}
		if _, err := did.ParseURL(s); err != nil {
			t.Fatalf("a DID is not a DID URL: %v", err)
		}
	})
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"did:example:123#key-1", "did:example:123/p?q=1#f", "did:example:123?#", "did:ex:1/%zz",
		"did:ex:1?service=a&relativeRef=%2Fx", "#frag", "did:ex:1#a#b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := did.ParseURL(s)
		if err != nil {
			if !errors.Is(err, did.ErrInvalidDIDURL) {
				t.Fatalf("error %v does not wrap ErrInvalidDIDURL", err)
			}
			return
		}
		again, err := did.ParseURL(u.String())
		if err != nil || again != u {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", u.String(), again, err, u)
		}
	})
}

func FuzzDocument(f *testing.F) {
	for _, name := range []string{"testdata/valid-document.json"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{}`, `null`, `{"@context":"https://www.w3.org/ns/did/v1","id":"did:ex:1"}`,
		`{"@context":5,"id":"did:ex:1"}`,
		`{"@context":["https://www.w3.org/ns/did/v1"],"id":"did:ex:1","authentication":[1,{"id":"x"}],"service":[{"id":"did:ex:1#s","type":["A"],"serviceEndpoint":[]}]}`,
		`{"@context":["https://www.w3.org/ns/did/v1"],"id":"did:ex:1","verificationMethod":[{"id":"did:ex:1#k","type":"JsonWebKey","controller":"did:ex:1","publicKeyJwk":{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"x"}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := did.ParseDocument(b)
		if err != nil {
			if !errors.Is(err, did.ErrInvalidDocument) {
				t.Fatalf("error %v does not wrap ErrInvalidDocument", err)
			}
			return
		}
		// A valid document survives a JSON round trip and stays valid.
		out, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := did.ParseDocument(out); err != nil {
			t.Fatalf("re-encoded document invalid: %v\n%s", err, out)
		}
		if err := doc.Clone().Validate(); err != nil {
			t.Fatalf("clone invalid: %v", err)
		}
		for _, rel := range did.RelationshipNames() {
			_ = doc.Methods(rel)
		}
	})
}
