package keys

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
)

// Type bytes of the [PrivateKey.MarshalBinary] encoding.
const (
	tagEd25519 byte = 1
	tagP256    byte = 2
)

// maxScalarTries bounds rejection sampling of P-256 scalars. A random
// 32-byte string is out of range with probability about 2^-32, so running
// out of tries means the random source is broken.
const maxScalarTries = 64

// PrivateKey is an Ed25519 or P-256 signing key. The zero value is not a
// key. PrivateKey is safe for concurrent use.
type PrivateKey struct {
	t      Type
	secret []byte // Ed25519 seed or P-256 scalar, 32 bytes
	pub    PublicKey
	ed     ed25519.PrivateKey
	ec     *ecdsa.PrivateKey
}

// Generate creates a key of type t (Ed25519 or P256) from rand; nil means
// crypto/rand. The key is a deterministic function of the bytes read:
// Ed25519 reads a 32-byte seed; P-256 reads 32-byte candidates until one is
// a valid scalar (in [1, n-1]).
func Generate(t Type, random io.Reader) (PrivateKey, error) {
	if random == nil {
		random = rand.Reader
	}
	switch t {
	case Ed25519:
		seed := make([]byte, ed25519.SeedSize)
		if _, err := io.ReadFull(random, seed); err != nil {
			return PrivateKey{}, fmt.Errorf("generate ed25519: %w", err)
		}
		return newPrivate(Ed25519, seed)
	case P256:
		b := make([]byte, 32)
		for range maxScalarTries {
			if _, err := io.ReadFull(random, b); err != nil {
				return PrivateKey{}, fmt.Errorf("generate p-256: %w", err)
			}
			if _, err := ecdh.P256().NewPrivateKey(b); err == nil {
				return newPrivate(P256, b)
			}
		}
		return PrivateKey{}, fmt.Errorf("generate p-256: no valid scalar in %d tries", maxScalarTries)
	}
	return PrivateKey{}, fmt.Errorf("generate: %w: %q", ErrUnsupportedKey, t)
}

// newPrivate builds a key from its 32-byte secret.
func newPrivate(t Type, secret []byte) (PrivateKey, error) {
	k := PrivateKey{t: t, secret: bytes.Clone(secret)}
	switch t {
	case Ed25519:
		if len(secret) != ed25519.SeedSize {
			return PrivateKey{}, fmt.Errorf("ed25519 seed: %w: length %d", ErrInvalidKey, len(secret))
		}
		k.ed = ed25519.NewKeyFromSeed(secret)
		pub, err := FromRaw(Ed25519, k.ed.Public().(ed25519.PublicKey))
		if err != nil {
			return PrivateKey{}, err
		}
		k.pub = pub
	case P256:
		ec, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), secret)
		if err != nil {
			return PrivateKey{}, fmt.Errorf("p-256 scalar: %w: %w", ErrInvalidKey, err)
		}
		k.ec = ec
		raw, err := ec.PublicKey.Bytes()
		if err != nil {
			return PrivateKey{}, fmt.Errorf("p-256 public key: %w", err)
		}
		pub, err := FromRaw(P256, raw)
		if err != nil {
			return PrivateKey{}, err
		}
		k.pub = pub
	default:
		return PrivateKey{}, fmt.Errorf("private key: %w: %q", ErrUnsupportedKey, t)
	}
	return k, nil
}

// Type returns the key type, or "" for the zero value.
func (k PrivateKey) Type() Type { return k.t }

// Public returns the public key.
func (k PrivateKey) Public() PublicKey { return k.pub }

// Sign signs msg: a 64-byte Ed25519 signature (RFC 8032), or for P-256 a
// 64-byte r||s ECDSA signature over SHA-256(msg) (JOSE ES256) with low S
// (s ≤ n/2): of the two signatures (r, s) and (r, n−s) that verify, Sign
// always gives the one [PublicKey.IsCanonicalSignature] accepts, so that
// nobody else can turn it into a second valid signature.
func (k PrivateKey) Sign(msg []byte) ([]byte, error) {
	switch k.t {
	case Ed25519:
		return ed25519.Sign(k.ed, msg), nil
	case P256:
		h := sha256.Sum256(msg)
		r, s, err := ecdsa.Sign(rand.Reader, k.ec, h[:])
		if err != nil {
			return nil, fmt.Errorf("sign p-256: %w", err)
		}
		if s.Cmp(p256HalfOrder) > 0 {
			s.Sub(p256Order, s)
		}
		sig := make([]byte, SignatureSize)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig, nil
	}
	return nil, fmt.Errorf("sign: %w: %q", ErrUnsupportedKey, k.t)
}

// MarshalBinary encodes the key as one type byte (1 = Ed25519, 2 = P-256)
// followed by the 32-byte Ed25519 seed or P-256 scalar. The result is
// secret.
func (k PrivateKey) MarshalBinary() ([]byte, error) {
	var tag byte
	switch k.t {
	case Ed25519:
		tag = tagEd25519
	case P256:
		tag = tagP256
	default:
		return nil, fmt.Errorf("marshal private key: %w: %q", ErrUnsupportedKey, k.t)
	}
	return append([]byte{tag}, k.secret...), nil
}

// UnmarshalPrivateKey decodes the [PrivateKey.MarshalBinary] encoding.
func UnmarshalPrivateKey(b []byte) (PrivateKey, error) {
	if len(b) != 33 {
		return PrivateKey{}, fmt.Errorf("unmarshal private key: %w: length %d, want 33", ErrInvalidKey, len(b))
	}
	var t Type
	switch b[0] {
	case tagEd25519:
		t = Ed25519
	case tagP256:
		t = P256
	default:
		return PrivateKey{}, fmt.Errorf("unmarshal private key: %w: type byte %d", ErrUnsupportedKey, b[0])
	}
	k, err := newPrivate(t, b[1:])
	if err != nil {
		return PrivateKey{}, fmt.Errorf("unmarshal private key: %w", err)
	}
	return k, nil
}
