package idmesh_test

import (
	"testing"

	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/zip215/zip215test"
)

func TestSigCache(t *testing.T) {
	k := genKey(t, keys.Ed25519, 3)
	msg := []byte("operation")
	sig, _ := k.Sign(msg)
	bad := append([]byte(nil), sig...)
	bad[0] ^= 1
	c := idmesh.NewSigCache(2)
	for range 2 {
		if !c.Verify(k.Public(), msg, sig) {
			t.Fatal("good signature refused")
		}
		if c.Verify(k.Public(), msg, bad) {
			t.Fatal("bad signature accepted")
		}
	}
	// A cached verdict is for that key, message and signature only.
	other := genKey(t, keys.Ed25519, 4)
	if c.Verify(other.Public(), msg, sig) || c.Verify(k.Public(), []byte("other"), sig) {
		t.Fatal("a cached verdict leaked to another key or message")
	}
	// Bounded: more entries than max evict the oldest, results unchanged.
	for i := range 5 {
		m := []byte{byte(i)}
		s, _ := k.Sign(m)
		if !c.Verify(k.Public(), m, s) {
			t.Fatal("good signature refused")
		}
	}
	var nilCache *idmesh.SigCache
	if !nilCache.Verify(k.Public(), msg, sig) || nilCache.Verify(k.Public(), msg, bad) {
		t.Fatal("nil cache verifies wrongly")
	}
}

func TestOpCache(t *testing.T) {
	k := genKey(t, keys.Ed25519, 5)
	op := &idmesh.Operation{Type: idmesh.Create, Document: template(k.Public())}
	if err := op.Sign(chainID, "#key-1", k); err != nil {
		t.Fatal(err)
	}
	b, _ := op.Encode()
	c := idmesh.NewOpCache(1)
	a, err := c.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := c.Decode(b); again != a {
		t.Fatal("a cached operation was decoded again")
	}
	if _, err := c.Decode([]byte(`{"type":"nope"}`)); err == nil {
		t.Fatal("a bad operation decoded")
	}
	want, _ := idmesh.Decode(b)
	wd, _ := want.Digest()
	ad, _ := a.Digest()
	if wd != ad {
		t.Fatal("the cached operation differs from a fresh decode")
	}
}

// TestLedgerSignatureRuleIsZIP215: operations' Ed25519 signatures are
// checked under ZIP-215, cached or not: a signature only the cofactored
// equation accepts is valid, a changed one is not.
func TestLedgerSignatureRuleIsZIP215(t *testing.T) {
	k := zip215test.NewKey(4)
	pub, err := keys.FromRaw(keys.Ed25519, k.Public())
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("operation")
	sig := k.Sign(msg)
	if pub.Verify(msg, sig) {
		t.Fatal("RFC 8032 verification accepts the cofactored-only signature")
	}
	bad := append([]byte(nil), sig...)
	bad[33] ^= 1
	for _, c := range []*idmesh.SigCache{nil, idmesh.NewSigCache(4)} {
		first := c.Verify(pub, msg, sig)
		if again := c.Verify(pub, msg, sig); !first || !again { // the second from the cache
			t.Errorf("cache %v: ZIP-215 signature rejected", c != nil)
		}
		if c.Verify(pub, msg, bad) {
			t.Errorf("cache %v: changed signature accepted", c != nil)
		}
	}
	if !idmesh.VerifySignature(pub, msg, sig) || idmesh.VerifySignature(pub, msg, bad) {
		t.Error("VerifySignature does not follow ZIP-215")
	}
}
