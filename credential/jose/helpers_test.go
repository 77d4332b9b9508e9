package jose_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did/keys"
)

const (
	issuerDID = "did:example:issuer"
	holderDID = "did:example:holder"
	otherDID  = "did:example:other"
)

// fixture holds the keys of the table tests.
type fixture struct {
	ed, p256, compromised, authOnly, holder, other credential.KeySigner
	keys                                           *credential.StaticKeys
}

// MustFixture builds deterministic keys and a resolver:
//
//	issuer#key-1 Ed25519, issuer#key-2 P-256: assertionMethod and authentication
//	issuer#key-3 Ed25519, compromised;         issuer#key-4 authentication only
//	holder#key-1 Ed25519: authentication;      other#key-1 Ed25519: both
func MustFixture(tb testing.TB) *fixture {
	tb.Helper()
	f := &fixture{keys: &credential.StaticKeys{}}
	both := []string{credential.PurposeAssertion, credential.PurposeAuthentication}
	add := func(id string, t keys.Type, seed byte, compromised bool, purposes ...string) credential.KeySigner {
		k, err := keys.Generate(t, bytes.NewReader(bytes.Repeat([]byte{seed}, 32*4)))
		if err != nil {
			tb.Fatal(err)
		}
		f.keys.Add(credential.VerificationKey{ID: id, Controller: credential.ControllerOf(id), Public: k.Public(), Compromised: compromised}, purposes...)
		return credential.KeySigner{ID: id, Key: k}
	}
	f.ed = add(issuerDID+"#key-1", keys.Ed25519, 1, false, both...)
	f.p256 = add(issuerDID+"#key-2", keys.P256, 2, false, both...)
	f.compromised = add(issuerDID+"#key-3", keys.Ed25519, 3, true, both...)
	f.authOnly = add(issuerDID+"#key-4", keys.Ed25519, 4, false, credential.PurposeAuthentication)
	f.holder = add(holderDID+"#key-1", keys.Ed25519, 5, false, credential.PurposeAuthentication)
	f.other = add(otherDID+"#key-1", keys.Ed25519, 6, false, both...)
	return f
}

// credentialDoc returns a fresh minimal credential issued by issuer.
func credentialDoc(issuer any) map[string]any {
	return map[string]any{
		"@context":          []any{"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"},
		"id":                "http://university.example/credentials/1872",
		"type":              []any{"VerifiableCredential", "ExampleAlumniCredential"},
		"issuer":            issuer,
		"validFrom":         "2010-01-01T19:23:24Z",
		"credentialSubject": map[string]any{"id": "did:example:123", "degree": map[string]any{"type": "BachelorDegree", "name": "Bachelor of Science & Arts <BSc>"}},
	}
}

// presentationDoc returns a fresh presentation; holder nil leaves it out.
func presentationDoc(holder any) map[string]any {
	p := map[string]any{
		"@context": []any{"https://www.w3.org/ns/credentials/v2"},
		"type":     []any{"VerifiablePresentation"},
	}
	if holder != nil {
		p["holder"] = holder
	}
	return p
}

var b64 = base64.RawURLEncoding

// rawToken signs header and payload text as they are, for tokens that
// the Sign functions would refuse to make.
func rawToken(tb testing.TB, header, payload string, s credential.Signer) string {
	tb.Helper()
	in := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload))
	sig, err := s.Sign([]byte(in))
	if err != nil {
		tb.Fatal(err)
	}
	return in + "." + b64.EncodeToString(sig)
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

// header is a JOSE header for a signer.
func header(alg, typ, kid string) string {
	return `{"alg":"` + alg + `","kid":"` + kid + `","typ":"` + typ + `"}`
}

// checkErr fails unless err carries code and, if want is set, wraps it.
func checkErr(tb testing.TB, err error, code credential.Code, want error) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("no error, want %s", code)
	}
	if got := credential.CodeOf(err, ""); got != code {
		tb.Fatalf("code %s, want %s (%v)", got, code, err)
	}
	if want != nil && !errors.Is(err, want) {
		tb.Fatalf("error %v does not wrap %v", err, want)
	}
}

var _ = jose.MediaTypeVC
