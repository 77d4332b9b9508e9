package tokenstatus

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"io"

	"github.com/idmesh/idmesh/credential"
)

// Status values (the specification's Status Types).
const (
	// Valid is the status of a token that is valid (0x00).
	Valid uint8 = 0
	// Invalid is the status of a revoked token (0x01).
	Invalid uint8 = 1
	// Suspended is the status of a token that is temporarily invalid
	// (0x02).
	Suspended uint8 = 2
)

// Sizes and bounds.
const (
	// Bits is the bits per entry of the lists idmesh issues: enough for
	// VALID, INVALID and SUSPENDED.
	Bits = 2
	// MinLength is the fewest entries a list idmesh publishes has
	// (herd privacy; the Bitstring Status List's bound).
	MinLength = 131072
	// DefaultMaxListBytes bounds a decompressed list when [Decode] is
	// given no bound: 2 MiB (8,388,608 entries of 2 bits).
	DefaultMaxListBytes = 2 << 20
)

var (
	// ErrTooLarge is wrapped by errors for inputs over a bound: a list
	// that decompresses to more than allowed, a token too long.
	ErrTooLarge = errors.New("over the size bound")
	// ErrRange is wrapped by errors for an index or value outside a
	// list.
	ErrRange = errors.New("index or value out of range")
)

// List is a status list of Len entries of Bits bits. Entry i occupies
// bits (i mod 8/Bits)*Bits upward of byte i/(8/Bits), its least
// significant bit first. A List is not safe for concurrent mutation.
type List struct {
	bits int
	b    []byte
}

func validBits(bits int) bool { return bits == 1 || bits == 2 || bits == 4 || bits == 8 }

// New returns a list of n entries of bits bits (1, 2, 4 or 8), all
// Valid. n must be positive and fill whole bytes.
func New(n, bits int) (*List, error) {
	if !validBits(bits) {
		return nil, credential.Errorf(credential.MalformedValueError, "status list bits %d is not 1, 2, 4 or 8", bits)
	}
	per := 8 / bits
	if n <= 0 || n%per != 0 {
		return nil, credential.Errorf(credential.RangeError, "status list of %d entries of %d bits does not fill whole bytes", n, bits)
	}
	return &List{bits: bits, b: make([]byte, n/per)}, nil
}

// Bits returns the bits per entry.
func (l *List) Bits() int { return l.bits }

// Len returns the number of entries.
func (l *List) Len() int { return len(l.b) * (8 / l.bits) }

// Bytes returns a copy of the uncompressed byte array.
func (l *List) Bytes() []byte { return bytes.Clone(l.b) }

// Clone returns an independent copy.
func (l *List) Clone() *List { return &List{bits: l.bits, b: bytes.Clone(l.b)} }

// Equal reports whether l and o have the same bits and entries.
func (l *List) Equal(o *List) bool { return l.bits == o.bits && bytes.Equal(l.b, o.b) }

func (l *List) check(i int) error {
	if i < 0 || i >= l.Len() {
		return credential.Errorf(credential.RangeError, "entry %d of a %d-entry status list: %w", i, l.Len(), ErrRange)
	}
	return nil
}

// Get returns entry i's status.
func (l *List) Get(i int) (uint8, error) {
	if err := l.check(i); err != nil {
		return 0, err
	}
	per := 8 / l.bits
	shift := uint(i%per) * uint(l.bits)
	mask := byte(1<<l.bits - 1)
	return (l.b[i/per] >> shift) & mask, nil
}

// Set sets entry i's status to v, which must fit in Bits bits.
func (l *List) Set(i int, v uint8) error {
	if err := l.check(i); err != nil {
		return err
	}
	mask := byte(1<<l.bits - 1)
	if v&^mask != 0 {
		return credential.Errorf(credential.RangeError, "status %d does not fit in %d bits: %w", v, l.bits, ErrRange)
	}
	per := 8 / l.bits
	shift := uint(i%per) * uint(l.bits)
	l.b[i/per] = l.b[i/per]&^(mask<<shift) | v<<shift
	return nil
}

// Encode returns the list's "lst": the byte array compressed with
// DEFLATE in the ZLIB format at the best compression, base64url without
// padding.
func (l *List) Encode() (string, error) {
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := zw.Write(l.b); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(buf.Bytes()), nil
}

// Object returns the StatusList JSON object: {"bits", "lst"}.
func (l *List) Object() (map[string]any, error) {
	lst, err := l.Encode()
	if err != nil {
		return nil, err
	}
	return map[string]any{"bits": l.bits, "lst": lst}, nil
}

// Decode decodes an "lst" of bits bits per entry: base64url without
// padding, then ZLIB, to at most maxBytes bytes (0 means
// DefaultMaxListBytes) and at least one byte. It reads no more than
// maxBytes+1 decompressed bytes (a small "lst" that inflates to
// gigabytes costs no more than that), and refuses a preset dictionary,
// a bad checksum and data after the ZLIB stream.
func Decode(lst string, bits, maxBytes int) (*List, error) {
	if !validBits(bits) {
		return nil, credential.Errorf(credential.MalformedValueError, "status list bits %d is not 1, 2, 4 or 8", bits)
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxListBytes
	}
	// A compressor grows incompressible data by a few bytes per block (5
	// per 64 KiB stored block, a little more for Go's Huffman-only
	// blocks) and its 6-byte frame: an lst much longer than the bound
	// cannot hold a list within it, and is refused before it is decoded.
	if len(lst) > base64.RawURLEncoding.EncodedLen(maxBytes+maxBytes/1024+1024) {
		return nil, credential.Errorf(credential.LimitExceededError, "status list: lst of %d characters: %w", len(lst), ErrTooLarge)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(lst)
	if err != nil {
		return nil, credential.Errorf(credential.MalformedValueError, "status list: lst is not base64url without padding: %v", err)
	}
	br := bytes.NewReader(raw)
	zr, err := zlib.NewReader(br)
	if err != nil {
		return nil, credential.Errorf(credential.MalformedValueError, "status list: lst is not ZLIB data: %v", err)
	}
	defer zr.Close()
	b, err := io.ReadAll(io.LimitReader(zr, int64(maxBytes)+1))
	switch {
	case err != nil:
		return nil, credential.Errorf(credential.MalformedValueError, "status list: decompress lst: %v", err)
	case len(b) > maxBytes:
		return nil, credential.Errorf(credential.LimitExceededError, "status list: decompresses to more than %d bytes: %w", maxBytes, ErrTooLarge)
	case len(b) == 0:
		return nil, credential.Errorf(credential.MalformedValueError, "status list: lst holds no entries")
	case br.Len() != 0:
		return nil, credential.Errorf(credential.MalformedValueError, "status list: %d bytes after the ZLIB stream", br.Len())
	}
	return &List{bits: bits, b: b}, nil
}
