package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
)

var vciNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func mustVCIStore(t *testing.T, maxBytes int) (*vciStore, *time.Time) {
	t.Helper()
	now := vciNow
	st, err := newVCIStore(func() time.Time { return now }, rand.NewChaCha8([32]byte{1}), 0, maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	return st, &now
}

func addGrant(st *vciStore, tx string) (*vciGrant, error) {
	g := &vciGrant{issuer: "uni", config: GenericConfiguration}
	return g, st.add(g, tx, func(code string) ([]byte, error) { return []byte(`{"code":"` + code + `"}`), nil })
}

// TestVCIStoreBounded: a full store refuses new offers (errVCIFull)
// until its entries expire and a sweep frees them; spent nonces count
// too.
func TestVCIStoreBounded(t *testing.T) {
	st, now := mustVCIStore(t, 4*entryOverhead)
	n := 0
	for ; ; n++ {
		if _, err := addGrant(st, ""); err != nil {
			if !errors.Is(err, errVCIFull) {
				t.Fatal(err)
			}
			break
		}
	}
	if n == 0 || n > 4 {
		t.Fatalf("%d offers fit in %d bytes", n, st.max)
	}
	*now = now.Add(DefaultOfferTTL)
	if _, err := addGrant(st, ""); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if st.bytes > st.max || st.bytes < 0 {
		t.Errorf("bytes %d of %d", st.bytes, st.max)
	}
}

// TestVCIStoreConcurrentRedeem: of many concurrent redemptions of one
// code exactly one gets a token.
func TestVCIStoreConcurrentRedeem(t *testing.T) {
	st, _ := mustVCIStore(t, 0)
	g, err := addGrant(st, "")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 32 {
		wg.Go(func() {
			if _, _, err := st.redeem(g.code, ""); err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Errorf("%d redemptions of one code", won)
	}
}

// TestVCINonceForms: nonces are accepted once, and refused when
// altered, truncated or expired.
func TestVCINonceForms(t *testing.T) {
	st, now := mustVCIStore(t, 0)
	n, _, err := st.newNonce()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := base64.RawURLEncoding.DecodeString(n)
	b[0] ^= 1
	for name, bad := range map[string]string{"altered": base64.RawURLEncoding.EncodeToString(b), "truncated": n[:len(n)-1], "empty": ""} {
		if err := st.spendNonce(bad); !errors.Is(err, errVCINonce) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := st.spendNonce(n); err != nil {
		t.Fatal(err)
	}
	if err := st.spendNonce(n); !errors.Is(err, errVCINonce) {
		t.Errorf("replayed: %v", err)
	}
	m, _, _ := st.newNonce()
	*now = now.Add(DefaultNonceTTL)
	if err := st.spendNonce(m); !errors.Is(err, errVCINonce) {
		t.Errorf("expired: %v", err)
	}
}

func FuzzParseTokenRequest(f *testing.F) {
	f.Add([]byte("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code=abc&tx_code=1234"))
	f.Add([]byte("grant_type=a&grant_type=b"))
	f.Add([]byte("%zz"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseTokenRequest(b)
		if err == nil && r.grantType == GrantPreAuthorizedCode && r.code == "" {
			t.Fatal("a pre-authorized code request without a code")
		}
		if err == nil && len(b) > MaxTokenRequestBytes {
			t.Fatal("oversized request accepted")
		}
	})
}

func FuzzParseCredentialRequest(f *testing.F) {
	f.Add([]byte(`{"credential_configuration_id":"generic_sd_jwt","proofs":{"jwt":["a.b.c"]}}`))
	f.Add([]byte(`{"credential_configuration_id":"x","proofs":{"jwt":["a","b"]}}`))
	f.Add([]byte(`{"proof":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseCredentialRequest(b)
		if err == nil && (r.configID == "" || r.proof == "" || len(r.proof) > MaxProofBytes) {
			t.Fatalf("accepted %+v", r)
		}
	})
}

// FuzzParseProof: no input but a proof signed by its own key verifies;
// the seed is a valid one, whose mutations must not panic.
func FuzzParseProof(f *testing.F) {
	k, err := keys.Generate(keys.Ed25519, rand.NewChaCha8([32]byte{3}))
	if err != nil {
		f.Fatal(err)
	}
	sign := func(h, c map[string]any) string {
		hb, _ := json.Marshal(h)
		cb, _ := json.Marshal(c)
		in := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
		sig, _ := k.Sign([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	const aud = "https://node.example"
	claims := map[string]any{"aud": aud, "iat": vciNow.Unix(), "nonce": "n"}
	good := sign(map[string]any{"alg": "EdDSA", "typ": ProofTypeJWT, "jwk": k.Public().JWK()}, claims)
	d := key.New(k.Public())
	byKID := sign(map[string]any{"alg": "EdDSA", "typ": ProofTypeJWT, "kid": d + "#" + d[len(key.Prefix):]}, claims)
	for _, p := range []string{good, byKID} {
		got, err := parseProof(p, aud, vciNow, time.Minute)
		if err != nil || !got.key.Equal(k.Public()) || got.holder != d || got.nonce != "n" {
			f.Fatalf("seed: %+v %v", got, err)
		}
		f.Add(p)
	}
	f.Add("e30.e30.")
	f.Fuzz(func(t *testing.T, p string) {
		got, err := parseProof(p, aud, vciNow, time.Minute)
		if err != nil {
			if !errors.Is(err, errVCIProof) {
				t.Fatalf("error %v does not wrap errVCIProof", err)
			}
			return
		}
		if got.key.IsZero() || got.holder == "" {
			t.Fatalf("accepted without a key: %+v", got)
		}
	})
}

// TestVCIStoreChargesClaims: an offer's claims count against the store's
// bound (at four times their JSON), so that 16 MiB of offers is about
// 16 MiB of memory however large their claims (security review 3).
func TestVCIStoreChargesClaims(t *testing.T) {
	st, _ := mustVCIStore(t, 1<<20)
	claims := map[string]any{"note": strings.Repeat("x", 14<<10)}
	g := &vciGrant{issuer: "uni", config: GenericConfiguration, claims: claims}
	if err := st.add(g, "", func(code string) ([]byte, error) { return []byte(`{"code":"` + code + `"}`), nil }); err != nil {
		t.Fatal(err)
	}
	if g.size < 4*(14<<10) || st.bytes != g.size {
		t.Fatalf("an offer with 14 KiB of claims charged %d bytes (store %d)", g.size, st.bytes)
	}
}
