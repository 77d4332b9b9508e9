package keys

import (
	"crypto/ecdh"
	"fmt"

	"filippo.io/edwards25519"

	"github.com/idmesh/idmesh/did/internal/fifo"
	"github.com/idmesh/idmesh/did/zip215"
)

// Checks on Curve25519 and edwards25519 public keys that the standard
// library does not expose. They use filippo.io/edwards25519, the package
// the standard library's own Ed25519 is built on.

// fieldP is p = 2^255 - 19, little-endian.
var fieldP = []byte{
	0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
}

// lessThanP reports whether the little-endian 32-byte b is below p.
func lessThanP(b []byte) bool {
	for i := 31; i >= 0; i-- {
		if b[i] != fieldP[i] {
			return b[i] < fieldP[i]
		}
	}
	return false
}

// lowOrderProbe is a fixed X25519 scalar. X25519 clamps scalars to
// multiples of the cofactor 8, so multiplying a small-order point by it
// gives the all-zero output, which crypto/ecdh reports as an error.
var lowOrderProbe = func() *ecdh.PrivateKey {
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

// decodeEd25519 returns b parsed for ZIP-215 verification (its point
// decoded), if b is the canonical encoding of a point on edwards25519
// that is not of small order (the identity included).
func decodeEd25519(b []byte) (*zip215.Key, error) {
	k, err := zip215.ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("ed25519 key: %w: not on curve", ErrInvalidKey)
	}
	if !canonicalEd25519(b) {
		return nil, fmt.Errorf("ed25519 key: %w: non-canonical encoding", ErrInvalidKey)
	}
	p := k.Point()
	if new(edwards25519.Point).MultByCofactor(&p).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return nil, fmt.Errorf("ed25519 key: %w: small-order point", ErrInvalidKey)
	}
	return k, nil
}

// checkEd25519 validates an Ed25519 public key.
func checkEd25519(b []byte) error {
	if len(b) != Ed25519Size {
		_, err := decodeEd25519(b)
		return err
	}
	c := [32]byte(b) // one copy: what is decoded is what is remembered
	if validEd25519.has(c) {
		return nil
	}
	k, err := decodeEd25519(c[:])
	if err != nil {
		return err
	}
	validEd25519.add(c, k)
	return nil
}

// ZIP215Key returns p parsed for ZIP-215 verification (zip215.VerifyKey,
// zip215.Batch.AddKey) if p is an Ed25519 key that passed this process's
// key check recently and is still remembered: a signature check then
// need not decompress it again, nor copy its bytes.
func (p PublicKey) ZIP215Key() (*zip215.Key, bool) {
	if p.t != Ed25519 {
		return nil, false
	}
	return checkedKey(p.b)
}

// checkedKey is ZIP215Key for the key's bytes pub.
func checkedKey(pub string) (*zip215.Key, bool) {
	if len(pub) != Ed25519Size {
		return nil, false
	}
	return validEd25519.get([32]byte([]byte(pub)))
}

// canonicalEd25519 reports whether the encoding b of a point that
// edwards25519's SetBytes accepted is the canonical one, the one Bytes
// gives back, without Bytes' field inversion. SetBytes accepts two kinds
// of non-canonical encodings: y >= p (the point of y - p), and "-0", the
// sign bit set where x = 0, which is so only for y = 1 and y = p - 1.
func canonicalEd25519(b []byte) bool {
	if len(b) != 32 {
		return false
	}
	y := [32]byte(b)
	y[31] &= 0x7f
	if !lessThanP(y[:]) {
		return false
	}
	return b[31]&0x80 == 0 || (y != yOne && y != yMinusOne)
}

// yOne and yMinusOne are 1 and p - 1, little-endian: the y of the two
// points with x = 0.
var (
	yOne      = [32]byte{1}
	yMinusOne = func() [32]byte {
		y := [32]byte(fieldP)
		y[0]--
		return y
	}()
)

// validEd25519 remembers Ed25519 keys that passed the check, with their
// parsed forms (PublicKey.ZIP215Key): a key is
// parsed several times on its way through a ledger operation (document
// validation, authorization), and the check (a square root and a
// multiplication by the cofactor) is most of the cost of parsing. The check is a pure function
// of the bytes, so the set never changes an answer.
var validEd25519 = &keySet{fifo.New[[32]byte, *zip215.Key](8192)}

// keySet is a bounded set of 32-byte keys and their parsed forms.
type keySet struct {
	m *fifo.Map[[32]byte, *zip215.Key]
}

func (s *keySet) has(k [32]byte) bool {
	_, ok := s.m.Get(k)
	return ok
}

func (s *keySet) get(k [32]byte) (*zip215.Key, bool) { return s.m.Get(k) }

func (s *keySet) add(k [32]byte, key *zip215.Key) { s.m.Put(k, key, 0) }

// edwardsToMontgomery converts an Ed25519 public key to its X25519 form,
// u = (1+y)/(1-y).
func edwardsToMontgomery(b []byte) ([]byte, error) {
	k, err := decodeEd25519(b)
	if err != nil {
		return nil, err
	}
	p := k.Point()
	return p.BytesMontgomery(), nil
}

// checkX25519 validates an X25519 public key: a canonical u < p that is
// not of small order.
func checkX25519(b []byte) error {
	if !lessThanP(b) {
		return fmt.Errorf("x25519 key: %w: non-canonical u", ErrInvalidKey)
	}
	pub, err := ecdh.X25519().NewPublicKey(b)
	if err != nil {
		return fmt.Errorf("x25519 key: %w: %w", ErrInvalidKey, err)
	}
	if _, err := lowOrderProbe.ECDH(pub); err != nil {
		return fmt.Errorf("x25519 key: %w: small-order point", ErrInvalidKey)
	}
	return nil
}
