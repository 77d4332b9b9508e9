package keys_test

import (
	"encoding/json"
	"testing"

	"github.com/idmesh/idmesh/did/keys"
)

func FuzzParseMultibase(f *testing.F) {
	for _, s := range []string{
		"", "z", "m", "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
		"zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv",
		"z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW",
		"z82Lm1MpAkeJcix9K8TMiLd5NMAhnwkjjCBeWHXyu3U4oT2MVJJKXkcVBgjGhnLBn2Kaau9",
		"z1111111111111111111111111111111111",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := keys.ParseMultibase(s)
		if err != nil {
			return
		}
		again, err := keys.ParseMultibase(k.Multibase())
		if err != nil || !again.Equal(k) {
			t.Fatalf("re-encoded %q: %v, %v", k.Multibase(), again, err)
		}
		j, err := keys.ParseJWK(k.JWK())
		if err != nil || !j.Equal(k) {
			t.Fatalf("jwk of %q: %v, %v", s, j, err)
		}
	})
}

func FuzzParseJWK(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`,
		`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}`,
		`{"kty":"EC","crv":"P-256","x":"igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns","y":"efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM"}`,
		`{"kty":"OKP","crv":"X25519","use":"enc","x":"3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08"}`,
		`{"kty":"EC","crv":"P-256","x":1,"y":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m map[string]any
		if json.Unmarshal(b, &m) != nil {
			return
		}
		k, err := keys.ParseJWK(m)
		if err != nil {
			return
		}
		again, err := keys.ParseJWK(k.JWK())
		if err != nil || !again.Equal(k) {
			t.Fatalf("re-encoded %v: %v, %v", k.JWK(), again, err)
		}
		mb, err := keys.ParseMultibase(k.Multibase())
		if err != nil || !mb.Equal(k) {
			t.Fatalf("multibase of %s: %v, %v", b, mb, err)
		}
	})
}
