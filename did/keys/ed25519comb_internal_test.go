package keys

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"math/big"
	"math/rand/v2"
	"testing"

	"filippo.io/edwards25519"
)

// TestD2: 2·d is the curve constant RFC 8032 gives d as (section 5.1),
// doubled.
func TestD2(t *testing.T) {
	d, _ := new(big.Int).SetString("37095705934669439343138083508754565189542113879843219016388785533085940283555", 10)
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	want := new(big.Int).Mod(new(big.Int).Lsh(d, 1), p)
	got := new(big.Int).SetBytes(reverse(d2.Bytes()))
	if got.Cmp(want) != 0 {
		t.Fatalf("2d = %v, want %v", got, want)
	}
}

func reverse(b []byte) []byte {
	out := make([]byte, len(b))
	for i, v := range b {
		out[len(b)-1-i] = v
	}
	return out
}

// TestSignedRadix16: the digits add up to the scalar and stay in range,
// for the scalars at the edges and random ones.
func TestSignedRadix16(t *testing.T) {
	rng := rand.New(rand.NewChaCha8([32]byte{16}))
	var cases [][32]byte
	for _, hexs := range []string{"00", "01", "08", "0f", "f8", "ff", "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010", "ecd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"} {
		var b [32]byte
		raw, _ := hex.DecodeString(hexs)
		copy(b[:], raw)
		cases = append(cases, b)
	}
	for range 1000 {
		var b [32]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		b[31] &= 0x7f
		cases = append(cases, b)
	}
	for _, b := range cases {
		e := signedRadix16(&b)
		sum := new(big.Int)
		for i := 63; i >= 0; i-- {
			if i < 63 && (e[i] < -8 || e[i] > 7) || i == 63 && (e[i] < 0 || e[i] > 8) {
				t.Fatalf("%x: digit %d is %d", b, i, e[i])
			}
			sum.Lsh(sum, 4)
			sum.Add(sum, big.NewInt(int64(e[i])))
		}
		if want := new(big.Int).SetBytes(reverse(b[:])); sum.Cmp(want) != 0 {
			t.Fatalf("%x: digits add up to %v, want %v", b, sum, want)
		}
	}
}

// smallOrderPoints returns the 8 points of order dividing 8.
func smallOrderPoints(t *testing.T) []*edwards25519.Point {
	t.Helper()
	var out []*edwards25519.Point
	seen := map[string]bool{}
	for _, h := range []string{
		"0100000000000000000000000000000000000000000000000000000000000000",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0000000000000000000000000000000000000000000000000000000000000080",
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
	} {
		raw, _ := hex.DecodeString(h)
		p, err := new(edwards25519.Point).SetBytes(raw)
		if err != nil {
			t.Fatalf("%s: %v", h, err)
		}
		if seen[string(p.Bytes())] {
			continue
		}
		seen[string(p.Bytes())] = true
		if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) != 1 {
			t.Fatalf("%s is not of small order", h)
		}
		out = append(out, p)
	}
	if len(out) != 8 {
		t.Fatalf("%d small-order points, want 8", len(out))
	}
	return out
}

// TestCombDoubleMult: [a]A + [b]B from the tables equals edwards25519's
// VarTimeDoubleScalarBaseMult for points of the prime-order group, the
// small-order points, and their sums (mixed order), with edge and random
// scalars.
func TestCombDoubleMult(t *testing.T) {
	rng := rand.New(rand.NewChaCha8([32]byte{17}))
	scalar := func() *edwards25519.Scalar {
		var wide [64]byte
		for i := range wide {
			wide[i] = byte(rng.Uint32())
		}
		s, _ := new(edwards25519.Scalar).SetUniformBytes(wide[:])
		return s
	}
	minusOne := new(edwards25519.Scalar).Negate(edwards25519.NewScalar().Add(edwards25519.NewScalar(), mustScalar(t, 1)))
	edges := []*edwards25519.Scalar{edwards25519.NewScalar(), mustScalar(t, 1), mustScalar(t, 8), mustScalar(t, 16), mustScalar(t, 255), new(edwards25519.Scalar).Add(mustScalar(t, 255), mustScalar(t, 1)), minusOne}
	var points []*edwards25519.Point
	for range 4 {
		points = append(points, new(edwards25519.Point).ScalarBaseMult(scalar()))
	}
	small := smallOrderPoints(t)
	points = append(points, small...)
	for _, s := range small {
		points = append(points, new(edwards25519.Point).Add(s, points[0]))
	}
	for pi, p := range points {
		table := newCombTable(p)
		var as, bs []*edwards25519.Scalar
		as = append(as, edges...)
		bs = append(bs, edges...)
		for range 8 {
			as = append(as, scalar())
			bs = append(bs, scalar())
		}
		for _, a := range as {
			for _, b := range bs {
				want := new(edwards25519.Point).VarTimeDoubleScalarBaseMult(a, p, b).Bytes()
				var ab, bb [32]byte
				copy(ab[:], a.Bytes())
				copy(bb[:], b.Bytes())
				if got := combDoubleMult(&ab, table, &bb); !bytes.Equal(got[:], want) {
					t.Fatalf("point %d (%x), a %x, b %x: got %x, want %x", pi, p.Bytes(), a.Bytes(), b.Bytes(), got, want)
				}
			}
		}
	}
}

func mustScalar(t *testing.T, v byte) *edwards25519.Scalar {
	t.Helper()
	var b [32]byte
	b[0] = v
	s, err := new(edwards25519.Scalar).SetCanonicalBytes(b[:])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestVerifyEd25519BuildsTable: a key gets its table on its combEvery-th
// check, and the answers stay crypto/ed25519's before and after.
func TestVerifyEd25519BuildsTable(t *testing.T) {
	freshKeyCaches(t, 4096, &tableSet{max: 64, buildEvery: 64})
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{11}, 32))
	pub := priv.Public().(ed25519.PublicKey)
	hasTable := func() bool {
		k, ok := ed25519Points.Get(string(pub))
		return ok && k.tab.Load() != nil
	}
	for i := range 2 * combEvery {
		msg := []byte{byte(i)}
		sig := ed25519.Sign(priv, msg)
		had := hasTable()
		if !verifyEd25519(string(pub), msg, sig) || verifyEd25519(string(pub), append(msg, 1), sig) {
			t.Fatalf("check %d: wrong answer (table before it: %v)", i, had)
		}
		// The two calls above count two checks each time round.
		if want := 2*(i+1) >= combEvery; hasTable() != want {
			t.Fatalf("after %d checks: table %v, want %v", 2*(i+1), hasTable(), want)
		}
	}
}

// newKeys returns n distinct keys with a signature of msg each.
func newKeys(n int, seed byte, msg []byte) (pubs []string, sigs [][]byte) {
	for i := range n {
		s := bytes.Repeat([]byte{seed}, 32)
		s[0], s[1] = byte(i), byte(i>>8)
		priv := ed25519.NewKeyFromSeed(s)
		pubs = append(pubs, string(priv.Public().(ed25519.PublicKey)))
		sigs = append(sigs, ed25519.Sign(priv, msg))
	}
	return pubs, sigs
}

// TestTableBudget: keys each checked combEvery times (as an attacker
// sending many keys would) get at most one build per buildEvery checks,
// plus one.
func TestTableBudget(t *testing.T) {
	ts := &tableSet{max: 64, buildEvery: 64}
	freshKeyCaches(t, 4096, ts)
	msg := []byte("m")
	pubs, sigs := newKeys(300, 21, msg)
	for i, pub := range pubs {
		for range combEvery {
			if !verifyEd25519(pub, msg, sigs[i]) {
				t.Fatalf("key %d refused", i)
			}
		}
	}
	checks, builds := ts.checks.Load(), ts.builds.Load()
	if checks != 300*combEvery || builds > checks/ts.buildEvery+1 || builds == 0 {
		t.Fatalf("%d checks, %d builds: want at most %d", checks, builds, checks/ts.buildEvery+1)
	}
}

// TestTableClock: an issuer's key checked between others keeps its table
// while a flood of one-off keys takes and loses theirs; the set never
// holds more than its maximum.
func TestTableClock(t *testing.T) {
	ts := &tableSet{max: 4, buildEvery: 1}
	freshKeyCaches(t, 4096, ts)
	msg := []byte("m")
	issuer, issuerSigs := newKeys(1, 31, msg)
	flood, floodSigs := newKeys(200, 32, msg)
	check := func(pub string, sig []byte) {
		t.Helper()
		if !verifyEd25519(pub, msg, sig) {
			t.Fatal("refused")
		}
	}
	for range combEvery {
		check(issuer[0], issuerSigs[0])
	}
	k, _ := ed25519Points.Get(issuer[0])
	first := k.tab.Load()
	if first == nil {
		t.Fatal("the issuer's key has no table")
	}
	for i, pub := range flood {
		for range combEvery {
			check(pub, floodSigs[i])
		}
		check(issuer[0], issuerSigs[0])
		if k.tab.Load() != first {
			t.Fatalf("after %d flood keys the issuer's key lost its table", i+1)
		}
		ts.mu.Lock()
		n := len(ts.ring)
		ts.mu.Unlock()
		if n > 4 {
			t.Fatalf("%d tables held, at most 4", n)
		}
	}
	if ts.builds.Load() < 100 {
		t.Fatalf("%d builds: the flood did not take tables", ts.builds.Load())
	}
}
