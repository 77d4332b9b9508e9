package zip215

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"

	"filippo.io/edwards25519"
)

// Sizes of the encodings.
const (
	// PublicKeySize is the length of an encoded public key A.
	PublicKeySize = ed25519.PublicKeySize
	// SignatureSize is the length of a signature R || S.
	SignatureSize = ed25519.SignatureSize
)

// MaxBatch is the number of signatures one multi-scalar multiplication
// checks; a larger [Batch] is checked in chunks of it, which bounds the
// memory a check takes (about 3 KiB a signature) without costing much:
// the shared doublings are 256 per chunk.
const MaxBatch = 256

// decoded is a signature whose encodings parse, ready for the equation.
type decoded struct {
	a, r edwards25519.Point
	s, k edwards25519.Scalar
}

// decode parses pub and sig and computes k; ok is false when an encoding
// breaks the rules (a length, a point not on the curve, S >= L).
func decode(d *decoded, pub, msg, sig []byte) bool {
	if len(pub) != PublicKeySize {
		return false
	}
	if _, err := d.a.SetBytes(pub); err != nil {
		return false
	}
	return decodeRest(d, pub, msg, sig)
}

// decodeKey is decode for a key already parsed.
func decodeKey(d *decoded, k *Key, msg, sig []byte) bool {
	d.a.Set(&k.a)
	return decodeRest(d, k.pub[:], msg, sig)
}

// decodeRest parses sig and computes k, d.a being pub's point.
func decodeRest(d *decoded, pub, msg, sig []byte) bool {
	if !decodeSignature(d, sig) {
		return false
	}
	d.k = challenge(sig[:32], pub, msg)
	return true
}

// challenge returns k = SHA-512(R || A || M) mod L over the encodings as
// given.
func challenge(r, pub, msg []byte) edwards25519.Scalar {
	h := sha512.New()
	h.Write(r)
	h.Write(pub)
	h.Write(msg)
	var digest [sha512.Size]byte
	var k edwards25519.Scalar
	if _, err := k.SetUniformBytes(h.Sum(digest[:0])); err != nil {
		panic("zip215: a SHA-512 digest is 64 bytes") // unreachable
	}
	return k
}

// decodeSignature parses sig's R and S into d; false when an encoding
// breaks the rules (the length, R not on the curve, S >= L).
func decodeSignature(d *decoded, sig []byte) bool {
	if len(sig) != SignatureSize {
		return false
	}
	if _, err := d.r.SetBytes(sig[:32]); err != nil {
		return false
	}
	_, err := d.s.SetCanonicalBytes(sig[32:])
	return err == nil
}

// SignatureDecodes reports whether sig's encodings follow the rules
// Verify and Batch apply before any equation (the length, R a point, S
// canonical): one that does not is refused by both, whatever the key and
// message. It costs one point decompression; [ParseSignature] answers
// the same and keeps the decompressed point.
func SignatureDecodes(sig []byte) bool {
	var d decoded
	return decodeSignature(&d, sig)
}

// Signature is a signature parsed for verification: its encoding and
// the point R and scalar S it decodes to under the ZIP-215 rules. Only
// ParseSignature makes one, so the two always agree, and nothing changes
// it after; a batch given one ([Batch.AddParsed]) does not decompress R
// again.
type Signature struct {
	r   edwards25519.Point
	s   edwards25519.Scalar
	raw [SignatureSize]byte
	ok  bool // made by ParseSignature: a zero Signature verifies nothing
}

// ParseSignature parses sig as Verify does (the length, R any encoding
// of a point on the curve, S canonical): it fails exactly where
// SignatureDecodes answers false.
func ParseSignature(sig []byte) (*Signature, error) {
	if len(sig) != SignatureSize {
		return nil, fmt.Errorf("zip215: a signature is %d bytes, not %d", SignatureSize, len(sig))
	}
	var d decoded
	if !decodeSignature(&d, sig) {
		return nil, errors.New("zip215: signature: R is not a point of the curve, or S is not below the group order")
	}
	return &Signature{r: d.r, s: d.s, raw: [SignatureSize]byte(sig), ok: true}, nil
}

// Bytes returns a copy of s's encoding (nil for a zero Signature).
func (s *Signature) Bytes() []byte {
	if !s.ok {
		return nil
	}
	return bytes.Clone(s.raw[:])
}

var identity = edwards25519.NewIdentityPoint()

// isSmallOrder reports whether [8]p is the identity.
func isSmallOrder(p *edwards25519.Point) bool {
	var q edwards25519.Point
	return q.MultByCofactor(p).Equal(identity) == 1
}

// WeakKey reports whether pub is unfit to be a signer's key: not 32
// bytes, not a point of the curve, not the canonical encoding of its
// point, or of small order ([8]A is the identity). ZIP-215 (like RFC 8032
// as crypto/ed25519 implements it) accepts signatures by a small-order
// key that anyone can make, such as R = identity, S = 0 for every message
// under the identity key; a set of signers (validators) must refuse such
// keys, and one key must have one encoding (one address).
func WeakKey(pub []byte) bool {
	if len(pub) != PublicKeySize {
		return true
	}
	var a edwards25519.Point
	if _, err := a.SetBytes(pub); err != nil {
		return true
	}
	return !bytes.Equal(a.Bytes(), pub) || isSmallOrder(&a)
}

// Verify reports whether sig is a valid signature of msg by the public
// key pub under the ZIP-215 rules. It never panics: wrong lengths are
// invalid.
func Verify(pub, msg, sig []byte) bool {
	var d decoded
	if !decode(&d, pub, msg, sig) {
		return false
	}
	return d.check()
}

// Key is an Ed25519 public key parsed for verification: its encoding and
// the point it decodes to under the ZIP-215 rules. Only ParseKey makes
// one, so the two always agree, and nothing changes it after: a Key may
// be shared by goroutines and cached, and verifying with it saves the
// key's decompression.
type Key struct {
	a   edwards25519.Point
	pub [PublicKeySize]byte
}

// ParseKey parses pub as Verify does (any encoding of a point on the
// curve: non-canonical and small-order ones too).
func ParseKey(pub []byte) (*Key, error) {
	if len(pub) != PublicKeySize {
		return nil, fmt.Errorf("zip215: a public key is %d bytes, not %d", PublicKeySize, len(pub))
	}
	k := &Key{pub: [PublicKeySize]byte(pub)}
	if _, err := k.a.SetBytes(pub); err != nil {
		return nil, fmt.Errorf("zip215: public key: %w", err)
	}
	return k, nil
}

// Point returns a copy of k's point.
func (k *Key) Point() edwards25519.Point { return k.a }

// Bytes returns a copy of k's encoding.
func (k *Key) Bytes() []byte { return bytes.Clone(k.pub[:]) }

// VerifyKey is Verify(k's encoding, msg, sig), without decompressing the
// key.
func VerifyKey(k *Key, msg, sig []byte) bool {
	var d decoded
	if !decodeKey(&d, k, msg, sig) {
		return false
	}
	return d.check()
}

// check evaluates [8]([S]B - [k]A - R) == identity.
func (d *decoded) check() bool {
	var negK edwards25519.Scalar
	negK.Negate(&d.k)
	var p edwards25519.Point
	p.VarTimeDoubleScalarBaseMult(&negK, &d.a, &d.s) // [S]B - [k]A
	p.Subtract(&p, &d.r)
	return isSmallOrder(&p)
}

// Batch collects signatures to check together. The zero value is an empty
// batch that draws its coefficients from crypto/rand. A Batch is not safe
// for concurrent use; it keeps the slices given to Add until it is
// checked, so they must not change before then.
type Batch struct {
	// Rand is the source of the 128-bit random coefficients; nil means
	// crypto/rand. Tests inject a seeded reader. A reader that fails
	// makes the batch fall back to checking each signature alone, which
	// gives the same answers.
	Rand io.Reader

	entries []entry
}

type entry struct {
	key           *Key // pub's, or nil
	pub, msg, sig []byte
	parsed        *Signature // sig's, or nil
}

// Add queues the signature sig of msg by pub.
func (b *Batch) Add(pub, msg, sig []byte) {
	b.entries = append(b.entries, entry{pub: pub, msg: msg, sig: sig})
}

// AddKey queues the signature sig of msg by k (as Add of k's encoding,
// without decompressing the key).
func (b *Batch) AddKey(k *Key, msg, sig []byte) {
	b.entries = append(b.entries, entry{key: k, msg: msg, sig: sig})
}

// AddParsed queues the parsed signature s of msg by pub, or by k when k
// is not nil (then pub is not read): as Add or AddKey of s's encoding,
// without decompressing R again. A nil or zero s (not made by
// ParseSignature) is an invalid signature.
func (b *Batch) AddParsed(k *Key, pub, msg []byte, s *Signature) {
	if s == nil || !s.ok {
		b.entries = append(b.entries, entry{key: k, pub: pub, msg: msg}) // no signature: fails to decode
		return
	}
	b.entries = append(b.entries, entry{key: k, pub: pub, msg: msg, sig: s.raw[:], parsed: s})
}

// decodeEntry decodes e into d.
func decodeEntry(d *decoded, e entry) bool {
	if e.parsed == nil {
		if e.key != nil {
			return decodeKey(d, e.key, e.msg, e.sig)
		}
		return decode(d, e.pub, e.msg, e.sig)
	}
	pub := e.pub
	if e.key != nil {
		d.a.Set(&e.key.a)
		pub = e.key.pub[:]
	} else if len(pub) != PublicKeySize {
		return false
	} else if _, err := d.a.SetBytes(pub); err != nil {
		return false
	}
	d.r.Set(&e.parsed.r)
	d.s.Set(&e.parsed.s)
	d.k = challenge(e.parsed.raw[:32], pub, e.msg)
	return true
}

// Len returns the number of queued signatures.
func (b *Batch) Len() int { return len(b.entries) }

// Reset empties the batch, keeping its Rand.
func (b *Batch) Reset() {
	clear(b.entries)
	b.entries = b.entries[:0]
}

// Verify reports whether every queued signature is valid, as [Verify]
// would answer for each. An empty batch is valid.
func (b *Batch) Verify() bool {
	for start := 0; start < len(b.entries); start += MaxBatch {
		chunk := b.entries[start:min(start+MaxBatch, len(b.entries))]
		ds := make([]decoded, len(chunk))
		for i, e := range chunk {
			if !decodeEntry(&ds[i], e) {
				return false
			}
		}
		if !b.verifyDecoded(ds) {
			return false
		}
	}
	return true
}

// VerifyEach returns, for each queued signature in order, whether it is
// valid, as [Verify] would answer. It checks them in batches and checks
// each signature of a batch that fails alone, to find the bad ones.
func (b *Batch) VerifyEach() []bool {
	ok := make([]bool, len(b.entries))
	for start := 0; start < len(b.entries); start += MaxBatch {
		chunk := b.entries[start:min(start+MaxBatch, len(b.entries))]
		ds := make([]decoded, 0, len(chunk))
		idx := make([]int, 0, len(chunk))
		for i, e := range chunk {
			var d decoded
			if decodeEntry(&d, e) {
				ds = append(ds, d)
				idx = append(idx, start+i)
			}
		}
		if b.verifyDecoded(ds) {
			for _, i := range idx {
				ok[i] = true
			}
			continue
		}
		for j := range ds {
			ok[idx[j]] = ds[j].check()
		}
	}
	return ok
}

// verifyDecoded checks
//
//	[8]( -(Σ z_i S_i) B + Σ z_i R_i + Σ (z_i k_i) A_i ) == identity
//
// with independent random 128-bit z_i. If any signature is invalid the
// sum is the identity with probability at most 2^-128: the cofactor
// removes the small-order components, and what remains lies in the group
// of prime order L > 2^252.
func (b *Batch) verifyDecoded(ds []decoded) bool {
	switch len(ds) {
	case 0:
		return true
	case 1:
		return ds[0].check()
	}
	rnd := b.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	zs := make([]byte, 16*len(ds))
	if _, err := io.ReadFull(rnd, zs); err != nil {
		for i := range ds {
			if !ds[i].check() {
				return false
			}
		}
		return true
	}
	n := len(ds)
	scalars := make([]edwards25519.Scalar, 1+2*n)
	points := make([]*edwards25519.Point, 1+2*n)
	sp := make([]*edwards25519.Scalar, 1+2*n)
	var sumS edwards25519.Scalar // starts at zero
	var buf [32]byte
	for i := range ds {
		copy(buf[:16], zs[16*i:16*i+16])
		z := &scalars[1+i]
		if _, err := z.SetCanonicalBytes(buf[:]); err != nil {
			panic("zip215: a 128-bit scalar is canonical") // unreachable
		}
		sumS.MultiplyAdd(z, &ds[i].s, &sumS)
		points[1+i] = &ds[i].r
		scalars[1+n+i].Multiply(z, &ds[i].k)
		points[1+n+i] = &ds[i].a
	}
	scalars[0].Negate(&sumS)
	points[0] = edwards25519.NewGeneratorPoint()
	for i := range scalars {
		sp[i] = &scalars[i]
	}
	var sum edwards25519.Point
	sum.VarTimeMultiScalarMult(sp, points)
	return isSmallOrder(&sum)
}
