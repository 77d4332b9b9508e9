package issuer_test

import (
	"encoding/json"
	"testing"

	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/issuer"
)

// FuzzParseHolderKey: any JSON object is either refused or a public
// Ed25519 or P-256 key whose JWK round-trips, never from a JWK with a
// private member.
func FuzzParseHolderKey(f *testing.F) {
	for _, s := range []string{`{}`, `{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`,
		`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"x"}`,
		`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","alg":"ES256"}`,
		`{"kty":"OKP","crv":"X25519","x":"CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk"}`,
		`{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","alg":7}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var jwk map[string]any
		if json.Unmarshal(b, &jwk) != nil {
			return
		}
		k, err := issuer.ParseHolderKey(jwk)
		if err != nil {
			return
		}
		if _, priv := jwk["d"]; priv || (k.Type() != keys.Ed25519 && k.Type() != keys.P256) {
			t.Fatalf("accepted %s as %s", b, k.Type())
		}
		again, err := keys.ParseJWK(k.JWK())
		if err != nil || !again.Equal(k) {
			t.Fatalf("round trip of %s: %v", b, err)
		}
	})
}
