package registry

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/idmesh/idmesh/node/consensus"
)

// ErrMalformed reports bytes that do not decode as the expected value. It
// is the consensus engine's sentinel, so that errors.Is works the same on
// a block and on the commit inside it.
var ErrMalformed = consensus.ErrMalformed

// MaxBytes bounds any single length-prefixed field a decoder accepts.
const MaxBytes = 16 << 20

// encoder writes the deterministic binary encoding used for everything
// that is hashed: fixed-width big-endian integers and length-prefixed
// byte strings, in a fixed field order. There are no maps, so no map order.
type encoder struct{ b []byte }

func (e *encoder) u8(v uint8)   { e.b = append(e.b, v) }
func (e *encoder) u32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *encoder) u64(v uint64) { e.b = binary.BigEndian.AppendUint64(e.b, v) }
func (e *encoder) i64(v int64)  { e.u64(uint64(v)) }
func (e *encoder) fixed(b []byte) {
	e.b = append(e.b, b...)
}
func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) bytes(b []byte) {
	e.uvarint(uint64(len(b)))
	e.b = append(e.b, b...)
}
func (e *encoder) str(s string) { e.bytes([]byte(s)) }

// decoder reads what encoder wrote. The first error sticks; later reads
// return zero values, so callers check err once at the end.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: short or invalid %s", ErrMalformed, what)
	}
}

func (d *decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.fail(what)
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u8(what string) uint8 {
	b := d.take(1, what)
	if b == nil {
		return 0
	}
	return b[0]
}

func (d *decoder) u32(what string) uint32 {
	b := d.take(4, what)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func (d *decoder) u64(what string) uint64 {
	b := d.take(8, what)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func (d *decoder) i64(what string) int64 { return int64(d.u64(what)) }

func (d *decoder) hash(what string) Hash {
	var h Hash
	copy(h[:], d.take(len(h), what))
	return h
}

func (d *decoder) length(what string, limit int) int {
	if d.err != nil {
		return 0
	}
	n, k := binary.Uvarint(d.b)
	if k <= 0 || n > uint64(limit) || n > math.MaxInt32 {
		d.fail(what + " length")
		return 0
	}
	// Reject non-minimal varints so that every value has one encoding.
	if k != len(binary.AppendUvarint(nil, n)) {
		d.fail(what + " length")
		return 0
	}
	d.b = d.b[k:]
	return int(n)
}

// bytes reads a length-prefixed field into a copy of its own, so that
// what is decoded never shares the caller's buffer.
func (d *decoder) bytes(what string, limit int) []byte {
	b := d.view(what, limit)
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// view reads a length-prefixed field as a part of the decoded bytes,
// without copying: for a field that is decoded further at once.
func (d *decoder) view(what string, limit int) []byte {
	return d.take(d.length(what, limit), what)
}

func (d *decoder) str(what string, limit int) string { return string(d.bytes(what, limit)) }

func (d *decoder) finish(what string) error {
	if d.err != nil {
		return fmt.Errorf("decode %s: %w", what, d.err)
	}
	if len(d.b) != 0 {
		return fmt.Errorf("decode %s: %w: %d trailing bytes", what, ErrMalformed, len(d.b))
	}
	return nil
}
