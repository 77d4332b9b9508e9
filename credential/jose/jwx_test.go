package jose_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did/keys"
)

// TestJWXInterop checks the package against jwx used directly, both ways:
// jwx's own jws.Parse and jws.Verify accept what SignCredential makes, and
// Verify accepts what jws.Sign makes with headers the package did not
// write. Since the package signs and verifies through jwx too, each token
// is also checked with crypto/ed25519 and crypto/ecdsa alone
// (keys.PublicKey.Verify), and signers that are not a KeySigner (the
// package signs for them without jwx) are checked against Verify.
func TestJWXInterop(t *testing.T) {
	f := MustFixture(t)
	edSeed, p256Scalar := mustSecret(t, f.ed.Key), mustSecret(t, f.p256.Key)
	edPriv := ed25519.NewKeyFromSeed(edSeed)
	ecPriv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), p256Scalar)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		signer credential.KeySigner
		alg    jwa.SignatureAlgorithm
		ours   string
		priv   any
		pub    any
	}{
		{"EdDSA", f.ed, jwa.EdDSA(), "EdDSA", edPriv, edPriv.Public()},
		{"Ed25519", f.ed, jwa.EdDSAEd25519(), "Ed25519", edPriv, edPriv.Public()},
		{"ES256", f.p256, jwa.ES256(), "ES256", ecPriv, &ecPriv.PublicKey},
	}
	for _, tt := range tests {
		t.Run(tt.name+" ours to jwx", func(t *testing.T) {
			tok, err := jose.SignCredential(credentialDoc(issuerDID), tt.signer, jose.SignOptions{Algorithm: tt.ours})
			if err != nil {
				t.Fatal(err)
			}
			msg, err := jws.Parse([]byte(tok))
			if err != nil {
				t.Fatal(err)
			}
			if typ, _ := msg.Signatures()[0].ProtectedHeaders().Type(); typ != "vc+jwt" {
				t.Fatalf("jwx reads typ %q", typ)
			}
			if _, err := jws.Verify([]byte(tok), jws.WithKey(tt.alg, tt.pub)); err != nil {
				t.Fatalf("jwx verify: %v", err)
			}
			mustStdlibVerify(t, tok, tt.signer.Public())
		})
		t.Run(tt.name+" other signer", func(t *testing.T) {
			tok, err := jose.SignCredential(credentialDoc(issuerDID), opaqueSigner{tt.signer}, jose.SignOptions{Algorithm: tt.ours})
			if err != nil {
				t.Fatal(err)
			}
			mustStdlibVerify(t, tok, tt.signer.Public())
			if _, key, err := jose.Verify(t.Context(), tok, jose.MediaTypeVC, f.keys, jose.VerifyOptions{}); err != nil || key.ID != tt.signer.ID {
				t.Fatalf("Verify = %s, %v", key.ID, err)
			}
		})
		t.Run(tt.name+" jwx to ours", func(t *testing.T) {
			hdr := jws.NewHeaders()
			for k, v := range map[string]string{"typ": "vc+jwt", "kid": tt.signer.ID} {
				if err := hdr.Set(k, v); err != nil {
					t.Fatal(err)
				}
			}
			tok, err := jws.Sign([]byte(mustJSON(t, credentialDoc(issuerDID))), jws.WithKey(tt.alg, tt.priv, jws.WithProtectedHeaders(hdr)))
			if err != nil {
				t.Fatal(err)
			}
			if _, key, err := jose.Verify(t.Context(), string(tok), jose.MediaTypeVC, f.keys, jose.VerifyOptions{}); err != nil || key.ID != tt.signer.ID {
				t.Fatalf("Verify(jwx token) = %s, %v", key.ID, err)
			}
		})
	}
}

// opaqueSigner hides the KeySigner behind the Signer interface, as a
// signer whose key lives elsewhere would.
type opaqueSigner struct{ credential.Signer }

// mustStdlibVerify checks the signature of tok with pub alone, without
// jwx: r||s for ES256 (RFC 7518 section 3.4).
func mustStdlibVerify(tb testing.TB, tok string, pub keys.PublicKey) {
	tb.Helper()
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		tb.Fatal(err)
	}
	if len(sig) != keys.SignatureSize || !pub.Verify([]byte(tok[:i]), sig) {
		tb.Fatalf("signature of %d bytes does not verify with %s alone", len(sig), pub.Type())
	}
}

// mustSecret returns the 32-byte seed or scalar of k.
func mustSecret(tb testing.TB, k keys.PrivateKey) []byte {
	tb.Helper()
	b, err := k.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return b[1:]
}

// TestJWXRFC8037 verifies RFC 8037 appendix A.4 with jwx.
func TestJWXRFC8037(t *testing.T) {
	raw, err := os.ReadFile("testdata/rfc/rfc8037-ed25519-jose.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Public map[string]any `json:"A.2_public_key_jwk"`
		JWS    string         `json:"A.4_compact_jws"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	pub, err := keys.ParseJWK(v.Public)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jws.Verify([]byte(v.JWS), jws.WithKey(jwa.EdDSA(), ed25519.PublicKey(pub.Bytes()))); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkJWXVerifyEdDSA is jwx's general verify of the token of
// BenchmarkVerifyCredentialEdDSA, signature and payload bytes only (no
// JSON parse, no key lookup), for comparison: Verify uses it only for a
// token with a "b64" header.
func BenchmarkJWXVerifyEdDSA(b *testing.B) {
	tok, _, pub := benchToken(b)
	key := ed25519.PublicKey(pub.Bytes())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jws.Verify([]byte(tok), jws.WithKey(jwa.EdDSA(), key)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJWXVerifyCompactFastEdDSA is jwx's fast compact path on the
// same token, the one Verify takes.
func BenchmarkJWXVerifyCompactFastEdDSA(b *testing.B) {
	tok, _, pub := benchToken(b)
	key := ed25519.PublicKey(pub.Bytes())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jws.VerifyCompactFast(key, []byte(tok), jwa.EdDSA()); err != nil {
			b.Fatal(err)
		}
	}
}
