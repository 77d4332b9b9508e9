package keys

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"filippo.io/edwards25519"
)

// canonicalByBytes is the rule canonicalEd25519 replaces: the encoding
// is what Bytes gives back for the point SetBytes decoded.
func canonicalByBytes(b []byte) (decodes, canonical bool) {
	p, err := new(edwards25519.Point).SetBytes(b)
	if err != nil {
		return false, false
	}
	return true, bytes.Equal(p.Bytes(), b)
}

// edgeEncodings are the encodings near the rule's edges: every y from
// p - 3 to 2^255 - 1 and the small ys, each with both signs.
func edgeEncodings() [][]byte {
	var out [][]byte
	add := func(y [32]byte) {
		for _, sign := range []byte{0, 0x80} {
			e := y
			e[31] |= sign
			out = append(out, e[:])
		}
	}
	for lo := 0xea; lo <= 0xff; lo++ { // p-3 ... 2^255-1 share the upper bytes
		y := [32]byte(fieldP)
		y[0] = byte(lo)
		add(y)
	}
	for v := range 8 {
		add([32]byte{byte(v)})
	}
	return out
}

// TestCanonicalEd25519MatchesBytes: for every encoding SetBytes accepts
// (edge cases, real keys, random bytes), canonicalEd25519 answers as the
// Bytes round trip did.
func TestCanonicalEd25519MatchesBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := edgeEncodings()
	for range 20000 {
		b := make([]byte, 32)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		cases = append(cases, b)
		if rng.IntN(4) == 0 { // a real point, sometimes with its sign flipped
			s := edwards25519.NewScalar()
			var w [64]byte
			for i := range w {
				w[i] = byte(rng.Uint32())
			}
			s, _ = s.SetUniformBytes(w[:])
			e := new(edwards25519.Point).ScalarBaseMult(s).Bytes()
			if rng.IntN(2) == 0 {
				e[31] ^= 0x80
			}
			cases = append(cases, e)
		}
	}
	decoded, nonCanonical := 0, 0
	for _, b := range cases {
		ok, want := canonicalByBytes(b)
		if !ok {
			continue
		}
		decoded++
		if !want {
			nonCanonical++
		}
		if got := canonicalEd25519(b); got != want {
			t.Errorf("canonicalEd25519(%x) = %v, the Bytes round trip says %v", b, got, want)
		}
	}
	if decoded < 10000 || nonCanonical < 10 {
		t.Fatalf("the cases reach %d decoded encodings, %d non-canonical: too few", decoded, nonCanonical)
	}
}

func FuzzCanonicalEd25519(f *testing.F) {
	for _, e := range edgeEncodings() {
		f.Add(e)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) != 32 {
			return
		}
		if ok, want := canonicalByBytes(b); ok && canonicalEd25519(b) != want {
			t.Fatalf("canonicalEd25519(%x) = %v, the Bytes round trip says %v", b, !want, want)
		}
	})
}
