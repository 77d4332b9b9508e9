package key_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mr-tron/base58"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
)

// MustLoadJSON decodes testdata/name into v.
func MustLoadJSON(tb testing.TB, name string, v any) {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatal(err)
	}
}

// vectorVM is a verification method as the did:key vectors write it.
type vectorVM struct {
	ID              string
	Type            string
	Controller      string
	PublicKeyBase58 string
	PublicKeyJwk    map[string]any
}

func (v vectorVM) key(tb testing.TB, t keys.Type) keys.PublicKey {
	tb.Helper()
	var (
		k   keys.PublicKey
		err error
	)
	if v.PublicKeyJwk != nil {
		k, err = keys.ParseJWK(v.PublicKeyJwk)
	} else {
		var raw []byte
		raw, err = base58.Decode(v.PublicKeyBase58)
		if err == nil {
			k, err = keys.FromRaw(t, raw)
		}
	}
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

type vectorDoc struct {
	ID                   string
	VerificationMethod   []vectorVM
	Authentication       []string
	AssertionMethod      []string
	KeyAgreement         []string
	CapabilityInvocation []string
	CapabilityDelegation []string
}

// refs returns the relationship references of doc.
func refs(rs []did.Relationship) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Reference)
	}
	return out
}

// checkAgainstVector compares our document with a vector document by key
// bytes, ids and relationships (the vectors use older key representations).
func checkAgainstVector(t *testing.T, doc *did.Document, want vectorDoc, types []keys.Type) {
	t.Helper()
	if err := doc.Validate(); err != nil {
		t.Fatal(err)
	}
	if doc.ID != want.ID || len(doc.VerificationMethod) != len(want.VerificationMethod) {
		t.Fatalf("document %s has %d methods, want %d", doc.ID, len(doc.VerificationMethod), len(want.VerificationMethod))
	}
	for i, vm := range doc.VerificationMethod {
		w := want.VerificationMethod[i]
		if vm.ID != w.ID || vm.Controller != w.Controller || vm.Type != did.TypeMultikey {
			t.Errorf("method %d = %s %s %s, want %s %s", i, vm.ID, vm.Type, vm.Controller, w.ID, w.Controller)
		}
		got, err := vm.PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		if wk := w.key(t, types[i]); !got.Equal(wk) {
			t.Errorf("method %d key = %x, want %x", i, got.Bytes(), wk.Bytes())
		}
	}
	for _, c := range []struct {
		name      string
		got, want []string
	}{
		{"authentication", refs(doc.Authentication), want.Authentication},
		{"assertionMethod", refs(doc.AssertionMethod), want.AssertionMethod},
		{"keyAgreement", refs(doc.KeyAgreement), want.KeyAgreement},
		{"capabilityInvocation", refs(doc.CapabilityInvocation), want.CapabilityInvocation},
		{"capabilityDelegation", refs(doc.CapabilityDelegation), want.CapabilityDelegation},
	} {
		if strings.Join(c.got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestEd25519Vectors(t *testing.T) {
	var v map[string]struct{ DIDDocument vectorDoc }
	MustLoadJSON(t, "ed25519-x25519.json", &v)
	if len(v) != 5 {
		t.Fatalf("%d vectors, want 5", len(v))
	}
	for d, tc := range v {
		t.Run(d, func(t *testing.T) {
			doc, err := key.Document(d)
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstVector(t, doc, tc.DIDDocument, []keys.Type{keys.Ed25519, keys.X25519})
		})
	}
}

func TestP256Vectors(t *testing.T) {
	var v map[string]struct{ DIDDocument vectorDoc }
	MustLoadJSON(t, "nist-curves.json", &v)
	n := 0
	for d, tc := range v {
		t.Run(d, func(t *testing.T) {
			if !strings.HasPrefix(d, "did:key:zDn") {
				// P-384 and P-521 are not supported.
				if _, err := key.Document(d); !errors.Is(err, did.ErrInvalidDID) || !errors.Is(err, keys.ErrUnsupportedKey) {
					t.Fatalf("Document error = %v, want ErrInvalidDID and ErrUnsupportedKey", err)
				}
				return
			}
			n++
			doc, err := key.Document(d)
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstVector(t, doc, tc.DIDDocument, []keys.Type{keys.P256})
		})
	}
	if n != 3 {
		t.Fatalf("checked %d P-256 vectors, want 3", n)
	}
}

func TestNewRoundTrip(t *testing.T) {
	for _, typ := range []keys.Type{keys.Ed25519, keys.P256} {
		t.Run(string(typ), func(t *testing.T) {
			k, err := keys.Generate(typ, bytes.NewReader(bytes.Repeat([]byte{9}, 64)))
			if err != nil {
				t.Fatal(err)
			}
			d := key.New(k.Public())
			pub, err := key.PublicKey(d)
			if err != nil || !pub.Equal(k.Public()) {
				t.Fatalf("PublicKey(New) = %v, %v", pub, err)
			}
			doc, err := key.Document(d)
			if err != nil {
				t.Fatal(err)
			}
			if err := doc.Validate(); err != nil {
				t.Fatal(err)
			}
			for _, rel := range []string{did.RelAuthentication, did.RelAssertionMethod, did.RelCapabilityInvocation, did.RelCapabilityDelegation} {
				vms := doc.Methods(rel)
				if len(vms) != 1 {
					t.Fatalf("%s has %d methods", rel, len(vms))
				}
				got, err := vms[0].PublicKey()
				if err != nil || !got.Equal(k.Public()) {
					t.Fatalf("%s key = %v, %v", rel, got, err)
				}
			}
			ka := doc.Methods(did.RelKeyAgreement)
			if len(ka) != 1 {
				t.Fatalf("keyAgreement has %d methods", len(ka))
			}
			kak, _ := ka[0].PublicKey()
			wantType := typ
			if typ == keys.Ed25519 {
				wantType = keys.X25519
			}
			if kak.Type() != wantType {
				t.Fatalf("keyAgreement key type = %s, want %s", kak.Type(), wantType)
			}
		})
	}
	t.Run("X25519", func(t *testing.T) {
		k, _ := keys.Generate(keys.Ed25519, bytes.NewReader(make([]byte, 32)))
		x, err := k.Public().X25519()
		if err != nil {
			t.Fatal(err)
		}
		doc, err := key.Document(key.New(x))
		if err != nil {
			t.Fatal(err)
		}
		if err := doc.Validate(); err != nil {
			t.Fatal(err)
		}
		if len(doc.Authentication) != 0 || len(doc.Methods(did.RelKeyAgreement)) != 1 {
			t.Fatalf("X25519 document = %+v", doc)
		}
	})
}

func TestInvalid(t *testing.T) {
	k, _ := keys.Generate(keys.P256, bytes.NewReader(bytes.Repeat([]byte{3}, 32)))
	u, _ := k.Public().Uncompressed()
	uncompressed := "did:key:z" + base58.Encode(append([]byte{0x80, 0x24}, u...))
	tests := []struct{ name, d string }{
		{"not a did", "key:z6Mk"},
		{"other method", "did:web:example.com"},
		{"not base58btc", "did:key:m7QEQ"},
		{"bad key", "did:key:z6Mk"},
		{"secp256k1", "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"},
		{"version prefix", "did:key:1:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"},
		{"uncompressed p256", uncompressed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := key.Document(tc.d); !errors.Is(err, did.ErrInvalidDID) {
				t.Fatalf("Document(%q) error = %v, want ErrInvalidDID", tc.d, err)
			}
			if _, err := (key.Resolver{}).Resolve(t.Context(), tc.d, did.Options{}); !errors.Is(err, did.ErrInvalidDID) {
				t.Fatalf("Resolve(%q) error = %v, want ErrInvalidDID", tc.d, err)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	const d = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	res, err := (key.Resolver{}).Resolve(t.Context(), d, did.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.DIDDocument.ID != d || res.DIDResolutionMetadata.ContentType != did.MediaTypeDIDLDJSON || res.DIDResolutionMetadata.Error != nil {
		t.Fatalf("result = %+v", res)
	}
	if err := res.DIDDocument.Validate(); err != nil {
		t.Fatal(err)
	}
	res, err = (key.Resolver{}).Resolve(t.Context(), d, did.Options{Accept: did.MediaTypeDIDJSON})
	if err != nil || res.DIDResolutionMetadata.ContentType != did.MediaTypeDIDJSON {
		t.Fatalf("accept did+json: %+v, %v", res, err)
	}
	if _, err := (key.Resolver{}).Resolve(t.Context(), d, did.Options{Accept: "application/did+cbor"}); !errors.Is(err, did.ErrRepresentationNotSupported) {
		t.Fatalf("accept cbor: %v", err)
	}
	if _, err := (key.Resolver{}).Resolve(t.Context(), d, did.Options{VersionID: "1"}); !errors.Is(err, did.ErrFeatureNotSupported) {
		t.Fatalf("versionId: %v", err)
	}
	// Through the dispatcher.
	m := did.Methods{key.Method: key.Resolver{}}
	if _, err := m.Resolve(t.Context(), d, did.Options{}); err != nil {
		t.Fatal(err)
	}
}

func FuzzDocument(f *testing.F) {
	for _, s := range []string{
		"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
		"did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv",
		"did:key:z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW",
		"did:key:z", "did:key:", "did:key:z82Lm1MpAkeJcix9K8TMiLd5NMAhnwkjjCBeWHXyu3U4oT2MVJJKXkcVBgjGhnLBn2Kaau9",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, d string) {
		doc, err := key.Document(d)
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
