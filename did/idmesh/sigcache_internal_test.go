package idmesh

import (
	"crypto/ed25519"
	"testing"

	"github.com/idmesh/idmesh/did/keys"
)

// TestSigCacheKeepsFailuresApart checks the cache of failed signatures:
// a failure is remembered and answered as a failure again, it never
// shadows the good signature of the same key and message, failures are
// bounded at max/8 and cannot push successes out.
func TestSigCacheKeepsFailuresApart(t *testing.T) {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	pub, err := keys.FromRaw(keys.Ed25519, priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("operation")
	sig := ed25519.Sign(priv, msg)
	bad := append([]byte(nil), sig...)
	bad[0] ^= 1
	c := NewSigCache(64)
	for range 2 {
		if c.Verify(pub, msg, bad) {
			t.Fatal("bad signature accepted")
		}
	}
	if n, _ := c.bad.Len(); n != 1 {
		t.Fatalf("%d failures kept, want 1", n)
	}
	if !c.Verify(pub, msg, sig) {
		t.Fatal("a kept failure refused the good signature of the same key and message")
	}
	for i := range 20 {
		b := append([]byte(nil), bad...)
		b[1] = byte(i)
		if c.Verify(pub, msg, b) {
			t.Fatal("bad signature accepted")
		}
	}
	if n, _ := c.bad.Len(); n != 64/8 {
		t.Fatalf("%d failures kept, want at most %d", n, 64/8)
	}
	if n, _ := c.ok.Len(); n != 1 {
		t.Fatalf("%d successes kept after the failures, want 1", n)
	}
}
