package keys_test

import (
	"bytes"
	"crypto/elliptic"
	"math/big"
	"testing"

	"github.com/idmesh/idmesh/did/keys"
)

var (
	p256N     = elliptic.P256().Params().N
	p256HalfN = new(big.Int).Rsh(p256N, 1)
)

// withS returns r||s of sig with s replaced.
func withS(sig []byte, s *big.Int) []byte {
	out := append([]byte{}, sig[:32]...)
	return append(out, s.FillBytes(make([]byte, 32))...)
}

// TestSignLowS: ECDSA is malleable, (r, n-s) verifies whenever (r, s)
// does. Every P-256 signature Sign makes has s <= n/2, so that the one
// who sees it cannot make a second one that IsCanonicalSignature accepts;
// Verify still accepts the high-S form, as ES256 verifiers do.
func TestSignLowS(t *testing.T) {
	k := MustGenerate(t, keys.P256, 3)
	pub := k.Public()
	for i := range 256 {
		msg := bytes.Repeat([]byte{byte(i)}, i)
		sig, err := k.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		s := new(big.Int).SetBytes(sig[32:])
		if s.Cmp(p256HalfN) > 0 {
			t.Fatalf("signature %d has a high S", i)
		}
		if !pub.Verify(msg, sig) || !pub.IsCanonicalSignature(sig) {
			t.Fatalf("signature %d: verify %v, canonical %v", i, pub.Verify(msg, sig), pub.IsCanonicalSignature(sig))
		}
		high := withS(sig, new(big.Int).Sub(p256N, s))
		if !pub.Verify(msg, high) {
			t.Fatalf("signature %d: the high-S form does not verify", i)
		}
		if pub.IsCanonicalSignature(high) {
			t.Fatalf("signature %d: the high-S form is canonical", i)
		}
	}
}

func TestIsCanonicalSignature(t *testing.T) {
	ed := MustGenerate(t, keys.Ed25519, 1).Public()
	p := MustGenerate(t, keys.P256, 2).Public()
	x, err := ed.X25519()
	if err != nil {
		t.Fatal(err)
	}
	r := bytes.Repeat([]byte{1}, 32)
	tests := []struct {
		name string
		pub  keys.PublicKey
		sig  []byte
		want bool
	}{
		{"ed25519, 64 bytes", ed, make([]byte, 64), true},
		{"ed25519, 63 bytes", ed, make([]byte, 63), false},
		{"p-256, s = n/2", p, withS(r, p256HalfN), true},
		{"p-256, s = n/2 + 1", p, withS(r, new(big.Int).Add(p256HalfN, big.NewInt(1))), false},
		{"p-256, s = n - 1", p, withS(r, new(big.Int).Sub(p256N, big.NewInt(1))), false},
		{"p-256, s = 1", p, withS(r, big.NewInt(1)), true},
		{"p-256, 65 bytes", p, append(withS(r, big.NewInt(1)), 0), false},
		{"x25519", x, make([]byte, 64), false},
		{"zero key", keys.PublicKey{}, make([]byte, 64), false},
	}
	for _, tc := range tests {
		if got := tc.pub.IsCanonicalSignature(tc.sig); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
