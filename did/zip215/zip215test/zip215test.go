// Package zip215test makes signatures that only the ZIP-215 rule accepts,
// for tests that show a component uses it: crypto/ed25519 (cofactorless)
// rejects them, zip215.Verify (cofactored) accepts them.
package zip215test

import (
	"crypto/sha512"

	"filippo.io/edwards25519"
)

// order8 is the canonical encoding of a point of order 8.
var order8 = []byte{
	0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
	0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05,
}

// Key is an Ed25519 key A = [a]B + T whose public key has a component T of
// order 8. It is not small-order itself, so key parsers that refuse only
// small-order points accept it.
type Key struct {
	a   *edwards25519.Scalar
	pub []byte
}

// NewKey derives a Key from seed.
func NewKey(seed byte) *Key {
	var b [64]byte
	b[0], b[1] = seed, 0xa5
	a, err := new(edwards25519.Scalar).SetUniformBytes(b[:])
	if err != nil {
		panic(err) // unreachable: 64 bytes
	}
	T, err := new(edwards25519.Point).SetBytes(order8)
	if err != nil {
		panic(err) // unreachable: a constant point
	}
	A := new(edwards25519.Point).ScalarBaseMult(a)
	return &Key{a: a, pub: A.Add(A, T).Bytes()}
}

// Public returns the 32-byte public key.
func (k *Key) Public() []byte { return append([]byte(nil), k.pub...) }

// Sign returns a signature of msg that satisfies the cofactored equation
// but not the cofactorless one: the nonce is chosen so that [h]T is not
// the identity.
func (k *Key) Sign(msg []byte) []byte {
	var b [64]byte
	d := sha512.Sum512(append(append([]byte("zip215test nonce"), k.pub...), msg...))
	copy(b[:], d[:])
	for n := 0; ; n++ {
		b[63] = byte(n)
		r, err := new(edwards25519.Scalar).SetUniformBytes(b[:])
		if err != nil {
			panic(err)
		}
		R := new(edwards25519.Point).ScalarBaseMult(r).Bytes()
		h := sha512.New()
		h.Write(R)
		h.Write(k.pub)
		h.Write(msg)
		kk, err := new(edwards25519.Scalar).SetUniformBytes(h.Sum(nil))
		if err != nil {
			panic(err)
		}
		if kk.Bytes()[0]%8 == 0 {
			continue // [k]T is the identity: the cofactorless check would pass too
		}
		S := new(edwards25519.Scalar).MultiplyAdd(kk, k.a, r)
		return append(R, S.Bytes()...)
	}
}
