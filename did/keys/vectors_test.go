package keys_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mr-tron/base58"

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
		tb.Fatalf("decode %s: %v", name, err)
	}
}

func mustHex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func mustB58(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := base58.Decode(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestRFC8032(t *testing.T) {
	var v struct {
		Tests []struct {
			Name, SecretKey, PublicKey, Message, Signature string
		}
	}
	MustLoadJSON(t, "rfc8032-ed25519.json", &v)
	if len(v.Tests) != 3 {
		t.Fatalf("got %d tests, want 3", len(v.Tests))
	}
	for _, tc := range v.Tests {
		t.Run(tc.Name, func(t *testing.T) {
			k, err := keys.UnmarshalPrivateKey(append([]byte{1}, mustHex(t, tc.SecretKey)...))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := k.Public().Bytes(), mustHex(t, tc.PublicKey); !bytes.Equal(got, want) {
				t.Fatalf("public key = %x, want %x", got, want)
			}
			msg := mustHex(t, tc.Message)
			sig, err := k.Sign(msg)
			if err != nil {
				t.Fatal(err)
			}
			if want := mustHex(t, tc.Signature); !bytes.Equal(sig, want) {
				t.Fatalf("signature = %x, want %x", sig, want)
			}
			pub, err := keys.FromRaw(keys.Ed25519, mustHex(t, tc.PublicKey))
			if err != nil {
				t.Fatal(err)
			}
			if !pub.Verify(msg, sig) {
				t.Fatal("vector signature does not verify")
			}
			sig[0] ^= 1
			if pub.Verify(msg, sig) {
				t.Fatal("tampered signature verifies")
			}
		})
	}
}

func TestRFC8037(t *testing.T) {
	var v struct {
		Private    map[string]any `json:"A.1_private_key_jwk"`
		Public     map[string]any `json:"A.2_public_key_jwk"`
		Thumbprint string         `json:"A.3_jwk_thumbprint_sha256"`
		Input      string         `json:"A.4_signing_input"`
		JWS        string         `json:"A.4_compact_jws"`
	}
	MustLoadJSON(t, "rfc8037-ed25519-jose.json", &v)

	pub, err := keys.ParseJWK(v.Public)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("thumbprint", func(t *testing.T) {
		if got := pub.Thumbprint(); got != v.Thumbprint {
			t.Fatalf("Thumbprint() = %q, want %q", got, v.Thumbprint)
		}
	})
	t.Run("jwk round trip", func(t *testing.T) {
		got := pub.JWK()
		for _, m := range []string{"kty", "crv", "x"} {
			if got[m] != v.Public[m] {
				t.Errorf("JWK()[%q] = %v, want %v", m, got[m], v.Public[m])
			}
		}
		if pub.Algorithm() != "EdDSA" {
			t.Errorf("Algorithm() = %q", pub.Algorithm())
		}
	})
	t.Run("private jwk rejected", func(t *testing.T) {
		if _, err := keys.ParseJWK(v.Private); !errors.Is(err, keys.ErrInvalidKey) {
			t.Fatalf("ParseJWK(private) error = %v, want ErrInvalidKey", err)
		}
	})
	t.Run("jws", func(t *testing.T) {
		d, err := base64.RawURLEncoding.DecodeString(v.Private["d"].(string))
		if err != nil {
			t.Fatal(err)
		}
		k, err := keys.UnmarshalPrivateKey(append([]byte{1}, d...))
		if err != nil {
			t.Fatal(err)
		}
		if !k.Public().Equal(pub) {
			t.Fatal("private key does not match public JWK")
		}
		sig, err := k.Sign([]byte(v.Input))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := v.Input+"."+base64.RawURLEncoding.EncodeToString(sig), v.JWS; got != want {
			t.Fatalf("JWS = %s, want %s", got, want)
		}
		if !pub.Verify([]byte(v.Input), sig) {
			t.Fatal("JWS signature does not verify")
		}
	})
}

// TestDIDKeyEd25519Vectors compares key bytes from the did:key vectors,
// which use the older publicKeyBase58 / JsonWebKey2020 representations.
func TestDIDKeyEd25519Vectors(t *testing.T) {
	type pair struct {
		ID              string
		PublicKeyBase58 string
		PublicKeyJwk    map[string]any
	}
	var v map[string]struct {
		Seed                string
		VerificationKeyPair pair
		KeyAgreementKeyPair pair
	}
	MustLoadJSON(t, "ed25519-x25519.json", &v)
	if len(v) == 0 {
		t.Fatal("no vectors")
	}
	for did, tc := range v {
		t.Run(did, func(t *testing.T) {
			k, err := keys.Generate(keys.Ed25519, bytes.NewReader(mustHex(t, tc.Seed)))
			if err != nil {
				t.Fatal(err)
			}
			pub := k.Public()
			if got, want := "did:key:"+pub.Multibase(), did; got != want {
				t.Errorf("did:key = %s, want %s", got, want)
			}
			want := vectorKey(t, keys.Ed25519, tc.VerificationKeyPair.PublicKeyBase58, tc.VerificationKeyPair.PublicKeyJwk)
			if !pub.Equal(want) {
				t.Errorf("public key = %x, want %x", pub.Bytes(), want.Bytes())
			}
			x, err := pub.X25519()
			if err != nil {
				t.Fatal(err)
			}
			wantX := vectorKey(t, keys.X25519, tc.KeyAgreementKeyPair.PublicKeyBase58, tc.KeyAgreementKeyPair.PublicKeyJwk)
			if !x.Equal(wantX) {
				t.Errorf("X25519 = %x, want %x", x.Bytes(), wantX.Bytes())
			}
			_, frag, _ := strings.Cut(tc.KeyAgreementKeyPair.ID, "#")
			if x.Multibase() != frag {
				t.Errorf("X25519 multibase = %s, want %s", x.Multibase(), frag)
			}
		})
	}
}

// vectorKey reads a key given either as publicKeyBase58 or publicKeyJwk.
func vectorKey(tb testing.TB, t keys.Type, b58 string, jwk map[string]any) keys.PublicKey {
	tb.Helper()
	var (
		k   keys.PublicKey
		err error
	)
	if jwk != nil {
		k, err = keys.ParseJWK(jwk)
	} else {
		k, err = keys.FromRaw(t, mustB58(tb, b58))
	}
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func TestDIDKeyNISTVectors(t *testing.T) {
	var v map[string]struct {
		VerificationMethod struct {
			PublicKeyBase58  string
			PrivateKeyBase58 string
			PublicKeyJwk     map[string]any
			PrivateKeyJwk    map[string]any
		}
	}
	MustLoadJSON(t, "nist-curves.json", &v)
	p256 := 0
	for did, tc := range v {
		t.Run(did, func(t *testing.T) {
			mb := strings.TrimPrefix(did, "did:key:")
			vm := tc.VerificationMethod
			if crv, _ := vm.PublicKeyJwk["crv"].(string); crv == "P-384" || crv == "P-521" {
				if _, err := keys.ParseMultibase(mb); !errors.Is(err, keys.ErrUnsupportedKey) {
					t.Fatalf("ParseMultibase(%s) error = %v, want ErrUnsupportedKey", crv, err)
				}
				if _, err := keys.ParseJWK(vm.PublicKeyJwk); !errors.Is(err, keys.ErrUnsupportedKey) {
					t.Fatalf("ParseJWK(%s) error = %v, want ErrUnsupportedKey", crv, err)
				}
				return
			}
			p256++
			pub, err := keys.ParseMultibase(mb)
			if err != nil {
				t.Fatal(err)
			}
			if pub.Type() != keys.P256 || pub.Multibase() != mb {
				t.Fatalf("ParseMultibase = %v %s", pub.Type(), pub.Multibase())
			}
			want := vectorKey(t, keys.P256, vm.PublicKeyBase58, vm.PublicKeyJwk)
			if !pub.Equal(want) {
				t.Fatalf("key = %x, want %x", pub.Bytes(), want.Bytes())
			}
			var d []byte
			if vm.PrivateKeyJwk != nil {
				d, err = base64.RawURLEncoding.DecodeString(vm.PrivateKeyJwk["d"].(string))
				if err != nil {
					t.Fatal(err)
				}
			} else {
				d = mustB58(t, vm.PrivateKeyBase58)
			}
			k, err := keys.UnmarshalPrivateKey(append([]byte{2}, d...))
			if err != nil {
				t.Fatal(err)
			}
			if !k.Public().Equal(pub) {
				t.Fatal("private scalar does not match public key")
			}
		})
	}
	if p256 != 3 {
		t.Errorf("checked %d P-256 vectors, want 3", p256)
	}
}
