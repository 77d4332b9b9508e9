package jwk_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"testing"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/jwk"
	"github.com/idmesh/idmesh/did/keys"
)

type example struct {
	DID           string
	PublicKeyJwk  map[string]any
	Relationships []string
}

// MustLoadExamples reads the spec examples.
func MustLoadExamples(tb testing.TB) map[string]example {
	tb.Helper()
	b, err := os.ReadFile("testdata/spec-examples.json")
	if err != nil {
		tb.Fatal(err)
	}
	var v map[string]example
	if err := json.Unmarshal(b, &v); err != nil {
		tb.Fatal(err)
	}
	return v
}

func TestSpecExamples(t *testing.T) {
	for name, ex := range MustLoadExamples(t) {
		t.Run(name, func(t *testing.T) {
			doc, err := jwk.Document(ex.DID)
			if err != nil {
				t.Fatal(err)
			}
			if err := doc.Validate(); err != nil {
				t.Fatal(err)
			}
			if doc.ID != ex.DID || len(doc.VerificationMethod) != 1 {
				t.Fatalf("document = %+v", doc)
			}
			vm := doc.VerificationMethod[0]
			if vm.ID != ex.DID+"#0" || vm.Controller != ex.DID || vm.Type != did.TypeJsonWebKey {
				t.Fatalf("method = %+v", vm)
			}
			if !reflect.DeepEqual(vm.PublicKeyJwk, ex.PublicKeyJwk) {
				t.Fatalf("publicKeyJwk = %v, want %v", vm.PublicKeyJwk, ex.PublicKeyJwk)
			}
			for _, rel := range did.RelationshipNames() {
				want := 0
				for _, r := range ex.Relationships {
					if r == rel {
						want = 1
					}
				}
				if got := len(doc.Methods(rel)); got != want {
					t.Errorf("%s has %d methods, want %d", rel, got, want)
				}
			}
			if doc.Context[1] != did.ContextJWK {
				t.Errorf("@context = %v", doc.Context)
			}
		})
	}
	t.Run("New reproduces the P-256 example", func(t *testing.T) {
		ex := MustLoadExamples(t)["p256"]
		pub, err := keys.ParseJWK(ex.PublicKeyJwk)
		if err != nil {
			t.Fatal(err)
		}
		if got := jwk.New(pub); got != ex.DID {
			t.Fatalf("New = %s, want %s", got, ex.DID)
		}
	})
}

func TestNewRoundTrip(t *testing.T) {
	for _, typ := range []keys.Type{keys.Ed25519, keys.P256} {
		t.Run(string(typ), func(t *testing.T) {
			k, err := keys.Generate(typ, bytes.NewReader(bytes.Repeat([]byte{4}, 64)))
			if err != nil {
				t.Fatal(err)
			}
			d := jwk.New(k.Public())
			_, pub, err := jwk.Decode(d)
			if err != nil || !pub.Equal(k.Public()) {
				t.Fatalf("Decode(New) = %v, %v", pub, err)
			}
			res, err := (jwk.Resolver{}).Resolve(t.Context(), d, did.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := res.DIDDocument.Validate(); err != nil {
				t.Fatal(err)
			}
			for _, rel := range did.RelationshipNames() {
				vms := res.DIDDocument.Methods(rel)
				if len(vms) != 1 {
					t.Fatalf("%s has %d methods", rel, len(vms))
				}
				got, err := vms[0].PublicKey()
				if err != nil || !got.Equal(k.Public()) {
					t.Fatalf("%s key = %v, %v", rel, got, err)
				}
			}
		})
	}
}

// encode makes a did:jwk from raw JSON.
func encode(s string) string { return jwk.Prefix + base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestUse(t *testing.T) {
	k, _ := keys.Generate(keys.Ed25519, bytes.NewReader(make([]byte, 32)))
	x := k.Public().JWK()["x"].(string)
	tests := []struct {
		name string
		jwk  string
		sign bool
		kex  bool
	}{
		{"no use", `{"kty":"OKP","crv":"Ed25519","x":"` + x + `"}`, true, true},
		{"sig", `{"kty":"OKP","crv":"Ed25519","use":"sig","x":"` + x + `"}`, true, false},
		{"enc", `{"kty":"OKP","crv":"Ed25519","use":"enc","x":"` + x + `"}`, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := jwk.Document(encode(tc.jwk))
			if err != nil {
				t.Fatal(err)
			}
			if got := len(doc.Authentication) == 1; got != tc.sign {
				t.Errorf("authentication present = %v, want %v", got, tc.sign)
			}
			if got := len(doc.KeyAgreement) == 1; got != tc.kex {
				t.Errorf("keyAgreement present = %v, want %v", got, tc.kex)
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	k, _ := keys.Generate(keys.Ed25519, bytes.NewReader(make([]byte, 32)))
	x := k.Public().JWK()["x"].(string)
	xk, _ := k.Public().X25519()
	xx := xk.JWK()["x"].(string)
	tests := []struct {
		name string
		d    string
		also error
	}{
		{"other method", "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", nil},
		{"not base64url", "did:jwk:e30.", nil},
		{"padded", jwk.Prefix + base64.URLEncoding.EncodeToString([]byte(`{"kty":"OKP","crv":"Ed25519","x":"`+x+`"}`)), nil},
		{"not json", encode(`not json`), nil},
		{"json array", encode(`[1]`), nil},
		{"json null", encode(`null`), nil},
		{"trailing data", encode(`{"kty":"OKP","crv":"Ed25519","x":"` + x + `"} {}`), nil},
		{"private key", encode(`{"kty":"OKP","crv":"Ed25519","x":"` + x + `","d":"` + x + `"}`), keys.ErrInvalidKey},
		{"unsupported curve", encode(`{"kty":"EC","crv":"secp256k1","x":"` + x + `","y":"` + x + `"}`), keys.ErrUnsupportedKey},
		{"bad use", encode(`{"kty":"OKP","crv":"Ed25519","use":"other","x":"` + x + `"}`), nil},
		{"x25519 for signing", encode(`{"kty":"OKP","crv":"X25519","use":"sig","x":"` + xx + `"}`), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := jwk.Document(tc.d)
			if !errors.Is(err, did.ErrInvalidDID) {
				t.Fatalf("Document error = %v, want ErrInvalidDID", err)
			}
			if tc.also != nil && !errors.Is(err, tc.also) {
				t.Fatalf("Document error = %v, want %v too", err, tc.also)
			}
			if _, err := (jwk.Resolver{}).Resolve(t.Context(), tc.d, did.Options{}); !errors.Is(err, did.ErrInvalidDID) {
				t.Fatalf("Resolve error = %v", err)
			}
		})
	}
	t.Run("x25519 without use is keyAgreement only", func(t *testing.T) {
		doc, err := jwk.Document(encode(`{"kty":"OKP","crv":"X25519","x":"` + xx + `"}`))
		if err != nil {
			t.Fatal(err)
		}
		if len(doc.Authentication) != 0 || len(doc.KeyAgreement) != 1 {
			t.Fatalf("document = %+v", doc)
		}
	})
	t.Run("options", func(t *testing.T) {
		d := jwk.New(k.Public())
		if _, err := (jwk.Resolver{}).Resolve(t.Context(), d, did.Options{VersionID: "2"}); !errors.Is(err, did.ErrFeatureNotSupported) {
			t.Fatal(err)
		}
		if _, err := (jwk.Resolver{}).Resolve(t.Context(), d, did.Options{Accept: "text/html"}); !errors.Is(err, did.ErrRepresentationNotSupported) {
			t.Fatal(err)
		}
	})
}

func FuzzDocument(f *testing.F) {
	for _, ex := range MustLoadExamples(f) {
		f.Add(ex.DID)
	}
	f.Add("did:jwk:")
	f.Add("did:jwk:e30")
	f.Add(encode(`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","use":"enc"}`))
	f.Fuzz(func(t *testing.T, d string) {
		doc, err := jwk.Document(d)
		if err != nil {
			if !errors.Is(err, did.ErrInvalidDID) {
				t.Fatalf("error %v does not wrap ErrInvalidDID", err)
			}
			return
		}
		if err := doc.Validate(); err != nil {
			t.Fatalf("document of %s invalid: %v", d, err)
		}
	})
}
