package jose_test

import (
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
)

// TestCompactRoundTrip: SignCompact and ParseCompact for other typ
// values (SD-JWT's), with and without a kid, Ed25519 and P-256.
func TestCompactRoundTrip(t *testing.T) {
	f := MustFixture(t)
	for _, c := range []struct {
		name     string
		signer   credential.KeySigner
		kid, alg string
		header   string
	}{
		{"EdDSA with kid", f.ed, f.ed.ID, "", `{"alg":"EdDSA","kid":"did:example:issuer#key-1","typ":"dc+sd-jwt"}`},
		{"Ed25519 without kid", f.holder, "", "Ed25519", `{"alg":"Ed25519","typ":"dc+sd-jwt"}`},
		{"ES256", f.p256, "", "", `{"alg":"ES256","typ":"dc+sd-jwt"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			tok, err := jose.SignCompact([]byte(`{"a":1}`), "dc+sd-jwt", c.kid, c.signer, c.alg)
			if err != nil {
				t.Fatal(err)
			}
			if h := string(mustB64(t, strings.Split(tok, ".")[0])); h != c.header {
				t.Fatalf("header %s, want %s", h, c.header)
			}
			p, err := jose.ParseCompact(tok, "application/dc+sd-jwt", 0)
			if err != nil {
				t.Fatal(err)
			}
			m, err := p.Verify(c.signer.Public())
			if err != nil {
				t.Fatal(err)
			}
			if m["a"] == nil {
				t.Fatalf("payload %v", m)
			}
			if _, err := p.Verify(f.other.Public()); err == nil {
				t.Fatal("verified with another key")
			}
			if _, err := jose.ParseCompact(tok, "kb+jwt", 0); credential.CodeOf(err, "") != credential.MalformedValueError {
				t.Fatalf("typ kb+jwt accepted: %v", err)
			}
			if _, err := jose.ParseCompact(tok, "", len(tok)-1); credential.CodeOf(err, "") != credential.ParsingError {
				t.Fatalf("oversize accepted: %v", err)
			}
		})
	}
	if _, err := jose.SignCompact([]byte(`{"a":1,"a":2}`), "x", "", f.ed, ""); credential.CodeOf(err, "") != credential.MalformedValueError {
		t.Fatalf("duplicate members signed: %v", err)
	}
	if _, err := jose.SignCompact([]byte(`{}`), "x", "", f.ed, "ES256"); credential.CodeOf(err, "") != credential.ProofGenerationError {
		t.Fatalf("ES256 with an Ed25519 key: %v", err)
	}
	for _, h := range []string{`{"alg":"none","typ":"x"}`, `{"alg":"RS256","typ":"x"}`, `{"alg":"EdDSA","crit":["b64"],"typ":"x"}`, `{"alg":"EdDSA","b64":false,"typ":"x"}`, `{"typ":"x"}`} {
		tok := rawToken(t, h, `{}`, f.ed)
		if _, err := jose.ParseCompact(tok, "", 0); err == nil {
			t.Errorf("%s accepted", h)
		}
	}
}

func mustB64(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := b64.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
