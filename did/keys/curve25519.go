package keys

import (
	"crypto/ecdh"
	"fmt"
	"math/big"
)

// Field arithmetic for the few Curve25519/edwards25519 checks that the
// standard library does not expose. Public keys only: nothing here touches
// secrets, so math/big's variable timing is harmless.

var (
	// p = 2^255 - 19
	fieldP = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	// d = -121665/121666 mod p
	edwardsD = func() *big.Int {
		n := new(big.Int).Neg(big.NewInt(121665))
		inv := new(big.Int).ModInverse(big.NewInt(121666), fieldP)
		n.Mul(n, inv)
		return n.Mod(n, fieldP)
	}()
	one = big.NewInt(1)

	// lowOrderProbe is a fixed X25519 scalar. X25519 clamps scalars to
	// multiples of the cofactor 8, so multiplying a small-order point by it
	// gives the all-zero output, which crypto/ecdh reports as an error.
	lowOrderProbe = func() *ecdh.PrivateKey {
		b := make([]byte, 32)
		for i := range b {
			b[i] = byte(i + 1)
		}
		k, err := ecdh.X25519().NewPrivateKey(b)
		if err != nil {
			panic(err) // invariant: any 32 bytes are a valid X25519 scalar
		}
		return k
	}()
)

// leToInt decodes a little-endian field element.
func leToInt(b []byte) *big.Int {
	be := make([]byte, len(b))
	for i, c := range b {
		be[len(b)-1-i] = c
	}
	return new(big.Int).SetBytes(be)
}

// intToLE32 encodes a field element as 32 little-endian bytes.
func intToLE32(n *big.Int) []byte {
	be := n.FillBytes(make([]byte, 32))
	le := make([]byte, 32)
	for i, c := range be {
		le[31-i] = c
	}
	return le
}

// decodeEdwardsY checks that b (32 bytes) is the canonical encoding of a
// point on edwards25519 and returns its y coordinate.
func decodeEdwardsY(b []byte) (*big.Int, error) {
	c := make([]byte, 32)
	copy(c, b)
	sign := c[31] >> 7
	c[31] &= 0x7f
	y := leToInt(c)
	if y.Cmp(fieldP) >= 0 {
		return nil, fmt.Errorf("ed25519 key: %w: non-canonical y", ErrInvalidKey)
	}
	// x^2 = (y^2 - 1) / (d*y^2 + 1)
	y2 := new(big.Int).Mul(y, y)
	y2.Mod(y2, fieldP)
	u := new(big.Int).Sub(y2, one)
	u.Mod(u, fieldP)
	v := new(big.Int).Mul(edwardsD, y2)
	v.Add(v, one)
	v.Mod(v, fieldP)
	vInv := new(big.Int).ModInverse(v, fieldP)
	if vInv == nil {
		return nil, fmt.Errorf("ed25519 key: %w: not on curve", ErrInvalidKey)
	}
	x2 := u.Mul(u, vInv)
	x2.Mod(x2, fieldP)
	if x2.Sign() == 0 {
		if sign == 1 {
			return nil, fmt.Errorf("ed25519 key: %w: non-canonical sign of x = 0", ErrInvalidKey)
		}
		return y, nil
	}
	if new(big.Int).ModSqrt(x2, fieldP) == nil {
		return nil, fmt.Errorf("ed25519 key: %w: not on curve", ErrInvalidKey)
	}
	return y, nil
}

// checkEd25519 validates an Ed25519 public key: a canonical point on the
// curve that is not of small order (the identity included).
func checkEd25519(b []byte) error {
	y, err := decodeEdwardsY(b)
	if err != nil {
		return err
	}
	if y.Cmp(one) == 0 {
		return fmt.Errorf("ed25519 key: %w: identity point", ErrInvalidKey)
	}
	u := montgomeryU(y)
	if isLowOrderX25519(u) {
		return fmt.Errorf("ed25519 key: %w: small-order point", ErrInvalidKey)
	}
	return nil
}

// montgomeryU maps an Edwards y (y != 1) to the Montgomery u = (1+y)/(1-y).
func montgomeryU(y *big.Int) []byte {
	num := new(big.Int).Add(one, y)
	den := new(big.Int).Sub(one, y)
	den.Mod(den, fieldP)
	inv := new(big.Int).ModInverse(den, fieldP)
	num.Mul(num, inv)
	num.Mod(num, fieldP)
	return intToLE32(num)
}

// edwardsToMontgomery converts an Ed25519 public key to its X25519 form.
func edwardsToMontgomery(b []byte) ([]byte, error) {
	y, err := decodeEdwardsY(b)
	if err != nil {
		return nil, err
	}
	if y.Cmp(one) == 0 {
		return nil, fmt.Errorf("ed25519 key: %w: identity point", ErrInvalidKey)
	}
	return montgomeryU(y), nil
}

// checkX25519 validates an X25519 public key: a canonical u < p that is
// not of small order.
func checkX25519(b []byte) error {
	if leToInt(b).Cmp(fieldP) >= 0 {
		return fmt.Errorf("x25519 key: %w: non-canonical u", ErrInvalidKey)
	}
	if isLowOrderX25519(b) {
		return fmt.Errorf("x25519 key: %w: small-order point", ErrInvalidKey)
	}
	return nil
}

// isLowOrderX25519 reports whether u is a small-order point (or otherwise
// yields an all-zero shared secret).
func isLowOrderX25519(u []byte) bool {
	pub, err := ecdh.X25519().NewPublicKey(u)
	if err != nil {
		return true
	}
	_, err = lowOrderProbe.ECDH(pub)
	return err != nil
}
