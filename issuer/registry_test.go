package issuer_test

import (
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/keystore"
	"github.com/idmesh/idmesh/issuer"
)

const chainID = "test-chain"

var passphrase = []byte("correct horse battery staple")

// MustKeystore creates a keystore with cheap scrypt parameters.
func MustKeystore(tb testing.TB) *keystore.Store {
	tb.Helper()
	ks, err := keystore.Create(filepath.Join(tb.TempDir(), "keys.json"), passphrase, keystore.TestParams, keystore.WithRand(rand.NewChaCha8([32]byte{7})))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ks.Close() })
	return ks
}

// MustCreate creates an issuer.
func MustCreate(tb testing.TB, r *issuer.Registry, name string, seed byte) issuer.Issuer {
	tb.Helper()
	iss, op, err := r.Create(name, keys.Ed25519, chainID, rand.NewChaCha8([32]byte{seed}), t0)
	if err != nil {
		tb.Fatalf("create %s: %v", name, err)
	}
	if op == nil {
		tb.Fatal("no create operation")
	}
	return iss
}

func TestRegistryNames(t *testing.T) {
	r := issuer.NewRegistry(MustKeystore(t))
	for i, c := range []struct {
		name string
		ok   bool
	}{
		{"a", true},
		{"example-university", true},
		{"0day", true},
		{strings.Repeat("a", 64), true},
		{"", false},
		{strings.Repeat("a", 65), false},
		{"-leading", false},
		{"Upper", false},
		{"under_score", false},
		{"dot.name", false},
		{"space name", false},
		{"did:example:x", false},
		{"ünï", false},
	} {
		_, _, err := r.Create(c.name, keys.Ed25519, chainID, rand.NewChaCha8([32]byte{byte(i)}), t0)
		if c.ok && err != nil {
			t.Errorf("%q: %v", c.name, err)
		}
		if !c.ok && !errors.Is(err, issuer.ErrInvalidName) {
			t.Errorf("%q: %v, want ErrInvalidName", c.name, err)
		}
	}
}

func TestRegistry(t *testing.T) {
	ks := MustKeystore(t)
	r := issuer.NewRegistry(ks)
	uni := MustCreate(t, r, "university", 1)
	if !strings.HasPrefix(uni.DID, "did:idmesh:") || uni.KeyID != uni.DID+"#key-1" || uni.Status != issuer.StatusPending || !uni.Created.Equal(t0) || uni.Name != "university" {
		t.Fatalf("created %+v", uni)
	}
	acad := MustCreate(t, r, "academy", 2)
	if acad.DID == uni.DID {
		t.Fatal("two issuers, one DID")
	}
	if _, _, err := r.Create("university", keys.Ed25519, chainID, rand.NewChaCha8([32]byte{3}), t0); !errors.Is(err, issuer.ErrExists) {
		t.Fatalf("duplicate: %v", err)
	}
	if got := r.List(); len(got) != 2 || got[0].Name != "academy" || got[1].Name != "university" {
		t.Fatalf("list %+v", got)
	}

	for _, q := range []string{"university", uni.DID} {
		got, err := r.Find(q)
		if err != nil || got != uni {
			t.Fatalf("find %s: %+v, %v", q, got, err)
		}
	}
	if _, err := r.Find("nobody"); !errors.Is(err, issuer.ErrNotFound) {
		t.Fatalf("find unknown: %v", err)
	}

	s, err := r.Signer(uni)
	if err != nil {
		t.Fatal(err)
	}
	if s.MethodID() != uni.KeyID {
		t.Fatalf("signer %s", s.MethodID())
	}
	sig, err := s.Sign([]byte("hello"))
	if err != nil || !s.Public().Verify([]byte("hello"), sig) {
		t.Fatalf("sign: %v", err)
	}
	// The signer issues as the issuer.
	var pub credential.StaticKeys
	pub.Add(credential.VerificationKey{ID: uni.KeyID, Controller: uni.DID, Public: s.Public()}, credential.PurposeAssertion)
	vc, err := issuer.Issue(t.Context(), degree(""), s, issuer.Options{Format: issuer.FormatJCS, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	if MustOpen(t, vc, &pub)["issuer"] != uni.DID {
		t.Fatalf("issued by %v", vc["issuer"])
	}

	if err := r.SetStatus(uni, issuer.StatusLive); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Find(uni.DID); got.Status != issuer.StatusLive {
		t.Fatalf("status %q", got.Status)
	}

	// A new registry over the reopened keystore sees the same issuers.
	path := ks.Path()
	if err := ks.Close(); err != nil {
		t.Fatal(err)
	}
	ks2, err := keystore.Open(path, passphrase)
	if err != nil {
		t.Fatal(err)
	}
	defer ks2.Close()
	r2 := issuer.NewRegistry(ks2)
	got, err := r2.Find("university")
	if err != nil || got.Status != issuer.StatusLive || got.DID != uni.DID {
		t.Fatalf("after reopening: %+v, %v", got, err)
	}
	s2, err := r2.Signer(got)
	if err != nil || !s2.Public().Equal(s.Public()) {
		t.Fatalf("signer after reopening: %v", err)
	}

	if err := r2.Delete(acad); err != nil {
		t.Fatal(err)
	}
	if _, err := r2.Find("academy"); !errors.Is(err, issuer.ErrNotFound) {
		t.Fatalf("deleted: %v", err)
	}
	if _, err := r2.Signer(acad); err == nil {
		t.Fatal("signer of a deleted issuer")
	}
	if err := r2.SetStatus(acad, issuer.StatusLive); err == nil {
		t.Fatal("status of a deleted issuer")
	}
	// The name is free again.
	MustCreate(t, r2, "academy", 4)
}
