package dataintegrity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gowebpki/jcs"
)

// canonicalJSON is the JSON Canonicalization Scheme (RFC 8785) of v.
//
// Values as encoding/json decodes them (maps, slices, strings, float64,
// json.Number, bools, nil) are written directly; anything else goes
// through json.Marshal and jcs.Transform. Both paths give the same bytes
// (see TestCanonicalJSON); the direct one skips a serialize-and-reparse.
func canonicalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeJCS(&buf, v, 0); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// maxJCSDepth bounds nesting, as encoding/json does when decoding.
const maxJCSDepth = 10000

func writeJCS(buf *bytes.Buffer, v any, depth int) error {
	if depth > maxJCSDepth {
		return fmt.Errorf("jcs: nesting deeper than %d", maxJCSDepth)
	}
	switch t := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		buf.WriteString(strconv.FormatBool(t))
	case string:
		writeJCSString(buf, t)
	case float64:
		s, err := jcs.NumberToJSON(t)
		if err != nil {
			return fmt.Errorf("jcs: %w", err)
		}
		buf.WriteString(s)
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return fmt.Errorf("jcs: number %q: %w", t, err)
		}
		return writeJCS(buf, f, depth)
	case []any:
		buf.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJCS(buf, e, depth+1); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case map[string]any:
		type member struct {
			key   string
			utf16 []uint16
		}
		members := make([]member, 0, len(t))
		for k := range t {
			members = append(members, member{k, utf16.Encode([]rune(validUTF8(k)))})
		}
		// RFC 8785 section 3.2.3: sort by UTF-16 code units.
		slices.SortFunc(members, func(a, b member) int { return slices.Compare(a.utf16, b.utf16) })
		buf.WriteByte('{')
		for i, m := range members {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJCSString(buf, m.key)
			buf.WriteByte(':')
			if err := writeJCS(buf, t[m.key], depth+1); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("jcs: %w", err)
		}
		c, err := jcs.Transform(b)
		if err != nil {
			return fmt.Errorf("jcs: %w", err)
		}
		buf.Write(c)
	}
	return nil
}

// validUTF8 replaces invalid UTF-8 with U+FFFD, as json.Marshal does.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return string([]rune(s))
}

// writeJCSString writes s as RFC 8785 section 3.2.2.2 serializes
// strings: only '"', '\\' and the C0 controls are escaped, with the short
// forms where JSON has them.
func writeJCSString(buf *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	buf.WriteByte('"')
	for _, r := range validUTF8(s) {
		switch {
		case r == '"':
			buf.WriteString(`\"`)
		case r == '\\':
			buf.WriteString(`\\`)
		case r == '\b':
			buf.WriteString(`\b`)
		case r == '\t':
			buf.WriteString(`\t`)
		case r == '\n':
			buf.WriteString(`\n`)
		case r == '\f':
			buf.WriteString(`\f`)
		case r == '\r':
			buf.WriteString(`\r`)
		case r < 0x20:
			buf.WriteString(`\u00`)
			buf.WriteByte(hex[r>>4])
			buf.WriteByte(hex[r&0xf])
		default:
			buf.WriteRune(r)
		}
	}
	buf.WriteByte('"')
}
