package zip215_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"filippo.io/edwards25519"

	"github.com/idmesh/idmesh/did/zip215"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seeded is a deterministic source of batch coefficients.
type seeded struct{ r *rand.ChaCha8 }

func newSeeded(seed byte) *seeded { return &seeded{r: rand.NewChaCha8([32]byte{seed})} }

func (s *seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("no randomness") }

// key returns a deterministic Ed25519 key.
func key(i int) ed25519.PrivateKey {
	var seed [32]byte
	seed[0], seed[1] = byte(i), byte(i>>8)
	return ed25519.NewKeyFromSeed(seed[:])
}

type sigCase struct{ pub, msg, sig []byte }

func honest(n int) []sigCase {
	cs := make([]sigCase, n)
	for i := range cs {
		k := key(i)
		msg := []byte{byte(i), byte(i >> 8), 'm'}
		cs[i] = sigCase{pub: k.Public().(ed25519.PublicKey), msg: msg, sig: ed25519.Sign(k, msg)}
	}
	return cs
}

func TestRFC8032(t *testing.T) {
	var v struct {
		Tests []struct {
			Name, PublicKey, Message, Signature string
		}
	}
	b, err := os.ReadFile("testdata/rfc8032-ed25519.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Tests) == 0 {
		t.Fatal("no vectors")
	}
	batch := zip215.Batch{Rand: newSeeded(1)}
	for _, tc := range v.Tests {
		pub, msg, sig := unhex(t, tc.PublicKey), unhex(t, tc.Message), unhex(t, tc.Signature)
		if !zip215.Verify(pub, msg, sig) {
			t.Errorf("%s: rejected", tc.Name)
		}
		if zip215.Verify(pub, append(msg, 0), sig) {
			t.Errorf("%s: accepted for another message", tc.Name)
		}
		batch.Add(pub, msg, sig)
	}
	if !batch.Verify() {
		t.Error("batch of the RFC 8032 vectors rejected")
	}
}

type smallOrder struct {
	Message   string
	Encodings []string
	Cases     []struct {
		PublicKey     string
		Signature     string
		CryptoEd25519 bool
	}
}

func loadSmallOrder(t *testing.T) smallOrder {
	t.Helper()
	b, err := os.ReadFile("testdata/small_order.json")
	if err != nil {
		t.Fatal(err)
	}
	var v smallOrder
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSmallOrderEncodings checks the facts the vectors rest on: 14
// distinct encodings, each of a point P with [8]P the identity, the first
// 8 canonical and distinct points, the last 6 non-canonical; and the
// cases are exactly every (A, R) pair with S = 0.
func TestSmallOrderEncodings(t *testing.T) {
	v := loadSmallOrder(t)
	if len(v.Encodings) != 14 {
		t.Fatalf("%d encodings, want 14", len(v.Encodings))
	}
	id := edwards25519.NewIdentityPoint()
	var points []*edwards25519.Point
	for i, e := range v.Encodings {
		p, err := new(edwards25519.Point).SetBytes(unhex(t, e))
		if err != nil {
			t.Fatalf("encoding %d does not decode: %v", i, err)
		}
		if new(edwards25519.Point).MultByCofactor(p).Equal(id) != 1 {
			t.Errorf("encoding %d is not of small order", i)
		}
		canonical := hex.EncodeToString(p.Bytes()) == e
		if canonical != (i < 8) {
			t.Errorf("encoding %d: canonical %v", i, canonical)
		}
		if i < 8 {
			for j, q := range points {
				if p.Equal(q) == 1 {
					t.Errorf("encodings %d and %d are the same point", i, j)
				}
			}
			points = append(points, p)
		}
	}
	if len(v.Cases) != 196 {
		t.Fatalf("%d cases, want 196", len(v.Cases))
	}
	zero := hex.EncodeToString(make([]byte, 32))
	for i, c := range v.Cases {
		if c.PublicKey != v.Encodings[i/14] || c.Signature != v.Encodings[i%14]+zero {
			t.Fatalf("case %d is not (A, R) = (%d, %d) with S = 0", i, i/14, i%14)
		}
	}
}

// TestSmallOrderVectors: single, batch of one, one batch of all 196 and
// VerifyEach accept exactly the same set, which is every case; Go's
// crypto/ed25519 accepts only the recorded 12.
func TestSmallOrderVectors(t *testing.T) {
	v := loadSmallOrder(t)
	msg := unhex(t, v.Message)
	all := zip215.Batch{Rand: newSeeded(2)}
	legacy := 0
	for i, c := range v.Cases {
		pub, sig := unhex(t, c.PublicKey), unhex(t, c.Signature)
		single := zip215.Verify(pub, msg, sig)
		one := zip215.Batch{Rand: newSeeded(byte(i))}
		one.Add(pub, msg, sig)
		if !single || !one.Verify() || !one.VerifyEach()[0] {
			t.Errorf("case %d (%s, %s): single %v, batch of one %v", i, c.PublicKey, c.Signature[:64], single, one.Verify())
		}
		if got := ed25519.Verify(pub, msg, sig); got != c.CryptoEd25519 {
			t.Errorf("case %d: crypto/ed25519 says %v, recorded %v", i, got, c.CryptoEd25519)
		}
		if c.CryptoEd25519 {
			legacy++
		}
		all.Add(pub, msg, sig)
		checkWithKey(t, pub, msg, sig, true)
		checkParsed(t, pub, msg, sig, true)
	}
	if !all.Verify() {
		t.Error("the batch of all 196 cases is rejected")
	}
	for i, ok := range all.VerifyEach() {
		if !ok {
			t.Errorf("VerifyEach rejects case %d", i)
		}
	}
	if legacy != 12 {
		t.Errorf("crypto/ed25519 accepts %d cases; the record says 12", legacy)
	}
}

// checkWithKey checks that VerifyKey and Batch.AddKey, given pub parsed
// by ParseKey, answer want as Verify does, from several goroutines at
// once (a Key is shared read-only; -race watches), and leave the key as
// it was. A pub that does not parse has no Key.
func checkWithKey(t *testing.T, pub, msg, sig []byte, want bool) {
	t.Helper()
	k, err := zip215.ParseKey(pub)
	if err != nil {
		if _, err2 := new(edwards25519.Point).SetBytes(pub); err2 == nil && len(pub) == zip215.PublicKeySize {
			t.Fatalf("ParseKey refuses %x, which decodes: %v", pub, err)
		}
		return
	}
	before, enc := k.Point(), k.Bytes()
	if !bytes.Equal(enc, pub) {
		t.Fatalf("the Key's encoding %x is not %x", enc, pub)
	}
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Go(func() {
			if got := zip215.VerifyKey(k, msg, sig); got != want {
				t.Errorf("VerifyKey = %v, want %v", got, want)
			}
			b := zip215.Batch{Rand: newSeeded(byte(5 + g))}
			for _, h := range honest(2) {
				b.AddKey(must(zip215.ParseKey(h.pub)), h.msg, h.sig)
			}
			b.AddKey(k, msg, sig)
			if got, each := b.Verify(), b.VerifyEach(); got != want || !each[0] || !each[1] || each[2] != want {
				t.Errorf("a batch by AddKey: Verify %v, VerifyEach %v; want %v", got, each, want)
			}
		})
	}
	wg.Wait()
	if p := k.Point(); p.Equal(&before) != 1 || !bytes.Equal(k.Bytes(), pub) {
		t.Error("the Key was modified")
	}
}

// checkParsed checks that ParseSignature refuses exactly what
// SignatureDecodes does, and that a batch given sig parsed (AddParsed,
// by the key's bytes and by its Key) answers want as Verify does, from
// several goroutines at once (a Signature is shared read-only; -race
// watches).
func checkParsed(t *testing.T, pub, msg, sig []byte, want bool) {
	t.Helper()
	s, err := zip215.ParseSignature(sig)
	if (err == nil) != zip215.SignatureDecodes(sig) {
		t.Fatalf("ParseSignature error %v, SignatureDecodes %v", err, zip215.SignatureDecodes(sig))
	}
	if err != nil {
		if want {
			t.Fatal("ParseSignature refuses a signature Verify accepts")
		}
		return
	}
	k, _ := zip215.ParseKey(pub)
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Go(func() {
			for _, key := range []*zip215.Key{nil, k} {
				b := zip215.Batch{Rand: newSeeded(byte(9 + g))}
				for _, h := range honest(2) {
					b.Add(h.pub, h.msg, h.sig)
				}
				byBytes := pub
				if key != nil {
					byBytes = nil // AddParsed does not read pub then
				}
				b.AddParsed(key, byBytes, msg, s)
				if got, each := b.Verify(), b.VerifyEach(); got != want || !each[0] || !each[1] || each[2] != want {
					t.Errorf("a batch by AddParsed (Key %v): Verify %v, VerifyEach %v; want %v", key != nil, got, each, want)
				}
			}
		})
	}
	wg.Wait()
	if !bytes.Equal(s.Bytes(), sig) {
		t.Error("the Signature was modified")
	}
}

// TestZeroSignature: a Signature not made by ParseSignature, or none,
// is an invalid signature in a batch, not a panic (review R19).
func TestZeroSignature(t *testing.T) {
	h := honest(2)
	for name, s := range map[string]*zip215.Signature{"nil": nil, "zero": new(zip215.Signature)} {
		b := zip215.Batch{Rand: newSeeded(1)}
		b.Add(h[0].pub, h[0].msg, h[0].sig)
		b.AddParsed(must(zip215.ParseKey(h[1].pub)), nil, h[1].msg, s)
		b.AddParsed(nil, h[1].pub, h[1].msg, s)
		if b.Verify() {
			t.Errorf("%s: a batch with it verifies", name)
		}
		if each := b.VerifyEach(); !each[0] || each[1] || each[2] {
			t.Errorf("%s: VerifyEach %v", name, each)
		}
	}
	if new(zip215.Signature).Bytes() != nil {
		t.Error("a zero Signature has an encoding")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// torsionKey returns a key A = [a]B + T with a small-order component T
// and a signature of msg by it, made honestly with a: the cofactorless
// equation fails for it unless [k]T happens to vanish, the cofactored
// one holds.
func torsionKey(t *testing.T, msg []byte) (pub, sig []byte) {
	t.Helper()
	var seed [64]byte
	seed[0] = 7
	a, _ := new(edwards25519.Scalar).SetUniformBytes(seed[:])
	T, err := new(edwards25519.Point).SetBytes(unhex(t, "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"))
	if err != nil {
		t.Fatal(err)
	}
	A := new(edwards25519.Point).ScalarBaseMult(a)
	A.Add(A, T)
	pub = A.Bytes()
	for n := byte(0); ; n++ {
		seed[1] = n
		r, _ := new(edwards25519.Scalar).SetUniformBytes(seed[:])
		R := new(edwards25519.Point).ScalarBaseMult(r).Bytes()
		k := hashK(R, pub, msg)
		// [k]T vanishes when k is a multiple of 8; pick a nonce where it does not.
		if k.Bytes()[0]%8 == 0 {
			continue
		}
		S := new(edwards25519.Scalar).MultiplyAdd(k, a, r)
		return pub, append(R, S.Bytes()...)
	}
}

func hashK(R, A, msg []byte) *edwards25519.Scalar {
	h := sha512Sum(R, A, msg)
	k, _ := new(edwards25519.Scalar).SetUniformBytes(h)
	return k
}

// The group order L, little-endian.
var orderL = []byte{
	0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
}

// addL returns s + L (little-endian; s + L fits in 256 bits for every
// canonical s).
func addL(s []byte) []byte {
	out := make([]byte, 32)
	var c uint16
	for i := range out {
		c += uint16(s[i]) + uint16(orderL[i])
		out[i] = byte(c)
		c >>= 8
	}
	return out
}

func TestRules(t *testing.T) {
	good := honest(1)[0]
	tpub, tsig := torsionKey(t, []byte("torsion"))
	flip := func(b []byte, i int) []byte { c := bytes.Clone(b); c[i] ^= 1; return c }
	// The same signature with S + L: the same scalar mod L, not canonical.
	sPlusL := append(bytes.Clone(good.sig[:32]), addL(good.sig[32:])...)
	// R and A as non-canonical encodings of other values break k, so
	// they are invalid; the small-order vectors cover accepted ones.
	offCurve := unhex(t, "0200000000000000000000000000000000000000000000000000000000000000")
	if _, err := new(edwards25519.Point).SetBytes(offCurve); err == nil {
		t.Fatal("the off-curve probe decodes")
	}
	tests := []struct {
		name          string
		pub, msg, sig []byte
		want          bool
	}{
		{"honest", good.pub, good.msg, good.sig, true},
		{"other message", good.pub, []byte("x"), good.sig, false},
		{"flipped R", good.pub, good.msg, flip(good.sig, 0), false},
		{"flipped S", good.pub, good.msg, flip(good.sig, 40), false},
		{"flipped A", flip(good.pub, 3), good.msg, good.sig, false},
		{"S + L (non-canonical S)", good.pub, good.msg, sPlusL, false},
		{"S = L", good.pub, good.msg, append(bytes.Clone(good.sig[:32]), orderL...), false},
		{"S all ones", good.pub, good.msg, append(bytes.Clone(good.sig[:32]), bytes.Repeat([]byte{0xff}, 32)...), false},
		{"A off the curve", offCurve, good.msg, good.sig, false},
		{"R off the curve", good.pub, good.msg, append(bytes.Clone(offCurve), good.sig[32:]...), false},
		{"short signature", good.pub, good.msg, good.sig[:63], false},
		{"long signature", good.pub, good.msg, append(bytes.Clone(good.sig), 0), false},
		{"short key", good.pub[:31], good.msg, good.sig, false},
		{"nil everything", nil, nil, nil, false},
		{"key with a small-order component (cofactored only)", tpub, []byte("torsion"), tsig, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := zip215.Verify(tc.pub, tc.msg, tc.sig); got != tc.want {
				t.Errorf("Verify = %v, want %v", got, tc.want)
			}
			b := zip215.Batch{Rand: newSeeded(3)}
			for _, h := range honest(3) {
				b.Add(h.pub, h.msg, h.sig)
			}
			b.Add(tc.pub, tc.msg, tc.sig)
			if got := b.Verify(); got != tc.want {
				t.Errorf("batch with others = %v, want %v", got, tc.want)
			}
			each := b.VerifyEach()
			if !each[0] || !each[1] || !each[2] || each[3] != tc.want {
				t.Errorf("VerifyEach = %v, want three true then %v", each, tc.want)
			}
			checkWithKey(t, tc.pub, tc.msg, tc.sig, tc.want)
			checkParsed(t, tc.pub, tc.msg, tc.sig, tc.want)
		})
	}
	if ed25519.Verify(tpub, []byte("torsion"), tsig) {
		t.Error("crypto/ed25519 accepts the torsion case: it no longer shows the cofactored difference")
	}
}

// TestBatchFindsBad: a batch larger than MaxBatch with bad signatures at
// chosen places; Verify fails and VerifyEach names exactly the bad ones.
func TestBatchFindsBad(t *testing.T) {
	n := zip215.MaxBatch*2 + 7
	cs := honest(n)
	bad := map[int]bool{0: true, 5: true, zip215.MaxBatch: true, n - 1: true}
	b := zip215.Batch{Rand: newSeeded(4)}
	for i, c := range cs {
		sig := c.sig
		if bad[i] {
			sig = bytes.Clone(sig)
			sig[10] ^= 0x80
		}
		b.Add(c.pub, c.msg, sig)
	}
	if b.Verify() {
		t.Fatal("a batch with bad signatures verifies")
	}
	for i, ok := range b.VerifyEach() {
		if ok == bad[i] {
			t.Errorf("signature %d: valid %v, bad %v", i, ok, bad[i])
		}
	}
	b.Reset()
	for _, c := range cs {
		b.Add(c.pub, c.msg, c.sig)
	}
	if !b.Verify() || b.Len() != n {
		t.Fatal("the honest batch fails after Reset")
	}
}

// TestBatchRandomness: a reader that fails makes the batch check each
// signature alone, with the same answers; the zero Batch uses crypto/rand.
func TestBatchRandomness(t *testing.T) {
	cs := honest(5)
	for _, r := range []struct {
		name string
		b    zip215.Batch
	}{{"failing reader", zip215.Batch{Rand: failing{}}}, {"crypto/rand", zip215.Batch{}}} {
		b := r.b
		for i, c := range cs {
			sig := c.sig
			if i == 2 {
				sig = bytes.Clone(sig)
				sig[0] ^= 1
			}
			b.Add(c.pub, c.msg, sig)
		}
		if b.Verify() {
			t.Errorf("%s: bad batch verifies", r.name)
		}
		want := []bool{true, true, false, true, true}
		for i, ok := range b.VerifyEach() {
			if ok != want[i] {
				t.Errorf("%s: VerifyEach[%d] = %v", r.name, i, ok)
			}
		}
	}
	var empty zip215.Batch
	if !empty.Verify() || len(empty.VerifyEach()) != 0 {
		t.Error("the empty batch is not valid")
	}
}

// TestAgreesWithCryptoEd25519 on honest signatures and one-bit changes of
// them: crypto/ed25519 accepts a subset of ZIP-215, and on these inputs
// (no small-order parts) both answer the same.
func TestAgreesWithCryptoEd25519(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i, c := range honest(64) {
		sig, pub, msg := bytes.Clone(c.sig), bytes.Clone(c.pub), bytes.Clone(c.msg)
		switch i % 4 {
		case 1:
			sig[rng.IntN(64)] ^= byte(1 << rng.IntN(8))
		case 2:
			pub[rng.IntN(32)] ^= byte(1 << rng.IntN(8))
		case 3:
			msg[rng.IntN(len(msg))] ^= byte(1 << rng.IntN(8))
		}
		if got, want := zip215.Verify(pub, msg, sig), ed25519.Verify(pub, msg, sig); got != want {
			t.Errorf("case %d: zip215 %v, crypto/ed25519 %v", i, got, want)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	c := honest(1)[0]
	b.Run("crypto/ed25519", func(b *testing.B) {
		for b.Loop() {
			ed25519.Verify(c.pub, c.msg, c.sig)
		}
	})
	b.Run("zip215", func(b *testing.B) {
		for b.Loop() {
			zip215.Verify(c.pub, c.msg, c.sig)
		}
	})
	for _, n := range []int{16, 64, 256, 1024} {
		cs := honest(n)
		b.Run("batch="+itoa(n), func(b *testing.B) {
			for b.Loop() {
				var bt zip215.Batch
				for _, c := range cs {
					bt.Add(c.pub, c.msg, c.sig)
				}
				if !bt.Verify() {
					b.Fatal("rejected")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n)/1000, "µs/sig")
		})
	}
	// The keys parsed already (AddKey), as when the node checked them
	// when it parsed them.
	cs := honest(64)
	ks := make([]*zip215.Key, len(cs))
	for i, c := range cs {
		ks[i] = must(zip215.ParseKey(c.pub))
	}
	b.Run("batch=64-keys-decoded", func(b *testing.B) {
		for b.Loop() {
			var bt zip215.Batch
			for i, c := range cs {
				bt.AddKey(ks[i], c.msg, c.sig)
			}
			if !bt.Verify() {
				b.Fatal("rejected")
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(cs))/1000, "µs/sig")
	})
}

func itoa(n int) string {
	b := []byte{}
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TestWeakKey: every small-order encoding (canonical or not) is weak, as
// are wrong lengths, non-points and a non-canonical encoding of a good
// key; real keys are not (security review R2: a validator with a
// small-order key could be impersonated by anyone).
func TestWeakKey(t *testing.T) {
	v := loadSmallOrder(t)
	for i, e := range v.Encodings {
		if !zip215.WeakKey(unhex(t, e)) {
			t.Errorf("small-order encoding %d is not weak", i)
		}
	}
	for _, pub := range [][]byte{nil, make([]byte, 31), make([]byte, 33)} {
		if !zip215.WeakKey(pub) {
			t.Errorf("a %d-byte key is not weak", len(pub))
		}
	}
	notPoint := bytes.Repeat([]byte{0xff}, 32) // y = 2^255-1 mod p with sign: not on the curve
	notPoint[0] = 0x02
	if _, err := new(edwards25519.Point).SetBytes(notPoint); err == nil {
		t.Fatal("the test's non-point decodes")
	}
	if !zip215.WeakKey(notPoint) {
		t.Error("a non-point is not weak")
	}
	for seed := range byte(16) {
		pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)).Public().(ed25519.PublicKey)
		if zip215.WeakKey(pub) {
			t.Errorf("key %x is weak", []byte(pub))
		}
	}
}
