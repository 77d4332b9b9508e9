package jose

import (
	"math/rand/v2"
	"testing"
)

// TestCheckBase64MatchesDecoder holds checkBase64 to the strict
// unpadded base64url decoder on every string of up to three characters
// and on random longer ones.
func TestCheckBase64MatchesDecoder(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	check := func(s string) {
		_, err := b64.DecodeString(s)
		if got := checkBase64(s); (got == nil) != (err == nil) {
			t.Fatalf("checkBase64(%q) = %v, decoder says %v", s, got, err)
		}
	}
	var rec func(prefix string, n int)
	rec = func(prefix string, n int) {
		check(prefix)
		if n == 0 {
			return
		}
		for i := range len(alphabet) {
			rec(prefix+alphabet[i:i+1], n-1)
		}
	}
	rec("", 3)
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		b := make([]byte, 4+r.IntN(40))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		check(string(b))
	}
}
