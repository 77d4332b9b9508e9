package issuer_test

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/issuer"
)

// MustHolderKey returns a holder key of type t.
func MustHolderKey(tb testing.TB, t keys.Type, seed byte) keys.PrivateKey {
	tb.Helper()
	k, err := keys.Generate(t, rand.NewChaCha8([32]byte{seed}))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// MustX25519 returns an X25519 public key (a key-agreement key).
func MustX25519(tb testing.TB) keys.PublicKey {
	tb.Helper()
	k, err := keys.FromRaw(keys.X25519, bytes.Repeat([]byte{9}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// TestIssueSDJWT: the claims idmesh sets, the default disclosable
// claims, and what verifies.
func TestIssueSDJWT(t *testing.T) {
	s, ks := MustSigner(t, 1)
	holder := MustHolderKey(t, keys.Ed25519, 2)
	claims := map[string]any{"vct": "https://node.example/vct/employment", "name": "Alice", "a/b~c": 1, "jti": "urn:uuid:1", "exp": t0.Unix() + 3600}
	status := map[string]any{"status_list": map[string]any{"idx": 7, "uri": "https://node.example/status-lists/1/token"}}
	out, err := issuer.IssueSDJWT(claims, s, issuer.SDJWTOptions{HolderKey: holder.Public(), Now: t0, Status: status, Random: rand.NewChaCha8([32]byte{3})})
	if err != nil {
		t.Fatal(err)
	}
	if len(claims) != 5 {
		t.Fatalf("input modified: %v", claims)
	}
	res, err := sdjwt.Verify(t.Context(), out, ks, sdjwt.VerifyOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(res.Disclosed, " "); got != "/a~1b~0c /name" {
		t.Fatalf("disclosed %q", got)
	}
	if res.Issuer != credential.ControllerOf(s.ID) || !res.HolderKey.Equal(holder.Public()) || res.Status == nil || res.Status.Index != 7 || res.Claims["jti"] != "urn:uuid:1" {
		t.Fatalf("result %+v", res)
	}
	// An explicit list; an empty one discloses nothing.
	for _, tc := range []struct {
		ptrs []string
		want []string
	}{{[]string{"/name"}, []string{"/name"}}, {[]string{}, []string{}}} {
		out, err := issuer.IssueSDJWT(claims, s, issuer.SDJWTOptions{HolderKey: holder.Public(), Now: t0, Disclosable: tc.ptrs})
		if err != nil {
			t.Fatal(err)
		}
		res, err := sdjwt.Verify(t.Context(), out, ks, sdjwt.VerifyOptions{Now: t0})
		if err != nil || !slices.Equal(res.Disclosed, tc.want) {
			t.Fatalf("%v: disclosed %v, %v", tc.ptrs, res.Disclosed, err)
		}
	}
}

// TestIssueSDJWTRefuses: what a request may not set or leave out.
func TestIssueSDJWTRefuses(t *testing.T) {
	s, _ := MustSigner(t, 1)
	holder := MustHolderKey(t, keys.Ed25519, 2).Public()
	ok := func() map[string]any { return map[string]any{"vct": "urn:example:vct", "name": "Alice"} }
	with := func(k string, v any) map[string]any { m := ok(); m[k] = v; return m }
	for _, tc := range []struct {
		name   string
		claims map[string]any
		opts   issuer.SDJWTOptions
		code   credential.Code
	}{
		{"no claims", nil, issuer.SDJWTOptions{HolderKey: holder, Now: t0}, credential.MalformedValueError},
		{"no vct", map[string]any{"name": "Alice"}, issuer.SDJWTOptions{HolderKey: holder, Now: t0}, credential.MalformedValueError},
		{"vct not a string", with("vct", 3), issuer.SDJWTOptions{HolderKey: holder, Now: t0}, credential.MalformedValueError},
		{"another iss", with("iss", "did:example:other"), issuer.SDJWTOptions{HolderKey: holder, Now: t0}, credential.IssuerMismatchError},
		{"iat given", with("iat", 5), issuer.SDJWTOptions{HolderKey: holder, Now: t0}, credential.MalformedValueError},
		{"cnf given", with("cnf", map[string]any{}), issuer.SDJWTOptions{HolderKey: holder, Now: t0}, credential.MalformedValueError},
		{"status given", with("status", map[string]any{}), issuer.SDJWTOptions{HolderKey: holder, Now: t0}, credential.MalformedValueError},
		{"no holder key", ok(), issuer.SDJWTOptions{Now: t0}, credential.MalformedValueError},
		{"X25519 holder key", ok(), issuer.SDJWTOptions{HolderKey: MustX25519(t), Now: t0}, credential.MalformedValueError},
		{"pointer to vct", ok(), issuer.SDJWTOptions{HolderKey: holder, Now: t0, Disclosable: []string{"/vct"}}, credential.MalformedValueError},
		{"pointer to nothing", ok(), issuer.SDJWTOptions{HolderKey: holder, Now: t0, Disclosable: []string{"/nothing"}}, credential.MalformedValueError},
		{"too many pointers", ok(), issuer.SDJWTOptions{HolderKey: holder, Now: t0, Disclosable: make([]string, issuer.MaxDisclosable+1)}, credential.LimitExceededError},
		{"reserved name", with("_sd", []any{}), issuer.SDJWTOptions{HolderKey: holder, Now: t0}, credential.MalformedValueError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := issuer.IssueSDJWT(tc.claims, s, tc.opts)
			if got := credential.CodeOf(err, ""); got != tc.code {
				t.Fatalf("code %q (%v), want %s", got, err, tc.code)
			}
		})
	}
}

// TestParseHolderKey: public Ed25519 and P-256 JWKs only, alg fitting.
func TestParseHolderKey(t *testing.T) {
	ed := MustHolderKey(t, keys.Ed25519, 2).Public().JWK()
	p256 := MustHolderKey(t, keys.P256, 3).Public().JWK()
	x := MustX25519(t).JWK()
	with := func(j map[string]any, k string, v any) map[string]any {
		out := map[string]any{}
		for a, b := range j {
			out[a] = b
		}
		out[k] = v
		return out
	}
	for _, tc := range []struct {
		name string
		jwk  map[string]any
		ok   bool
	}{
		{"Ed25519", ed, true},
		{"Ed25519 alg EdDSA", with(ed, "alg", "EdDSA"), true},
		{"P-256", p256, true},
		{"P-256 alg ES256", with(p256, "alg", "ES256"), true},
		{"nil", nil, false},
		{"private", with(ed, "d", "AAAA"), false},
		{"X25519", x, false},
		{"RSA", map[string]any{"kty": "RSA", "n": "AQAB", "e": "AQAB"}, false},
		{"alg does not fit", with(ed, "alg", "ES256"), false},
		{"alg not a string", with(p256, "alg", 7), false},
	} {
		_, err := issuer.ParseHolderKey(tc.jwk)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
		if err != nil && credential.CodeOf(err, "") != credential.MalformedValueError {
			t.Errorf("%s: code of %v", tc.name, err)
		}
	}
}
