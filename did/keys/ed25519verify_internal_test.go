package keys

import (
	"bytes"
	"crypto/ed25519"
	"crypto/fips140"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sync"
	"testing"

	"filippo.io/edwards25519"

	"github.com/idmesh/idmesh/did/internal/fifo"
)

// ed25519Order is L, the order of edwards25519's prime subgroup, little
// endian: a signature with s = s' + L is s' written non-canonically.
var ed25519Order = [32]byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}

// sameAsStd checks verifyEd25519 against crypto/ed25519.Verify, three
// times: the second call meets the key's remembered point, the third its
// table of multiples (ed25519comb.go).
func sameAsStd(tb testing.TB, pub, msg, sig []byte) bool {
	tb.Helper()
	want := ed25519.Verify(pub, msg, sig)
	for i := range 3 {
		if k, ok := ed25519Points.Get(string(pub)); i == 2 && ok && k.tab.Load() == nil {
			k.tab.Store(newCombTable(k.minusA))
		}
		if got := verifyEd25519(string(pub), msg, sig); got != want {
			tb.Fatalf("call %d: verifyEd25519(%x, %x, %x) = %v, crypto/ed25519 says %v", i, pub, msg, sig, got, want)
		}
	}
	return want
}

// TestVerifyEd25519SmallOrder: the 196 small-order cases of ZIP 215
// (every pair of the 14 encodings of small-order points, canonical and
// not, as key and R, with s = 0) get crypto/ed25519's answers, which the
// file records (12 of 196 accepted).
func TestVerifyEd25519SmallOrder(t *testing.T) {
	raw, err := os.ReadFile("../zip215/testdata/small_order.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Message string
		Cases   []struct {
			PublicKey, Signature string
			CryptoEd25519        bool
		}
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	msg, _ := hex.DecodeString(v.Message)
	if len(v.Cases) != 196 {
		t.Fatalf("%d cases, want 196", len(v.Cases))
	}
	accepted := 0
	for _, c := range v.Cases {
		pub, _ := hex.DecodeString(c.PublicKey)
		sig, _ := hex.DecodeString(c.Signature)
		if got := sameAsStd(t, pub, msg, sig); got != c.CryptoEd25519 {
			t.Fatalf("key %s sig %s: %v, the file says crypto/ed25519 answers %v", c.PublicKey, c.Signature, got, c.CryptoEd25519)
		}
		if c.CryptoEd25519 {
			accepted++
		}
	}
	if accepted != 12 {
		t.Fatalf("%d accepted, want 12", accepted)
	}
}

// TestVerifyEd25519Edges: valid signatures and every way of spoiling
// one that crypto/ed25519 has a rule for.
func TestVerifyEd25519Edges(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, ed25519.SeedSize)
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	msg := []byte("idmesh")
	sig := ed25519.Sign(priv, msg)
	change := func(f func(s []byte)) []byte {
		s := bytes.Clone(sig)
		f(s)
		return s
	}
	nonCanonicalS := change(func(s []byte) {
		var carry uint16
		for i := range 32 {
			v := uint16(s[32+i]) + uint16(ed25519Order[i]) + carry
			s[32+i], carry = byte(v), v>>8
		}
	})
	// The key's y written as y + p where that fits in 255 bits: only for
	// y < 19, so take the point with y = 1 (the identity) and y = 2^255-20
	// (the point with y = -1, of order 2).
	identity := edwards25519.NewIdentityPoint().Bytes()
	identityPlusP := bytes.Clone(identity)
	identityPlusP[0] += 0xed // 1 + (2^255 - 19): low byte 0x01 + 0xed
	for i := 1; i < 31; i++ {
		identityPlusP[i] = 0xff
	}
	identityPlusP[31] = 0x7f
	notAPoint := bytes.Repeat([]byte{0}, 32)
	notAPoint[0] = 2 // y = 2 gives no x on the curve
	for _, c := range []struct {
		name     string
		pub, sig []byte
		msg      []byte
		want     bool
	}{
		{"valid", pub, sig, msg, true},
		{"other message", pub, sig, []byte("idmesh!"), false},
		{"R changed", pub, change(func(s []byte) { s[0] ^= 1 }), msg, false},
		{"s changed", pub, change(func(s []byte) { s[40] ^= 1 }), msg, false},
		{"s + L", pub, nonCanonicalS, msg, false},
		{"top bits of s", pub, change(func(s []byte) { s[63] |= 0x20 }), msg, false},
		{"short", pub, sig[:63], msg, false},
		{"long", pub, append(bytes.Clone(sig), 0), msg, false},
		{"empty", pub, nil, msg, false},
		{"other key", ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32)).Public().(ed25519.PublicKey), sig, msg, false},
		{"key not a point", notAPoint, sig, msg, false},
		{"identity key", identity, sig, msg, false},
		{"identity key written with y + p", identityPlusP, sig, msg, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := sameAsStd(t, c.pub, c.msg, c.sig); got != c.want {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
	// A short key is refused, where crypto/ed25519 would panic.
	if verifyEd25519(string(pub[:31]), msg, sig) {
		t.Fatal("a 31-byte key verified")
	}
}

// TestVerifyEd25519NonCanonicalKeyAccepted: a signature by a key whose
// encoding is not canonical (small y written as y + p) verifies exactly
// when crypto/ed25519 says so; the identity signs s = 0, R = identity.
func TestVerifyEd25519NonCanonicalKeyAccepted(t *testing.T) {
	identity := edwards25519.NewIdentityPoint().Bytes()
	nonCanonical := bytes.Clone(identity)
	nonCanonical[0] += 0xed
	for i := 1; i < 31; i++ {
		nonCanonical[i] = 0xff
	}
	nonCanonical[31] = 0x7f
	sig := append(bytes.Clone(identity), make([]byte, 32)...)
	for _, pub := range [][]byte{identity, nonCanonical} {
		if !sameAsStd(t, pub, []byte("any"), sig) {
			t.Fatalf("key %x: crypto/ed25519 refuses (R, s) = (identity, 0); the test's premise is wrong", pub)
		}
	}
}

// TestEd25519PointsBounded: the cache keeps at most its maximum, keeps
// only keys that are points, and answers the same once full.
func TestEd25519PointsBounded(t *testing.T) {
	if fips140.Enabled() {
		t.Skip("under GODEBUG=fips140 verification is crypto/ed25519's, without the cache")
	}
	freshKeyCaches(t, 8, &tableSet{max: 2, buildEvery: 1})
	msg := []byte("m")
	for i := range 40 {
		priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(i)}, 32))
		pub := priv.Public().(ed25519.PublicKey)
		sig := ed25519.Sign(priv, msg)
		for range combEvery {
			if !verifyEd25519(string(pub), msg, sig) {
				t.Fatalf("key %d: refused", i)
			}
		}
		sameAsStd(t, pub, msg, sig)
	}
	notAPoint := make([]byte, 32)
	notAPoint[0] = 2
	sameAsStd(t, notAPoint, msg, make([]byte, 64))
	n, _ := ed25519Points.Len()
	_, kept := ed25519Points.Get(string(notAPoint))
	if n != 8 || kept {
		t.Fatalf("%d keys kept (want 8), the non-point kept: %v", n, kept)
	}
	ed25519Tables.mu.Lock()
	n = len(ed25519Tables.ring)
	ed25519Tables.mu.Unlock()
	if n != 2 || ed25519Tables.builds.Load() != 40 {
		t.Fatalf("%d tables kept (want 2), %d built (want 40)", n, ed25519Tables.builds.Load())
	}
}

// TestVerifyEd25519Concurrent: one key's point shared by goroutines that
// verify with it (run with -race).
func TestVerifyEd25519Concurrent(t *testing.T) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	pub := string(priv.Public().(ed25519.PublicKey))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				msg := []byte{byte(g), byte(i)}
				sig := ed25519.Sign(priv, msg)
				if !verifyEd25519(pub, msg, sig) || verifyEd25519(pub, append(msg, 0), sig) {
					t.Errorf("goroutine %d, message %d: wrong answer", g, i)
				}
			}
		})
	}
	wg.Wait()
}

// FuzzVerifyEd25519: any key, message and signature get crypto/ed25519's
// answer. Seeds: a valid signature (mutations of it stay near the valid
// set) and the identity's.
func FuzzVerifyEd25519(f *testing.F) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, 32))
	msg := []byte("fuzz")
	f.Add([]byte(priv.Public().(ed25519.PublicKey)), msg, ed25519.Sign(priv, msg))
	id := edwards25519.NewIdentityPoint().Bytes()
	f.Add(id, msg, append(bytes.Clone(id), make([]byte, 32)...))
	f.Fuzz(func(t *testing.T, pub, msg, sig []byte) {
		if len(pub) != ed25519.PublicKeySize {
			if verifyEd25519(string(pub), msg, sig) {
				t.Fatal("a key of the wrong length verified")
			}
			return
		}
		sameAsStd(t, pub, msg, sig)
	})
}

// BenchmarkVerifyEd25519: crypto/ed25519.Verify, verifyEd25519 with its
// key's point remembered, and verifyEd25519 with its key's table of
// multiples, in the same run, for a 600-byte message (a vc+jwt signing
// input's size); 64 and 1,000 keys in turn with and without tables; and
// the table's building:
//
//	go test -run '^$' -bench VerifyEd25519 -count 3 ./did/keys/
func BenchmarkVerifyEd25519(b *testing.B) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))
	pub := priv.Public().(ed25519.PublicKey)
	msg := bytes.Repeat([]byte{'a'}, 600)
	sig := ed25519.Sign(priv, msg)
	b.Run("crypto-ed25519", func(b *testing.B) {
		for b.Loop() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("remembered-point", func(b *testing.B) {
		ts := &tableSet{max: 64, buildEvery: 64}
		ts.builds.Store(math.MaxUint64) // no build allowed
		freshKeyCaches(b, 4096, ts)
		for b.Loop() {
			if !verifyEd25519(string(pub), msg, sig) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("table", func(b *testing.B) {
		freshKeyCaches(b, 4096, &tableSet{max: 64, buildEvery: 64})
		for range combEvery {
			verifyEd25519(string(pub), msg, sig)
		}
		if k, ok := ed25519Points.Get(string(pub)); !ok || k.tab.Load() == nil {
			b.Fatal("no table")
		}
		for b.Loop() {
			if !verifyEd25519(string(pub), msg, sig) {
				b.Fatal("refused")
			}
		}
	})
	// Keys in turn, as a verifier sees many issuers (or an attacker sends
	// many keys): without tables, and with them (their build budget and
	// eviction at work).
	for _, n := range []int{64, 1000} {
		pubs, sigs := newKeys(n, 41, msg)
		for _, tables := range []bool{false, true} {
			b.Run(fmt.Sprintf("keys=%d/tables=%v", n, tables), func(b *testing.B) {
				ts := &tableSet{max: 64, buildEvery: 64}
				if !tables {
					ts.builds.Store(math.MaxUint64)
				}
				freshKeyCaches(b, 4096, ts)
				i := 0
				for b.Loop() {
					if !verifyEd25519(pubs[i%n], msg, sigs[i%n]) {
						b.Fatal("refused")
					}
					i++
				}
			})
		}
	}
	b.Run("build-table", func(b *testing.B) {
		a, _ := new(edwards25519.Point).SetBytes(pub)
		for b.Loop() {
			newCombTable(a)
		}
	})
}

// freshKeyCaches gives verifyEd25519 empty caches, ed25519Points of
// pointsMax keys and the table set ts, until tb ends.
func freshKeyCaches(tb testing.TB, pointsMax int, ts *tableSet) {
	tb.Helper()
	oldPoints, oldTables := ed25519Points, ed25519Tables
	ed25519Points, ed25519Tables = fifo.New[string, *ed25519Key](pointsMax), ts
	tb.Cleanup(func() { ed25519Points, ed25519Tables = oldPoints, oldTables })
}
