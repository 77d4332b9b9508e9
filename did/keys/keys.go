package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
)

// Type names a key type.
type Type string

// The supported key types.
const (
	// Ed25519 is an Edwards-curve signing key (RFC 8032).
	Ed25519 Type = "Ed25519"
	// P256 is a NIST P-256 ECDSA signing key.
	P256 Type = "P-256"
	// X25519 is a Curve25519 Diffie-Hellman key, for keyAgreement only.
	X25519 Type = "X25519"
)

// Sizes of the canonical encodings.
const (
	// Ed25519Size is the length of an Ed25519 public key.
	Ed25519Size = 32
	// X25519Size is the length of an X25519 public key.
	X25519Size = 32
	// P256CompressedSize is the length of a compressed SEC1 P-256 point.
	P256CompressedSize = 33
	// P256UncompressedSize is the length of an uncompressed SEC1 P-256 point.
	P256UncompressedSize = 65
	// SignatureSize is the length of Ed25519 and ES256 signatures.
	SignatureSize = 64
)

var (
	// ErrUnsupportedKey reports a key type, codec, kty or crv this package
	// does not handle.
	ErrUnsupportedKey = errors.New("unsupported key type")
	// ErrInvalidKey reports key material that is malformed: a wrong length,
	// a point not on the curve, a small-order point, or private members in
	// a public JWK.
	ErrInvalidKey = errors.New("invalid key")
	// ErrInvalidSignature reports a signature that does not verify.
	ErrInvalidSignature = errors.New("invalid signature")
)

// PublicKey is an immutable public key. The zero value is not a key; see
// [PublicKey.IsZero].
type PublicKey struct {
	t Type
	b string // canonical bytes; a string so the value is immutable and comparable
}

// Type returns the key type, or "" for the zero value.
func (p PublicKey) Type() Type { return p.t }

// IsZero reports whether p is the zero value.
func (p PublicKey) IsZero() bool { return p.t == "" }

// Bytes returns a fresh copy of the canonical key bytes: 32 bytes for
// Ed25519 and X25519, the 33-byte compressed SEC1 point for P-256.
func (p PublicKey) Bytes() []byte { return []byte(p.b) }

// Equal reports whether p and q are the same key.
func (p PublicKey) Equal(q PublicKey) bool { return p.t == q.t && p.b == q.b }

// String returns the Multibase form, for logs and test failures.
func (p PublicKey) String() string {
	if p.IsZero() {
		return "<zero key>"
	}
	return p.Multibase()
}

// Algorithm returns the JOSE alg for signatures by this key: "EdDSA" for
// Ed25519, "ES256" for P-256 and "" for X25519 (and the zero key).
func (p PublicKey) Algorithm() string {
	switch p.t {
	case Ed25519:
		return "EdDSA"
	case P256:
		return "ES256"
	}
	return ""
}

// Verify reports whether sig is a valid signature of msg by p. Ed25519
// signatures are RFC 8032 PureEdDSA over msg; P-256 signatures are 64-byte
// r||s ECDSA over SHA-256(msg). X25519 keys never verify anything.
func (p PublicKey) Verify(msg, sig []byte) bool {
	switch p.t {
	case Ed25519:
		return verifyEd25519(p.b, msg, sig)
	case P256:
		if len(sig) != SignatureSize {
			return false
		}
		pub, err := p.ecdsa()
		if err != nil {
			return false
		}
		h := sha256.Sum256(msg)
		r := new(big.Int).SetBytes(sig[:32])
		s := new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(pub, h[:], r, s)
	}
	return false
}

// The order n of the P-256 group and n/2 (rounded down): a P-256
// signature is low-S when s ≤ n/2.
var (
	p256Order     = elliptic.P256().Params().N
	p256HalfOrder = new(big.Int).Rsh(p256Order, 1)
)

// IsCanonicalSignature reports whether sig has the one form that
// [PrivateKey.Sign] gives, which a third party who sees it cannot change
// into another valid signature of the same message by the same key. For
// P-256 that is 64 bytes r||s with s ≤ n/2 ("low S"): ECDSA signatures are
// malleable, (r, n−s) verifies whenever (r, s) does, and [PublicKey.Verify]
// accepts both, as JOSE ES256 does. For Ed25519 every 64-byte signature
// is canonical: crypto/ed25519 already refuses s ≥ L. X25519 and the zero
// key have no canonical signature. It does not verify sig.
func (p PublicKey) IsCanonicalSignature(sig []byte) bool {
	switch p.t {
	case Ed25519:
		return len(sig) == ed25519.SignatureSize
	case P256:
		if len(sig) != SignatureSize {
			return false
		}
		return new(big.Int).SetBytes(sig[32:]).Cmp(p256HalfOrder) <= 0
	}
	return false
}

// VerifyError is Verify with an error: nil, or one wrapping
// [ErrInvalidSignature] (or [ErrUnsupportedKey] for X25519 and zero keys).
func (p PublicKey) VerifyError(msg, sig []byte) error {
	if p.t != Ed25519 && p.t != P256 {
		return fmt.Errorf("verify: %w: %q cannot sign", ErrUnsupportedKey, p.t)
	}
	if !p.Verify(msg, sig) {
		return fmt.Errorf("verify %s: %w", p.t, ErrInvalidSignature)
	}
	return nil
}

// ecdsa returns p as a crypto/ecdsa public key. p must be a P-256 key.
func (p PublicKey) ecdsa() (*ecdsa.PublicKey, error) {
	x, y := elliptic.UnmarshalCompressed(elliptic.P256(), []byte(p.b))
	if x == nil {
		return nil, fmt.Errorf("decompress p-256 point: %w", ErrInvalidKey)
	}
	return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), uncompressed(x, y))
}

// uncompressed encodes (x, y) as a 65-byte SEC1 point.
func uncompressed(x, y *big.Int) []byte {
	b := make([]byte, P256UncompressedSize)
	b[0] = 4
	x.FillBytes(b[1:33])
	y.FillBytes(b[33:])
	return b
}

// FromRaw builds a public key from raw bytes: 32 bytes for Ed25519 and
// X25519; for P-256 a 33-byte compressed or 65-byte uncompressed SEC1
// point. It validates the key; errors wrap [ErrInvalidKey] or
// [ErrUnsupportedKey].
func FromRaw(t Type, b []byte) (PublicKey, error) {
	switch t {
	case Ed25519:
		if len(b) != Ed25519Size {
			return PublicKey{}, fmt.Errorf("ed25519 key: %w: length %d, want %d", ErrInvalidKey, len(b), Ed25519Size)
		}
		if err := checkEd25519(b); err != nil {
			return PublicKey{}, err
		}
		return PublicKey{t: Ed25519, b: string(b)}, nil
	case X25519:
		if len(b) != X25519Size {
			return PublicKey{}, fmt.Errorf("x25519 key: %w: length %d, want %d", ErrInvalidKey, len(b), X25519Size)
		}
		if err := checkX25519(b); err != nil {
			return PublicKey{}, err
		}
		return PublicKey{t: X25519, b: string(b)}, nil
	case P256:
		c, err := compressP256(b)
		if err != nil {
			return PublicKey{}, err
		}
		return PublicKey{t: P256, b: string(c)}, nil
	}
	return PublicKey{}, fmt.Errorf("from raw: %w: %q", ErrUnsupportedKey, t)
}

// compressP256 validates a SEC1 P-256 point and returns its compressed form.
func compressP256(b []byte) ([]byte, error) {
	switch {
	case len(b) == P256CompressedSize && (b[0] == 2 || b[0] == 3):
		if x, _ := elliptic.UnmarshalCompressed(elliptic.P256(), b); x == nil {
			return nil, fmt.Errorf("p-256 key: %w: point not on curve", ErrInvalidKey)
		}
		return bytes.Clone(b), nil
	case len(b) == P256UncompressedSize && b[0] == 4:
		// ParseUncompressedPublicKey rejects off-curve points, the point at
		// infinity and non-canonical coordinates.
		if _, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), b); err != nil {
			return nil, fmt.Errorf("p-256 key: %w: %w", ErrInvalidKey, err)
		}
		c := make([]byte, P256CompressedSize)
		c[0] = 2 | b[64]&1
		copy(c[1:], b[1:33])
		return c, nil
	}
	return nil, fmt.Errorf("p-256 key: %w: %d bytes is not a compressed or uncompressed SEC1 point", ErrInvalidKey, len(b))
}

// Uncompressed returns the 65-byte uncompressed SEC1 form of a P-256 key.
func (p PublicKey) Uncompressed() ([]byte, error) {
	if p.t != P256 {
		return nil, fmt.Errorf("uncompressed: %w: %q is not P-256", ErrUnsupportedKey, p.t)
	}
	x, y := elliptic.UnmarshalCompressed(elliptic.P256(), []byte(p.b))
	if x == nil {
		return nil, fmt.Errorf("uncompressed: %w", ErrInvalidKey)
	}
	return uncompressed(x, y), nil
}

// X25519 converts an Ed25519 public key to the X25519 key of the same
// secret (the birational map u = (1+y)/(1-y) of RFC 7748 section 4.1), as
// did:key does to derive its keyAgreement key.
func (p PublicKey) X25519() (PublicKey, error) {
	if p.t != Ed25519 {
		return PublicKey{}, fmt.Errorf("to x25519: %w: %q is not Ed25519", ErrUnsupportedKey, p.t)
	}
	u, err := edwardsToMontgomery([]byte(p.b))
	if err != nil {
		return PublicKey{}, err
	}
	// p was validated (on the curve, not of small order), so its image is
	// a canonical u that is not of small order either: the map sends
	// small-order points to small-order points and nothing else to them.
	return PublicKey{t: X25519, b: string(u)}, nil
}
