package keys_test

import (
	"bytes"
	"testing"

	"pgregory.net/rapid"

	"github.com/idmesh/idmesh/did/keys"
)

func TestPropertyRoundTrips(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		typ := rapid.SampledFrom(signingTypes).Draw(t, "type")
		seed := rapid.SliceOfN(rapid.Byte(), 64, 64).Draw(t, "seed")
		k, err := keys.Generate(typ, bytes.NewReader(seed))
		if err != nil {
			t.Fatal(err)
		}
		pub := k.Public()
		for name, parse := range map[string]func() (keys.PublicKey, error){
			"multibase": func() (keys.PublicKey, error) { return keys.ParseMultibase(pub.Multibase()) },
			"jwk":       func() (keys.PublicKey, error) { return keys.ParseJWK(pub.JWK()) },
			"raw":       func() (keys.PublicKey, error) { return keys.FromRaw(typ, pub.Bytes()) },
		} {
			got, err := parse()
			if err != nil || !got.Equal(pub) {
				t.Fatalf("%s round trip = %v, %v; want %v", name, got, err, pub)
			}
		}
		b, err := k.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		k2, err := keys.UnmarshalPrivateKey(b)
		if err != nil || !k2.Public().Equal(pub) {
			t.Fatalf("private round trip = %v, %v", k2.Public(), err)
		}
		msg := rapid.SliceOf(rapid.Byte()).Draw(t, "msg")
		sig, err := k2.Sign(msg)
		if err != nil || !pub.Verify(msg, sig) {
			t.Fatalf("sign/verify failed: %v", err)
		}
		if typ == keys.Ed25519 {
			x, err := pub.X25519()
			if err != nil {
				t.Fatal(err)
			}
			got, err := keys.ParseMultibase(x.Multibase())
			if err != nil || !got.Equal(x) {
				t.Fatalf("x25519 round trip = %v, %v", got, err)
			}
			gotJ, err := keys.ParseJWK(x.JWK())
			if err != nil || !gotJ.Equal(x) {
				t.Fatalf("x25519 jwk round trip = %v, %v", gotJ, err)
			}
		}
	})
}
