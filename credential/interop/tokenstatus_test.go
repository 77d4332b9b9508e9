package interop_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential/tokenstatus"
)

// tokenCase is one token list: its length and its entries other than 0.
type tokenCase struct {
	name   string
	length int
	set    [][2]int // [index, value], sorted by index
}

// tokenCases are lists of 131,072 and 1,048,576 2-bit entries with 0.1%
// and 5% of them revoked (1) or suspended (2), drawn with a fixed seed,
// plus the edge indexes 0, 3, 4 and the last.
func tokenCases() []tokenCase {
	rng := rand.New(rand.NewPCG(2026, 14))
	var out []tokenCase
	for _, length := range []int{tokenstatus.MinLength, 1 << 20} {
		for _, perMill := range []int{1, 50} {
			set := map[int]int{0: 1, 3: 2, 4: 1, length - 1: 2}
			for n := length * perMill / 1000; len(set) < n; {
				set[rng.IntN(length)] = 1 + rng.IntN(2)
			}
			var pairs [][2]int
			for i, v := range set {
				pairs = append(pairs, [2]int{i, v})
			}
			slices.SortFunc(pairs, func(a, b [2]int) int { return a[0] - b[0] })
			out = append(out, tokenCase{name: fmt.Sprintf("%d/%d‰", length, perMill), length: length, set: pairs})
		}
	}
	return out
}

type tokenRead struct {
	Verified bool
	Error    string
	Sub      string
	Bits     int
	Length   int
	Set      [][2]int
}

// TestTokenStatusIdmeshToNPM: Status List Tokens idmesh signs verify in
// node (EdDSA over the JWS signing input, typ statuslist+jwt) and
// @sd-jwt/jwt-status-list reads the same entries from them; a token
// whose payload was changed is refused.
func TestTokenStatusIdmeshToNPM(t *testing.T) {
	requireInterop(t)
	k := MustKey(t, "token-status-issuer")
	signer := k.signer()
	for _, c := range tokenCases() {
		t.Run(c.name, func(t *testing.T) {
			l, err := tokenstatus.New(c.length, tokenstatus.Bits)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range c.set {
				if err := l.Set(p[0], uint8(p[1])); err != nil {
					t.Fatal(err)
				}
			}
			uri := "https://node.example/status-lists/x-1/token"
			tok := tokenstatus.Token{Subject: uri, Issuer: k.did, IssuedAt: time.Unix(1_780_000_000, 0), List: l}
			jwt, err := tok.Sign(signer, "")
			if err != nil {
				t.Fatal(err)
			}
			var got tokenRead
			if err := json.Unmarshal(MustNode(t, "tokenstatus.mjs", MustJSON(t, map[string]any{"token": jwt, "publicJwk": k.priv.Public().JWK()}), "read"), &got); err != nil {
				t.Fatal(err)
			}
			if !got.Verified || got.Sub != uri || got.Bits != 2 || got.Length != c.length {
				t.Fatalf("npm read: %+v", got)
			}
			if !slices.Equal(got.Set, c.set) {
				t.Fatalf("npm read %d non-zero entries, want %d", len(got.Set), len(c.set))
			}
			parts := strings.Split(jwt, ".")
			payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
			payload = []byte(strings.Replace(string(payload), `"iat":1780000000`, `"iat":1780000001`, 1))
			forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]
			var bad tokenRead
			if err := json.Unmarshal(MustNode(t, "tokenstatus.mjs", MustJSON(t, map[string]any{"token": forged, "publicJwk": k.priv.Public().JWK()}), "read"), &bad); err != nil {
				t.Fatal(err)
			}
			if bad.Verified {
				t.Fatal("npm verified a token whose payload was changed")
			}
		})
	}
}

// TestTokenStatusNPMToIdmesh: lists @sd-jwt/jwt-status-list compresses
// decode in idmesh to the same entries.
func TestTokenStatusNPMToIdmesh(t *testing.T) {
	requireInterop(t)
	cases := tokenCases()
	in := make([]map[string]any, len(cases))
	for i, c := range cases {
		in[i] = map[string]any{"length": c.length, "bits": 2, "set": c.set}
	}
	var out []struct{ Lst string }
	if err := json.Unmarshal(MustNode(t, "tokenstatus.mjs", MustJSON(t, in), "create"), &out); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		l, err := tokenstatus.Decode(out[i].Lst, 2, 0)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if l.Len() != c.length {
			t.Fatalf("%s: %d entries", c.name, l.Len())
		}
		var set [][2]int
		for j := range l.Len() {
			if v, _ := l.Get(j); v != 0 {
				set = append(set, [2]int{j, int(v)})
			}
		}
		if !slices.Equal(set, c.set) {
			t.Fatalf("%s: %d non-zero entries, want %d", c.name, len(set), len(c.set))
		}
	}
}
