package sdjwt_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/did/keys"
)

const (
	issuerDID = "did:example:issuer"
	otherDID  = "did:example:other"
	vct       = "https://idmesh.dev/vct/EmployeeCredential"
	statusURI = "https://node.example/status-lists/7/token"
)

// t0 is the time of issuance in the tests; presentations are made and
// verified a minute later.
var (
	t0   = time.Unix(1_780_000_000, 0).UTC()
	tNow = t0.Add(time.Minute)
)

// fixture holds the keys of the tests.
type fixture struct {
	ed, p256, compromised, other credential.KeySigner // issuers
	holder, holderP256, thief    credential.KeySigner // holder keys (no method ID)
	keys                         *credential.StaticKeys
}

// MustFixture builds deterministic keys and a resolver: issuer#key-1
// Ed25519, issuer#key-2 P-256, issuer#key-3 Ed25519 compromised,
// other#key-1 Ed25519; holder keys Ed25519, P-256 and a thief's Ed25519.
func MustFixture(tb testing.TB) *fixture {
	tb.Helper()
	f := &fixture{keys: &credential.StaticKeys{}}
	gen := func(t keys.Type, seed byte) keys.PrivateKey {
		k, err := keys.Generate(t, bytes.NewReader(bytes.Repeat([]byte{seed}, 32*4)))
		if err != nil {
			tb.Fatal(err)
		}
		return k
	}
	add := func(id string, t keys.Type, seed byte, compromised bool) credential.KeySigner {
		k := gen(t, seed)
		f.keys.Add(credential.VerificationKey{ID: id, Controller: credential.ControllerOf(id), Public: k.Public(), Compromised: compromised}, credential.PurposeAssertion)
		return credential.KeySigner{ID: id, Key: k}
	}
	f.ed = add(issuerDID+"#key-1", keys.Ed25519, 1, false)
	f.p256 = add(issuerDID+"#key-2", keys.P256, 2, false)
	f.compromised = add(issuerDID+"#key-3", keys.Ed25519, 3, true)
	f.other = add(otherDID+"#key-1", keys.Ed25519, 4, false)
	f.holder = credential.KeySigner{Key: gen(keys.Ed25519, 5)}
	f.holderP256 = credential.KeySigner{Key: gen(keys.P256, 6)}
	f.thief = credential.KeySigner{Key: gen(keys.Ed25519, 7)}
	return f
}

// random returns a deterministic random source.
func random(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	return rand.NewChaCha8(s)
}

// claimsDoc returns a fresh SD-JWT VC claim set.
func claimsDoc() map[string]any {
	return map[string]any{
		"vct":         vct,
		"given_name":  "Alice",
		"family_name": "Liddell",
		"email":       "alice@example.org",
		"employee_id": "E-1865",
		"address": map[string]any{
			"street_address": "7 Rabbit Hole Lane",
			"locality":       "Oxford",
			"country":        "GB",
		},
		"nationalities": []any{"GB", "FR", "DE"},
		"status":        map[string]any{"status_list": map[string]any{"idx": 42, "uri": statusURI}},
	}
}

// disclosable makes every claim of claimsDoc but employee_id
// disclosable, address recursively, and two of the nationalities.
var disclosable = []string{
	"/given_name", "/family_name", "/email",
	"/address", "/address/street_address", "/address/locality",
	"/nationalities/0", "/nationalities/2",
}

// MustIssue issues claimsDoc with f.ed, bound to f.holder.
func MustIssue(tb testing.TB, f *fixture) string {
	tb.Helper()
	s, err := sdjwt.Issue(claimsDoc(), f.ed, sdjwt.IssueOptions{
		Disclosable: disclosable, Decoys: 2, Random: random(1), IssuedAt: t0, HolderKey: f.holder.Public(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// MustPresent presents the given claims with a key-binding JWT by f.holder.
func MustPresent(tb testing.TB, f *fixture, issued string, disclose ...string) string {
	tb.Helper()
	s, err := sdjwt.Present(issued, sdjwt.PresentOptions{
		Disclose: disclose, Holder: f.holder, Nonce: "n-0S6_WzA2Mj", Audience: "https://verifier.example", Now: tNow,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// kbOptions are the verifier's options that match MustPresent.
func kbOptions() sdjwt.VerifyOptions {
	return sdjwt.VerifyOptions{Now: tNow, Nonce: "n-0S6_WzA2Mj", Audience: "https://verifier.example"}
}

var b64 = base64.RawURLEncoding

// rawJWT makes a compact JWS of header and payload text as they are,
// signed by signer (nil: an empty signature).
func rawJWT(tb testing.TB, header, payload string, signer credential.Signer) string {
	tb.Helper()
	in := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload))
	if signer == nil {
		return in + "."
	}
	sig, err := signer.Sign([]byte(in))
	if err != nil {
		tb.Fatal(err)
	}
	return in + "." + b64.EncodeToString(sig)
}

// decodePart decodes a base64url JWT part.
func decodePart(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := b64.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// payloadOf returns the decoded payload of a compact JWT.
func payloadOf(tb testing.TB, jwt string) map[string]any {
	tb.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(decodePart(tb, strings.Split(jwt, ".")[1])))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		tb.Fatal(err)
	}
	return m
}

// mustJSON encodes v.
func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// wantCode fails unless err carries code and, when target is not nil,
// wraps target.
func wantCode(tb testing.TB, err error, code credential.Code, target error) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("no error, want %s", code)
	}
	if got := credential.CodeOf(err, ""); got != code {
		tb.Fatalf("code %s, want %s: %v", got, code, err)
	}
	if target != nil && !errors.Is(err, target) {
		tb.Fatalf("error %v does not wrap %v", err, target)
	}
	if strings.Contains(err.Error(), "\n") {
		tb.Fatalf("error is not one line: %q", err)
	}
}

// mustRead reads a file of testdata.
func mustRead(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
