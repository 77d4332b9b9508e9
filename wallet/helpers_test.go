package wallet_test

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/keystore"
	"github.com/idmesh/idmesh/wallet"
)

// t0 is the tests' clock.
var t0 = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

// seeded returns a deterministic random source.
func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return rand.NewChaCha8(s)
}

// MustWallet returns a wallet in a new keystore (cheap scrypt), and the
// keystore's path.
func MustWallet(tb testing.TB) (*wallet.Wallet, *keystore.Store, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "keystore.json")
	ks, err := keystore.Create(path, []byte("correct horse"), keystore.TestParams, keystore.WithRand(seeded(1)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ks.Close() })
	return wallet.New(ks, wallet.WithClock(func() time.Time { return t0 }), wallet.WithRand(seeded(2))), ks, path
}

// issuerKey is the key of the tests' credential issuer.
type issuerKey struct {
	signer credential.KeySigner
	did    string
}

func MustIssuer(tb testing.TB, seed uint64) issuerKey {
	tb.Helper()
	k, err := keys.Generate(keys.Ed25519, seeded(seed))
	if err != nil {
		tb.Fatal(err)
	}
	d := key.New(k.Public())
	return issuerKey{signer: credential.KeySigner{ID: d + "#" + d[len(key.Prefix):], Key: k}, did: d}
}

// MustSDJWT issues an SD-JWT VC with given_name and an address
// disclosable, bound to holder when it is not zero.
func MustSDJWT(tb testing.TB, iss issuerKey, holder keys.PublicKey) string {
	tb.Helper()
	claims := map[string]any{
		"vct":        "https://example.com/PersonCredential",
		"given_name": "Erika",
		"address":    map[string]any{"locality": "Berlin", "country": "DE"},
		"nationalities": []any{
			"DE", "FR",
		},
	}
	s, err := sdjwt.Issue(claims, iss.signer, sdjwt.IssueOptions{
		Disclosable: []string{"/given_name", "/address", "/address/locality", "/nationalities/1"},
		Random:      seeded(7), IssuedAt: t0, HolderKey: holder, Decoys: 2,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func degree(issuer string) map[string]any {
	return map[string]any{
		"@context":          []any{"https://www.w3.org/ns/credentials/v2"},
		"type":              []any{"VerifiableCredential", "UniversityDegreeCredential"},
		"issuer":            issuer,
		"validFrom":         "2026-01-01T00:00:00Z",
		"credentialSubject": map[string]any{"id": "did:example:holder", "degree": "BSc"},
	}
}

func MustVCJWT(tb testing.TB, iss issuerKey) string {
	tb.Helper()
	s, err := jose.SignCredential(degree(iss.did), iss.signer, jose.SignOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func MustJWTVCJSON(tb testing.TB, iss issuerKey) string {
	tb.Helper()
	cred := map[string]any{
		"@context":          []any{"https://www.w3.org/2018/credentials/v1"},
		"type":              []any{"VerifiableCredential", "UniversityDegreeCredential"},
		"issuer":            iss.did,
		"issuanceDate":      "2026-01-01T00:00:00Z",
		"credentialSubject": map[string]any{"id": "did:example:holder", "degree": "BSc"},
	}
	s, err := jose.SignJWTVC(cred, iss.signer, jose.SignOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// padded returns s with n bytes of padding at its end.
func padded(s string, n int) []byte {
	return append([]byte(s), bytes.Repeat([]byte(" "), n)...)
}

// b64j is the base64url of s.
func b64j(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
