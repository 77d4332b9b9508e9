package dataintegrity_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mr-tron/base58"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/did/keys"
)

// MustReadFile returns a file under testdata.
func MustReadFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// MustReadText returns a text vector without surrounding white space.
func MustReadText(tb testing.TB, name string) string {
	tb.Helper()
	return strings.TrimSpace(string(MustReadFile(tb, name)))
}

// MustLoadJSON decodes a JSON object under testdata.
func MustLoadJSON(tb testing.TB, name string) map[string]any {
	tb.Helper()
	return MustDecode(tb, MustReadFile(tb, name))
}

// MustDecode decodes a JSON object.
func MustDecode(tb testing.TB, b []byte) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

// MustClone deep-copies a JSON value by a round trip.
func MustClone(tb testing.TB, m map[string]any) map[string]any {
	tb.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return MustDecode(tb, b)
}

// MustJSON encodes v.
func MustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// MustPrivateMultibase decodes an ed25519-priv (0x1300) Multikey
// privateKeyMultibase, as the vectors' key pairs give it.
func MustPrivateMultibase(tb testing.TB, s string) keys.PrivateKey {
	tb.Helper()
	raw, err := base58.Decode(strings.TrimPrefix(s, "z"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(raw) != 34 || raw[0] != 0x80 || raw[1] != 0x26 {
		tb.Fatalf("private key %s is not ed25519-priv", s)
	}
	k, err := keys.UnmarshalPrivateKey(append([]byte{1}, raw[2:]...))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// MustKeyPair returns a did:key signer for a vector key pair, checking
// that its public key is the one the pair gives.
func MustKeyPair(tb testing.TB, pair any) credential.KeySigner {
	tb.Helper()
	m := pair.(map[string]any)
	k := MustPrivateMultibase(tb, m["privateKeyMultibase"].(string))
	pub := m["publicKeyMultibase"].(string)
	if k.Public().Multibase() != pub {
		tb.Fatalf("private key gives %s, want %s", k.Public().Multibase(), pub)
	}
	return credential.KeySigner{ID: "did:key:" + pub + "#" + pub, Key: k}
}

// MustGenerate returns a did:key signer from a one-byte seed.
func MustGenerate(tb testing.TB, t keys.Type, seed byte) credential.KeySigner {
	tb.Helper()
	k, err := keys.Generate(t, bytes.NewReader(bytes.Repeat([]byte{seed}, 64)))
	if err != nil {
		tb.Fatal(err)
	}
	mb := k.Public().Multibase()
	return credential.KeySigner{ID: "did:key:" + mb + "#" + mb, Key: k}
}

// Resolver returns StaticKeys authorizing each signer for assertionMethod.
func Resolver(signers ...credential.KeySigner) *credential.StaticKeys {
	var r credential.StaticKeys
	for _, s := range signers {
		r.Add(credential.VerificationKey{ID: s.ID, Controller: credential.ControllerOf(s.ID), Public: s.Public()}, credential.PurposeAssertion)
	}
	return &r
}

// vectorTime is the created time of the single-proof vectors.
var vectorTime = time.Date(2023, 2, 24, 23, 36, 38, 0, time.UTC)

// suites lists the cryptosuites.
func suites(*testing.T) []string {
	return []string{dataintegrity.CryptosuiteRDFC, dataintegrity.CryptosuiteJCS}
}

// wantCode fails unless err carries code.
func wantCode(t testing.TB, err error, code credential.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", code)
	}
	if got := credential.CodeOf(err, ""); got != code {
		t.Fatalf("code %s, want %s (error: %v)", got, code, err)
	}
}
