package jose

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/did/keys"
)

// TestRFC8037 signs RFC 8037 appendix A.4 and gets its compact JWS byte
// for byte (Ed25519 is deterministic), and verifies it with the
// package's compact parser (jwx_test.go checks it with jwx too).
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

	p, err := split(v.JWS)
	if err != nil {
		t.Fatal(err)
	}
	if p.signingInput != v.Input || string(p.payload) != v.Payload || p.header["alg"] != "EdDSA" {
		t.Fatalf("split = %q %q %v", p.signingInput, p.payload, p.header)
	}
	if !pub.Verify([]byte(p.signingInput), p.sig) {
		t.Fatal("A.4 signature does not verify")
	}

	// Verify itself refuses it: it has no typ and no kid.
	if _, _, err := Verify(t.Context(), v.JWS, MediaTypeVC, &credential.StaticKeys{}, VerifyOptions{}); credential.CodeOf(err, "") != credential.MalformedValueError {
		t.Fatalf("Verify(A.4) = %v, want MALFORMED_VALUE_ERROR", err)
	}
}
