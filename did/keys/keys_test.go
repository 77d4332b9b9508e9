package keys_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/mr-tron/base58"

	"github.com/idmesh/idmesh/did/keys"
)

// seeded returns a deterministic reader for key generation in tests.
func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return rand.NewChaCha8(s)
}

// MustGenerate generates a key of type t from a seeded reader.
func MustGenerate(tb testing.TB, t keys.Type, seed uint64) keys.PrivateKey {
	tb.Helper()
	k, err := keys.Generate(t, seeded(seed))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

var signingTypes = []keys.Type{keys.Ed25519, keys.P256}

func TestRoundTrip(t *testing.T) {
	for _, typ := range signingTypes {
		t.Run(string(typ), func(t *testing.T) {
			pub := MustGenerate(t, typ, 1).Public()
			if pub.IsZero() || pub.Type() != typ {
				t.Fatalf("Public() = %v", pub)
			}
			mb, err := keys.ParseMultibase(pub.Multibase())
			if err != nil || !mb.Equal(pub) {
				t.Fatalf("ParseMultibase(Multibase()) = %v, %v", mb, err)
			}
			j, err := keys.ParseJWK(pub.JWK())
			if err != nil || !j.Equal(pub) {
				t.Fatalf("ParseJWK(JWK()) = %v, %v", j, err)
			}
			raw, err := keys.FromRaw(typ, pub.Bytes())
			if err != nil || !raw.Equal(pub) {
				t.Fatalf("FromRaw(Bytes()) = %v, %v", raw, err)
			}
			if pub.Thumbprint() == "" || pub.Algorithm() == "" {
				t.Fatal("empty Thumbprint or Algorithm")
			}
		})
	}
}

func TestMultibasePrefixes(t *testing.T) {
	tests := []struct {
		typ    keys.Type
		prefix string
	}{
		{keys.Ed25519, "z6Mk"},
		{keys.P256, "zDn"},
	}
	for _, tc := range tests {
		t.Run(string(tc.typ), func(t *testing.T) {
			for i := range uint64(20) {
				mb := MustGenerate(t, tc.typ, i).Public().Multibase()
				if mb[:len(tc.prefix)] != tc.prefix {
					t.Fatalf("Multibase() = %s, want prefix %s", mb, tc.prefix)
				}
			}
		})
	}
	x, err := MustGenerate(t, keys.Ed25519, 3).Public().X25519()
	if err != nil {
		t.Fatal(err)
	}
	if mb := x.Multibase(); mb[:4] != "z6LS" {
		t.Fatalf("X25519 Multibase() = %s, want prefix z6LS", mb)
	}
}

func TestSignVerify(t *testing.T) {
	msg := []byte("idmesh signs this")
	for _, typ := range signingTypes {
		t.Run(string(typ), func(t *testing.T) {
			k := MustGenerate(t, typ, 7)
			sig, err := k.Sign(msg)
			if err != nil {
				t.Fatal(err)
			}
			if len(sig) != keys.SignatureSize {
				t.Fatalf("len(sig) = %d", len(sig))
			}
			pub := k.Public()
			if !pub.Verify(msg, sig) {
				t.Fatal("signature does not verify")
			}
			if err := pub.VerifyError(msg, sig); err != nil {
				t.Fatal(err)
			}
			tampered := bytes.Clone(sig)
			tampered[10] ^= 0x80
			if pub.Verify(msg, tampered) {
				t.Fatal("tampered signature verifies")
			}
			if err := pub.VerifyError(msg, tampered); !errors.Is(err, keys.ErrInvalidSignature) {
				t.Fatalf("VerifyError(tampered) = %v", err)
			}
			if pub.Verify([]byte("other message"), sig) {
				t.Fatal("signature verifies another message")
			}
			if pub.Verify(msg, sig[:63]) {
				t.Fatal("short signature verifies")
			}
			other := MustGenerate(t, typ, 8).Public()
			if other.Verify(msg, sig) {
				t.Fatal("signature verifies under another key")
			}
		})
	}
	t.Run("X25519 never verifies", func(t *testing.T) {
		k := MustGenerate(t, keys.Ed25519, 9)
		sig, _ := k.Sign(msg)
		x, err := k.Public().X25519()
		if err != nil {
			t.Fatal(err)
		}
		if x.Verify(msg, sig) || x.Algorithm() != "" {
			t.Fatal("X25519 key verifies or has an alg")
		}
		if err := x.VerifyError(msg, sig); !errors.Is(err, keys.ErrUnsupportedKey) {
			t.Fatalf("VerifyError = %v", err)
		}
	})
}

func TestGenerateDeterministic(t *testing.T) {
	for _, typ := range signingTypes {
		t.Run(string(typ), func(t *testing.T) {
			a, b := MustGenerate(t, typ, 42), MustGenerate(t, typ, 42)
			if !a.Public().Equal(b.Public()) {
				t.Fatal("same seed gave different keys")
			}
			if MustGenerate(t, typ, 43).Public().Equal(a.Public()) {
				t.Fatal("different seeds gave the same key")
			}
		})
	}
	t.Run("P-256 rejection sampling", func(t *testing.T) {
		// An all-0xff candidate is >= n and must be skipped.
		r := bytes.NewReader(append(bytes.Repeat([]byte{0xff}, 32), bytes.Repeat([]byte{7}, 32)...))
		k, err := keys.Generate(keys.P256, r)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := k.MarshalBinary()
		if !bytes.Equal(b[1:], bytes.Repeat([]byte{7}, 32)) {
			t.Fatalf("scalar = %x", b[1:])
		}
	})
	t.Run("short reader", func(t *testing.T) {
		if _, err := keys.Generate(keys.Ed25519, bytes.NewReader([]byte{1, 2})); err == nil {
			t.Fatal("want error")
		}
	})
	t.Run("X25519 unsupported", func(t *testing.T) {
		if _, err := keys.Generate(keys.X25519, seeded(1)); !errors.Is(err, keys.ErrUnsupportedKey) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("nil reader uses crypto/rand", func(t *testing.T) {
		if _, err := keys.Generate(keys.Ed25519, nil); err != nil {
			t.Fatal(err)
		}
	})
}

func TestPrivateKeyMarshal(t *testing.T) {
	for _, typ := range signingTypes {
		t.Run(string(typ), func(t *testing.T) {
			k := MustGenerate(t, typ, 5)
			b, err := k.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != 33 {
				t.Fatalf("len = %d", len(b))
			}
			k2, err := keys.UnmarshalPrivateKey(b)
			if err != nil {
				t.Fatal(err)
			}
			if k2.Type() != typ || !k2.Public().Equal(k.Public()) {
				t.Fatal("round trip changed the key")
			}
		})
	}
	bad := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, keys.ErrInvalidKey},
		{"short", []byte{1, 2, 3}, keys.ErrInvalidKey},
		{"unknown type", append([]byte{9}, make([]byte, 32)...), keys.ErrUnsupportedKey},
		{"zero p256 scalar", append([]byte{2}, make([]byte, 32)...), keys.ErrInvalidKey},
		{"p256 scalar >= n", append([]byte{2}, bytes.Repeat([]byte{0xff}, 32)...), keys.ErrInvalidKey},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := keys.UnmarshalPrivateKey(tc.b); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := (keys.PrivateKey{}).MarshalBinary(); !errors.Is(err, keys.ErrUnsupportedKey) {
		t.Fatalf("zero key MarshalBinary err = %v", err)
	}
	if _, err := (keys.PrivateKey{}).Sign(nil); !errors.Is(err, keys.ErrUnsupportedKey) {
		t.Fatalf("zero key Sign err = %v", err)
	}
}

func TestP256Uncompressed(t *testing.T) {
	pub := MustGenerate(t, keys.P256, 11).Public()
	u, err := pub.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.FromRaw(keys.P256, u)
	if err != nil || !k.Equal(pub) || len(k.Bytes()) != 33 {
		t.Fatalf("FromRaw(uncompressed) = %x, %v", k.Bytes(), err)
	}
	// Multikey with an uncompressed point is accepted, re-encoded compressed.
	mb := "z" + base58.Encode(append([]byte{0x80, 0x24}, u...))
	k, err = keys.ParseMultibase(mb)
	if err != nil || !k.Equal(pub) {
		t.Fatalf("ParseMultibase(uncompressed) = %v, %v", k, err)
	}
	if k.Multibase() == mb {
		t.Fatal("Multibase() did not compress")
	}
}

func TestZeroKey(t *testing.T) {
	var z keys.PublicKey
	if !z.IsZero() || z.Multibase() != "" || z.JWK() != nil || z.Thumbprint() != "" || z.Verify(nil, nil) || len(z.Bytes()) != 0 {
		t.Fatal("zero key misbehaves")
	}
	if _, err := z.X25519(); !errors.Is(err, keys.ErrUnsupportedKey) {
		t.Fatal(err)
	}
}

func TestBytesIsACopy(t *testing.T) {
	pub := MustGenerate(t, keys.Ed25519, 1).Public()
	b := pub.Bytes()
	b[0] ^= 0xff
	if bytes.Equal(b, pub.Bytes()) {
		t.Fatal("Bytes() aliases the key")
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func TestFromRawInvalid(t *testing.T) {
	identity := make([]byte, 32)
	identity[0] = 1
	minusOne := bytes.Repeat([]byte{0xff}, 32) // y = 2^255-1 >= p: non-canonical
	minusOne[31] = 0x7f
	negZero := bytes.Clone(identity) // x = 0 with the sign bit set
	negZero[31] |= 0x80
	order2 := make([]byte, 32) // y = p-1 = -1: the point (0,-1) of order 2
	order2[0] = 0xec
	for i := 1; i < 31; i++ {
		order2[i] = 0xff
	}
	order2[31] = 0x7f
	order4 := make([]byte, 32) // y = 0: points of order 4
	// y = 2 is not on edwards25519 (x^2 = 3/(4d+1) is not a square).
	notOnCurve := make([]byte, 32)
	notOnCurve[0] = 2

	xOne := make([]byte, 32)
	xOne[0] = 1
	pMinus1 := bytes.Clone(order2)

	tests := []struct {
		name string
		typ  keys.Type
		b    []byte
		want error
	}{
		{"ed25519 short", keys.Ed25519, make([]byte, 31), keys.ErrInvalidKey},
		{"ed25519 long", keys.Ed25519, make([]byte, 33), keys.ErrInvalidKey},
		{"ed25519 identity", keys.Ed25519, identity, keys.ErrInvalidKey},
		{"ed25519 non-canonical y", keys.Ed25519, minusOne, keys.ErrInvalidKey},
		{"ed25519 negative zero x", keys.Ed25519, negZero, keys.ErrInvalidKey},
		{"ed25519 order 2", keys.Ed25519, order2, keys.ErrInvalidKey},
		{"ed25519 order 4", keys.Ed25519, order4, keys.ErrInvalidKey},
		{"ed25519 not on curve", keys.Ed25519, notOnCurve, keys.ErrInvalidKey},
		{"x25519 zero", keys.X25519, make([]byte, 32), keys.ErrInvalidKey},
		{"x25519 one", keys.X25519, xOne, keys.ErrInvalidKey},
		{"x25519 p-1", keys.X25519, pMinus1, keys.ErrInvalidKey},
		{"x25519 non-canonical", keys.X25519, bytes.Repeat([]byte{0xff}, 32), keys.ErrInvalidKey},
		{"x25519 short", keys.X25519, make([]byte, 16), keys.ErrInvalidKey},
		{"p256 empty", keys.P256, nil, keys.ErrInvalidKey},
		{"p256 bad prefix", keys.P256, append([]byte{5}, make([]byte, 32)...), keys.ErrInvalidKey},
		{"p256 x >= p", keys.P256, append([]byte{2}, bytes.Repeat([]byte{0xff}, 32)...), keys.ErrInvalidKey},
		{"p256 uncompressed off curve", keys.P256, append([]byte{4}, bytes.Repeat([]byte{1}, 64)...), keys.ErrInvalidKey},
		{"p256 infinity", keys.P256, append([]byte{4}, make([]byte, 64)...), keys.ErrInvalidKey},
		{"unknown type", keys.Type("secp256k1"), make([]byte, 33), keys.ErrUnsupportedKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := keys.FromRaw(tc.typ, tc.b); !errors.Is(err, tc.want) {
				t.Fatalf("FromRaw error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseMultibaseInvalid(t *testing.T) {
	ed := MustGenerate(t, keys.Ed25519, 1).Public()
	tests := []struct {
		name string
		s    string
		want error
	}{
		{"empty", "", keys.ErrInvalidKey},
		{"bare z", "z", keys.ErrInvalidKey},
		{"base64 prefix", "m" + b64(ed.Bytes()), keys.ErrInvalidKey},
		{"bad base58", "z0OIl", keys.ErrInvalidKey},
		{"no codec", "z" + base58.Encode([]byte{0x80}), keys.ErrInvalidKey},
		{"unknown codec secp256k1", "z" + base58.Encode(append([]byte{0xe7, 0x01}, make([]byte, 33)...)), keys.ErrUnsupportedKey},
		{"non-minimal varint", "z" + base58.Encode(append([]byte{0xed, 0x81, 0x00}, ed.Bytes()...)), keys.ErrInvalidKey},
		{"ed25519 truncated", "z" + base58.Encode(append([]byte{0xed, 0x01}, ed.Bytes()[:31]...)), keys.ErrInvalidKey},
		{"ed25519 extra byte", "z" + base58.Encode(append(append([]byte{0xed, 0x01}, ed.Bytes()...), 0)), keys.ErrInvalidKey},
		{"too long", "z" + string(bytes.Repeat([]byte{'2'}, 300)), keys.ErrInvalidKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := keys.ParseMultibase(tc.s); !errors.Is(err, tc.want) {
				t.Fatalf("ParseMultibase(%q) error = %v, want %v", tc.s, err, tc.want)
			}
		})
	}
}

func TestParseJWKInvalid(t *testing.T) {
	ed := MustGenerate(t, keys.Ed25519, 1).Public()
	ec := MustGenerate(t, keys.P256, 1).Public().JWK()
	x := ed.JWK()["x"]
	tests := []struct {
		name string
		jwk  map[string]any
		want error
	}{
		{"empty", map[string]any{}, keys.ErrInvalidKey},
		{"private d", map[string]any{"kty": "OKP", "crv": "Ed25519", "x": x, "d": x}, keys.ErrInvalidKey},
		{"oct k", map[string]any{"kty": "oct", "k": "AAAA"}, keys.ErrInvalidKey},
		{"kty not string", map[string]any{"kty": 1, "crv": "Ed25519", "x": x}, keys.ErrInvalidKey},
		{"missing crv", map[string]any{"kty": "OKP", "x": x}, keys.ErrInvalidKey},
		{"unknown kty", map[string]any{"kty": "RSA", "crv": "Ed25519", "x": x}, keys.ErrUnsupportedKey},
		{"unknown crv", map[string]any{"kty": "OKP", "crv": "Ed448", "x": x}, keys.ErrUnsupportedKey},
		{"kty crv mismatch", map[string]any{"kty": "EC", "crv": "Ed25519", "x": x}, keys.ErrUnsupportedKey},
		{"secp256k1", map[string]any{"kty": "EC", "crv": "secp256k1", "x": ec["x"], "y": ec["y"]}, keys.ErrUnsupportedKey},
		{"missing x", map[string]any{"kty": "OKP", "crv": "Ed25519"}, keys.ErrInvalidKey},
		{"x padded", map[string]any{"kty": "OKP", "crv": "Ed25519", "x": x.(string) + "="}, keys.ErrInvalidKey},
		{"x std base64", map[string]any{"kty": "OKP", "crv": "Ed25519", "x": "+" + x.(string)[1:]}, keys.ErrInvalidKey},
		{"x short", map[string]any{"kty": "OKP", "crv": "Ed25519", "x": x.(string)[:40]}, keys.ErrInvalidKey},
		{"ec missing y", map[string]any{"kty": "EC", "crv": "P-256", "x": ec["x"]}, keys.ErrInvalidKey},
		{"ec y wrong", map[string]any{"kty": "EC", "crv": "P-256", "x": ec["x"], "y": ec["x"]}, keys.ErrInvalidKey},
		{"ec short x", map[string]any{"kty": "EC", "crv": "P-256", "x": b64(make([]byte, 31)), "y": ec["y"]}, keys.ErrInvalidKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := keys.ParseJWK(tc.jwk); !errors.Is(err, tc.want) {
				t.Fatalf("ParseJWK error = %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("extra public members ignored", func(t *testing.T) {
		j := ed.JWK()
		j["kid"], j["use"], j["alg"] = "k1", "sig", "EdDSA"
		k, err := keys.ParseJWK(j)
		if err != nil || !k.Equal(ed) {
			t.Fatalf("ParseJWK = %v, %v", k, err)
		}
	})
}
