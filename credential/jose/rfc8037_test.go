package jose

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/did/keys"
)

// TestRFC8037 signs RFC 8037 appendix A.4 and gets its compact JWS byte
// for byte (Ed25519 is deterministic), both through jwx with the key as
// the package imports it and through signCompact (signers jwx cannot
// hold), and verifies it with the package's compact parser and jwx.
func TestRFC8037(t *testing.T) {
	raw, err := os.ReadFile("testdata/rfc/rfc8037-ed25519-jose.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Private map[string]string `json:"A.1_private_key_jwk"`
		Public  map[string]any    `json:"A.2_public_key_jwk"`
		Header  string            `json:"A.4_protected_header"`
		Payload string            `json:"A.4_payload"`
		Input   string            `json:"A.4_signing_input"`
		JWS     string            `json:"A.4_compact_jws"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	seed, err := b64.DecodeString(v.Private["d"])
	if err != nil {
		t.Fatal(err)
	}
	priv, err := keys.UnmarshalPrivateKey(append([]byte{1}, seed...))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := keys.ParseJWK(v.Public)
	if err != nil {
		t.Fatal(err)
	}
	if !priv.Public().Equal(pub) {
		t.Fatal("A.1 private key does not match A.2 public key")
	}

	got, err := signCompact([]byte(v.Header), []byte(v.Payload), credential.KeySigner{Key: priv})
	if err != nil {
		t.Fatal(err)
	}
	if got != v.JWS {
		t.Fatalf("signCompact =\n%s\nwant\n%s", got, v.JWS)
	}

	cryptoKey, err := cryptoPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	jk, err := jwk.Import(cryptoKey)
	if err != nil {
		t.Fatal(err)
	}
	byJWX, err := jws.Sign([]byte(v.Payload), jws.WithKey(jwa.EdDSA(), jk))
	if err != nil {
		t.Fatal(err)
	}
	if string(byJWX) != v.JWS {
		t.Fatalf("jws.Sign =\n%s\nwant\n%s", byJWX, v.JWS)
	}

	p, err := split(v.JWS)
	if err != nil {
		t.Fatal(err)
	}
	if p.signingInput != v.Input || p.header["alg"] != "EdDSA" {
		t.Fatalf("split = %q %v", p.signingInput, p.header)
	}
	payload, err := verifyJWX(v.JWS, AlgEdDSA, pub)
	if err != nil {
		t.Fatalf("A.4 signature does not verify: %v", err)
	}
	if string(payload) != v.Payload {
		t.Fatalf("payload %q, want %q", payload, v.Payload)
	}

	// Verify itself refuses it: it has no typ and no kid.
	if _, _, err := Verify(t.Context(), v.JWS, MediaTypeVC, &credential.StaticKeys{}, VerifyOptions{}); credential.CodeOf(err, "") != credential.MalformedValueError {
		t.Fatalf("Verify(A.4) = %v, want MALFORMED_VALUE_ERROR", err)
	}
}
