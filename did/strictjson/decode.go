package strictjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeObject decodes data as one JSON object in a single pass, with the
// rules and the result of strictjson.Object (duplicate member names,
// nesting beyond MaxDepth and trailing data are errors wrapping
// its sentinels; numbers are json.Number; invalid UTF-8 and lone
// surrogates become U+FFFD as encoding/json makes them). strictjson
// tokenizes the input and then decodes it again by reflection, which made
// it more than half of Verify; TestDecodeObjectMatchesStrictJSON and
// FuzzDecodeObject hold the two to the same answers.
//
// With keep, data is immutable (a string the result may keep): names,
// strings without escapes and numbers are substrings of it, not copies.
// Without keep, data may be the caller's bytes seen as a string for the
// call only: every string of the result is a copy.
func decodeObject(data string, keep bool) (map[string]any, error) {
	m, _, err := decodeObjectMarshaled(data, keep)
	return m, err
}

// decodeObjectMarshaled is decodeObject that also reports whether data
// is byte for byte what encoding/json's Marshal writes for the result.
func decodeObjectMarshaled(data string, keep bool) (map[string]any, bool, error) {
	d := jsonDecoder{data: data, keep: keep}
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		return nil, false, errors.New("not a JSON object")
	}
	v, err := d.value()
	if err != nil {
		return nil, false, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return nil, false, ErrTrailing
	}
	return v.(map[string]any), !d.differs, nil
}

type jsonDecoder struct {
	data  string
	pos   int
	depth int
	// keep: the result may hold substrings of data (see decodeObject).
	keep bool
	// elems holds the elements of the arrays being decoded, innermost
	// last, so that each array is allocated once, at its length.
	elems []any
	// differs is set at the first sign that data is not byte for byte
	// what encoding/json's Marshal writes for the result (see
	// ObjectStringMarshaled): space, members out of order, a string
	// Marshal would write otherwise.
	differs bool
}

// sub returns data[i:j], shared with data when the decoder may keep it.
func (d *jsonDecoder) sub(i, j int) string {
	if d.keep {
		return d.data[i:j]
	}
	return strings.Clone(d.data[i:j])
}

func (d *jsonDecoder) syntax(what string) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", d.pos, what)
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
			d.differs = true
		default:
			return
		}
	}
}

// value decodes the value at d.pos; leading space is already skipped.
func (d *jsonDecoder) value() (any, error) {
	if d.pos >= len(d.data) {
		return nil, d.syntax("unexpected end")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		return d.string()
	case c == '-' || '0' <= c && c <= '9':
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, d.syntax("unexpected character")
}

func (d *jsonDecoder) literal(lit string) error {
	if !strings.HasPrefix(d.data[d.pos:], lit) {
		return d.syntax("bad literal")
	}
	d.pos += len(lit)
	return nil
}

func (d *jsonDecoder) enter() error {
	if d.depth >= MaxDepth {
		return ErrTooDeep
	}
	d.depth++
	d.pos++ // '{' or '['
	return nil
}

func (d *jsonDecoder) object() (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	m := map[string]any{}
	var prev string
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return m, nil
	}
	for {
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, d.syntax("expected a member name")
		}
		k, err := d.string()
		if err != nil {
			return nil, err
		}
		if len(m) > 0 && k <= prev {
			d.differs = true // Marshal sorts the names
		}
		prev = k
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("%w %q", ErrDuplicate, k)
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.syntax("expected ':'")
		}
		d.pos++
		d.skipSpace()
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		m[k] = v
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.syntax("unexpected end in object")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
		case '}':
			d.pos++
			d.depth--
			return m, nil
		default:
			return nil, d.syntax("expected ',' or '}'")
		}
	}
}

func (d *jsonDecoder) array() (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		return []any{}, nil
	}
	if d.elems == nil {
		d.elems = make([]any, 0, 8)
	}
	start := len(d.elems)
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		d.elems = append(d.elems, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.syntax("unexpected end in array")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
		case ']':
			d.pos++
			d.depth--
			a := make([]any, len(d.elems)-start)
			copy(a, d.elems[start:])
			clear(d.elems[start:])
			d.elems = d.elems[:start]
			return a, nil
		default:
			return nil, d.syntax("expected ',' or ']'")
		}
	}
}

// number scans an RFC 8259 number and keeps its text.
func (d *jsonDecoder) number() (any, error) {
	start := d.pos
	digits := func() int {
		n := 0
		for d.pos < len(d.data) && '0' <= d.data[d.pos] && d.data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	if d.data[d.pos] == '-' {
		d.pos++
	}
	if d.pos < len(d.data) && d.data[d.pos] == '0' {
		d.pos++
	} else if digits() == 0 {
		return nil, d.syntax("bad number")
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if digits() == 0 {
			return nil, d.syntax("bad fraction")
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			return nil, d.syntax("bad exponent")
		}
	}
	return json.Number(d.sub(start, d.pos)), nil
}

// string decodes the string at d.pos (on its opening quote).
func (d *jsonDecoder) string() (string, error) {
	d.pos++
	start := d.pos
	// Fast path: printable ASCII without escapes, eight bytes at a time
	// while none of them ends it, leaves it or is one Marshal escapes,
	// then byte by byte.
	for d.pos+8 <= len(d.data) && !special8(load64(d.data, d.pos)) {
		d.pos += 8
	}
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c == '"' {
			s := d.sub(start, d.pos)
			d.pos++
			return s, nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		if c == '<' || c == '>' || c == '&' {
			d.differs = true // Marshal escapes them
		}
		d.pos++
	}
	// Escapes and non-ASCII text (which Marshal may write otherwise).
	d.differs = true
	buf := make([]byte, 0, d.pos-start+16)
	buf = append(buf, d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return string(buf), nil
		case c < 0x20:
			return "", d.syntax("control character in string")
		case c == '\\':
			if d.pos+1 >= len(d.data) {
				return "", d.syntax("unexpected end in escape")
			}
			e := d.data[d.pos+1]
			d.pos += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r := d.hex4(d.pos)
				if r < 0 {
					return "", d.syntax("bad \\u escape")
				}
				d.pos += 4
				if utf16.IsSurrogate(r) {
					// As encoding/json: a valid pair is one rune, anything
					// else is U+FFFD and the next escape stands alone.
					r2 := rune(-1)
					if d.pos+1 < len(d.data) && d.data[d.pos] == '\\' && d.data[d.pos+1] == 'u' {
						r2 = d.hex4(d.pos + 2)
					}
					if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
						d.pos += 6
						r = dec
					} else {
						r = unicode.ReplacementChar
					}
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return "", d.syntax("bad escape")
			}
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			d.pos++
		default:
			r, size := utf8.DecodeRuneInString(d.data[d.pos:])
			if r == utf8.RuneError && size == 1 {
				buf = utf8.AppendRune(buf, unicode.ReplacementChar)
			} else {
				buf = append(buf, d.data[d.pos:d.pos+size]...)
			}
			d.pos += size
		}
	}
	return "", d.syntax("unterminated string")
}

// Bytes repeated in each of a word's eight bytes.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// load64 returns the eight bytes of s at i as a little-endian word.
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// special8 reports whether any byte of w ends or leaves the fast path of
// a string: '"', '\\', a control byte (< 0x20) or a non-ASCII byte, or
// is one encoding/json escapes: '<', '>' or '&'. It never misses one (a
// word it reports may hold none: then the byte loop decides).
func special8(w uint64) bool {
	zero := func(x uint64) uint64 { return (x - ones) &^ x & highs } // a byte of x is 0
	return (w&highs | zero(w^('"'*ones)) | zero(w^('\\'*ones)) | (w-0x20*ones)&^w&highs |
		zero(w^('<'*ones)) | zero(w^('>'*ones)) | zero(w^('&'*ones))) != 0
}

// hex4 reads four hex digits at i, or returns -1.
func (d *jsonDecoder) hex4(i int) rune {
	if i+4 > len(d.data) {
		return -1
	}
	var r rune
	for j := i; j < i+4; j++ {
		v := unhex(d.data[j])
		if v < 0 {
			return -1
		}
		r = r<<4 | rune(v)
	}
	return r
}

// unhex is the value of a hex digit, or -1.
func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
