package keys

import (
	"bytes"
	"crypto/ed25519"
	"crypto/fips140"
	"crypto/sha512"
	"sync/atomic"

	"filippo.io/edwards25519"
)

// verifyEd25519 reports whether sig is a valid signature of msg by the
// Ed25519 public key pub (32 bytes), with exactly crypto/ed25519.Verify's
// rule (RFC 8032 PureEdDSA, cofactorless: s < L, R compared as encoded,
// any encoding of a point on the curve as the key, as SetBytes takes
// it). A verifier sees the same issuer keys over and over, so the
// decoded key (negated, as the check uses it) is remembered per key,
// which saves its decompression, about 2.6 µs of a 40 µs check; and a
// key checked combEvery times gets a table of its multiples
// (ed25519comb.go), with which the check costs about half
// (BenchmarkVerifyEd25519). It is not the FIPS 140 module's
// implementation: under GODEBUG=fips140=on or only it calls
// crypto/ed25519.Verify.
func verifyEd25519(pub string, msg, sig []byte) bool {
	if len(sig) != ed25519.SignatureSize || len(pub) != ed25519.PublicKeySize {
		return false
	}
	if fips140.Enabled() {
		return ed25519.Verify(ed25519.PublicKey(pub), msg, sig)
	}
	key, ok := ed25519Points.get(pub)
	if !ok {
		a, err := new(edwards25519.Point).SetBytes([]byte(pub))
		if err != nil {
			return false // not a point: crypto/ed25519 refuses the key
		}
		key = &ed25519Key{minusA: new(edwards25519.Point).Negate(a)}
		ed25519Points.put(pub, key)
	}
	if sig[63]&224 != 0 {
		return false
	}
	h := sha512.New()
	h.Write(sig[:32])
	h.Write([]byte(pub))
	h.Write(msg)
	var digest [sha512.Size]byte
	k, err := new(edwards25519.Scalar).SetUniformBytes(h.Sum(digest[:0]))
	if err != nil {
		return false // unreachable: a SHA-512 digest is 64 bytes
	}
	s, err := new(edwards25519.Scalar).SetCanonicalBytes(sig[32:])
	if err != nil {
		return false
	}
	// [s]B = R + [k]A, checked as R = [k](-A) + [s]B.
	if t := key.table(pub); t != nil {
		var kb, sb [32]byte
		copy(kb[:], k.Bytes())
		copy(sb[:], s.Bytes())
		r := combDoubleMult(&kb, t, &sb)
		return bytes.Equal(sig[:32], r[:])
	}
	r := new(edwards25519.Point).VarTimeDoubleScalarBaseMult(k, key.minusA, s)
	return bytes.Equal(sig[:32], r.Bytes())
}

// ed25519Key is a remembered key: its point negated, and how often it
// was checked.
type ed25519Key struct {
	minusA *edwards25519.Point
	uses   atomic.Uint64
}

// combEvery is how many checks with a key without a table make one
// build it: a table costs about 100 µs to build and 30 KiB to keep, and
// saves about 20 µs a check.
var combEvery uint64 = 16

// table returns the key's table of multiples, building it on every
// combEvery-th check while it has none (again after ed25519Tables
// forgot it); nil while it has none.
func (k *ed25519Key) table(pub string) *combTable {
	if t, ok := ed25519Tables.get(pub); ok {
		return t
	}
	if k.uses.Add(1)%combEvery != 0 {
		return nil
	}
	t := newCombTable(k.minusA)
	ed25519Tables.put(pub, t)
	return t
}

// ed25519Points remembers decoded Ed25519 keys for verifyEd25519: 4,096
// keys of 32 bytes, each with a point of 160 bytes, about 1.5 MiB with
// the map's own overhead. Decoding is a pure function of the key's bytes
// and only valid points are kept, so the cache never changes an answer;
// a peer that sends many keys only makes others be decoded again.
var ed25519Points = &fifo[string, *ed25519Key]{max: 4096}

// ed25519Tables keeps the tables of the 64 keys that most recently got
// one (30 KiB each, about 2 MiB). A table is a pure function of its key,
// so it never changes an answer either; a peer that sends many keys,
// each combEvery times, makes one table a combEvery checks, a few more
// microseconds each.
var ed25519Tables = &fifo[string, *combTable]{max: 64}
