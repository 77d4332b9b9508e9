package statuslist

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strings"

	"github.com/idmesh/idmesh/credential"
)

// MinLength is the minimum number of entries of a status list: 131,072
// (16 KiB of 1-bit entries), the specification's bound for herd privacy.
const MinLength = 131072

// DefaultMaxBits bounds the decompressed size of a list when [Decode] is
// given no bound: 2^26 bits (8 MiB), 512 times the minimum.
const DefaultMaxBits = 1 << 26

// MaxStatusSize is the largest statusSize this package handles. An entry
// of size s needs 2^s status messages, so larger sizes are impractical.
const MaxStatusSize = 16

var (
	// ErrTooLarge is wrapped by [Decode] errors for lists that decompress to
	// more than the bound.
	ErrTooLarge = errors.New("status list exceeds the size bound")
	// ErrRange is wrapped by errors for an index outside a bitstring.
	ErrRange = errors.New("index out of range")
)

// Bitstring is a status list: a sequence of bits in which bit 0 is the
// most significant bit of byte 0. An entry of statusSize s at index i
// occupies bits i*s through i*s+s-1, its first bit the most significant.
//
// A Bitstring is not safe for concurrent mutation.
type Bitstring struct {
	b []byte
}

// New returns a bitstring of length bits, all unset. The length must be a
// positive multiple of 8; the minimum of [MinLength] is enforced where
// lists are accepted and published, not here.
func New(length int) (*Bitstring, error) {
	if length <= 0 || length%8 != 0 {
		return nil, credential.Errorf(credential.RangeError, "bitstring length %d is not a positive multiple of 8", length)
	}
	return &Bitstring{b: make([]byte, length/8)}, nil
}

// Len returns the length in bits.
func (b *Bitstring) Len() int { return len(b.b) * 8 }

// Count returns the number of set bits.
func (b *Bitstring) Count() int {
	n := 0
	for _, c := range b.b {
		n += bits.OnesCount8(c)
	}
	return n
}

// Clone returns an independent copy.
func (b *Bitstring) Clone() *Bitstring { return &Bitstring{b: bytes.Clone(b.b)} }

// Equal reports whether b and o have the same length and bits.
func (b *Bitstring) Equal(o *Bitstring) bool { return bytes.Equal(b.b, o.b) }

// Bytes returns a copy of the uncompressed bitstring.
func (b *Bitstring) Bytes() []byte { return bytes.Clone(b.b) }

func (b *Bitstring) check(i int) error {
	if i < 0 || i >= b.Len() {
		return credential.Errorf(credential.RangeError, "bit %d of a %d-bit list: %w", i, b.Len(), ErrRange)
	}
	return nil
}

// Get returns bit i.
func (b *Bitstring) Get(i int) (bool, error) {
	if err := b.check(i); err != nil {
		return false, err
	}
	return b.b[i/8]&(0x80>>(i%8)) != 0, nil
}

// Set sets bit i to v.
func (b *Bitstring) Set(i int, v bool) error {
	if err := b.check(i); err != nil {
		return err
	}
	if v {
		b.b[i/8] |= 0x80 >> (i % 8)
	} else {
		b.b[i/8] &^= 0x80 >> (i % 8)
	}
	return nil
}

// Entries returns the number of entries of size bits the list holds.
func (b *Bitstring) Entries(size int) int {
	if size <= 0 {
		return 0
	}
	return b.Len() / size
}

func (b *Bitstring) checkEntry(i, size int) error {
	if size < 1 || size > MaxStatusSize {
		return credential.Errorf(credential.RangeError, "status size %d is not in [1, %d]", size, MaxStatusSize)
	}
	if i < 0 || i >= b.Entries(size) {
		return credential.Errorf(credential.RangeError, "entry %d of size %d in a %d-bit list: %w", i, size, b.Len(), ErrRange)
	}
	return nil
}

// Value returns entry i of size bits as an unsigned integer.
func (b *Bitstring) Value(i, size int) (int, error) {
	if err := b.checkEntry(i, size); err != nil {
		return 0, err
	}
	v := 0
	for k := i * size; k < (i+1)*size; k++ {
		v = v<<1 | int(b.b[k/8]>>(7-k%8)&1)
	}
	return v, nil
}

// SetValue sets entry i of size bits to v, which must fit in size bits.
func (b *Bitstring) SetValue(i, size, v int) error {
	if err := b.checkEntry(i, size); err != nil {
		return err
	}
	if v < 0 || v >= 1<<size {
		return credential.Errorf(credential.RangeError, "value %d does not fit in %d bits", v, size)
	}
	for k := (i+1)*size - 1; k >= i*size; k-- {
		if v&1 != 0 {
			b.b[k/8] |= 0x80 >> (k % 8)
		} else {
			b.b[k/8] &^= 0x80 >> (k % 8)
		}
		v >>= 1
	}
	return nil
}

// Encode returns the encodedList form: the bitstring GZIP-compressed,
// then multibase-encoded as base64url without padding (prefix 'u'). The
// output is deterministic: the gzip header carries no time or name, and
// the compression is the shorter of DEFLATE at the default level and
// Huffman-only coding (which wins when over a few percent of bits are
// set). BestCompression would save 10-25% at 1% density and below but
// costs up to 40 times the time in compress/flate.
func (b *Bitstring) Encode() (string, error) {
	var best []byte
	for _, level := range []int{gzip.DefaultCompression, gzip.HuffmanOnly} {
		z, err := compress(b.b, level)
		if err != nil {
			return "", fmt.Errorf("encode status list: %w", err)
		}
		if best == nil || len(z) < len(best) {
			best = z
		}
	}
	return "u" + base64.RawURLEncoding.EncodeToString(best), nil
}

func compress(p []byte, level int) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(p); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// gzipPrefix is how base64url of a gzip member (1f 8b 08) begins.
const gzipPrefix = "H4sI"

// Decode expands an encodedList: multibase base64url ('u' prefix), or,
// for StatusList2021 compatibility, unprefixed base64url, then GZIP. It
// never allocates more than maxBits/8 bytes for the bitstring and fails
// with [ErrTooLarge] (code RANGE_ERROR) as soon as the output would exceed
// it; maxBits <= 0 means [DefaultMaxBits]. Malformed input fails with
// MALFORMED_VALUE_ERROR and an empty list with STATUS_LIST_LENGTH_ERROR.
// Decode does not enforce [MinLength]; [ParseListCredential] does.
func Decode(encoded string, maxBits int) (*Bitstring, error) {
	if maxBits <= 0 {
		maxBits = DefaultMaxBits
	}
	maxBytes := maxBits / 8
	var body string
	switch {
	case strings.HasPrefix(encoded, "u"):
		body = encoded[1:]
	case strings.HasPrefix(encoded, gzipPrefix):
		body = encoded
	case encoded == "":
		return nil, credential.Errorf(credential.MalformedValueError, "encodedList is empty")
	default:
		return nil, credential.Errorf(credential.MalformedValueError, "encodedList is not multibase base64url (prefix 'u')")
	}
	// Deflate expands at most ~1032:1 and stores incompressible data with
	// 5 bytes per 64 KiB, so a compressed form much longer than the bound
	// cannot decompress within it; reject it before decoding.
	if len(body) > 2*maxBytes+1024 {
		return nil, credential.Errorf(credential.RangeError, "encodedList of %d characters: %w", len(encoded), ErrTooLarge)
	}
	if strings.ContainsAny(body, "\r\n") {
		return nil, credential.Errorf(credential.MalformedValueError, "encodedList contains line breaks")
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil {
		return nil, credential.Errorf(credential.MalformedValueError, "encodedList is not base64url without padding: %w", err)
	}
	// The trailer's ISIZE is the last member's size mod 2^32: size the
	// buffer by it when it is plausible (deflate expands at most 1032:1),
	// but trust only the bounded read, as trailers can lie.
	hint := 0
	if len(raw) >= 18 {
		isize := int64(binary.LittleEndian.Uint32(raw[len(raw)-4:]))
		if isize <= int64(maxBytes) && isize <= 1032*int64(len(raw)) {
			hint = int(isize)
		}
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, credential.Errorf(credential.MalformedValueError, "encodedList is not GZIP: %w", err)
	}
	out, err := readBounded(zr, maxBytes, hint)
	if errors.Is(err, ErrTooLarge) {
		return nil, credential.Errorf(credential.RangeError, "decompressed status list over %d bits: %w", maxBits, err)
	}
	if err != nil {
		return nil, credential.Errorf(credential.MalformedValueError, "encodedList is not valid GZIP: %w", err)
	}
	if len(out) == 0 {
		return nil, credential.Errorf(credential.StatusListLengthError, "status list is empty")
	}
	return &Bitstring{b: out}, nil
}

// readBounded reads r to EOF into a buffer that never grows beyond limit
// bytes, failing with ErrTooLarge when r holds more. The buffer starts at
// hint bytes (the expected size, at most limit).
func readBounded(r io.Reader, limit, hint int) ([]byte, error) {
	buf := make([]byte, 0, max(hint, min(limit, 4<<10)))
	for {
		if len(buf) == cap(buf) {
			// Full: grow only if there is more to read.
			var one [1]byte
			if _, err := io.ReadFull(r, one[:]); err == io.EOF {
				return buf, nil
			} else if err != nil {
				return nil, err
			}
			if len(buf) == limit {
				return nil, ErrTooLarge
			}
			grown := make([]byte, len(buf), min(limit, 2*cap(buf)+1))
			copy(grown, buf)
			buf = append(grown, one[0])
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
