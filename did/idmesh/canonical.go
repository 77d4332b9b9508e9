package idmesh

import (
	"bytes"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gowebpki/jcs"

	"github.com/idmesh/idmesh/did/strictjson"
)

// This file holds the one-scan checks that let Decode skip work for the
// operations a node sees almost always: payloads already in their RFC
// 8785 canonical form, as Admit requires of every new operation. Each
// function is conservative: it answers "yes" only where the long way
// (strictjson.CheckDuplicates, jcs.Transform, encoding/json and subsumed)
// gives the same answer, and "not shown" otherwise, and Decode then takes
// the long way. So no input is judged differently; FuzzDecodeFast holds
// the two ways to the same results.

// maxScanDepth bounds the nesting the fast scanners follow; deeper input
// takes the long way (which refuses beyond strictjson.MaxDepth anyway).
// Operations nest about 5 deep. The bound is low because several scans
// skip a member's value and then walk it again a level down, work that
// grows with size times depth: a 64 KiB @context nested 60 deep cost the
// fast way 5.3 ms at a bound of 128, against 2.8 ms the long way (review
// of stop 24); at 16 such input goes the long way at once.
const maxScanDepth = 16

// isCanonical reports whether b is one JSON object in RFC 8785 canonical
// form (the bytes jcs.Transform returns for it unchanged) whose objects
// have no repeated member name and that nests at most strictjson.MaxDepth
// deep: then jcs.Transform(b) is b and strictjson.CheckDuplicates(b)
// accepts it. One scan, no allocation for ASCII member names. false means
// only that this was not shown.
func isCanonical(b []byte) bool {
	if len(b) == 0 || b[0] != '{' {
		return false
	}
	s := canonScanner{b: b}
	return s.value() && s.i == len(b)
}

// canonScanner checks canonical form; i is the read position.
type canonScanner struct {
	b     []byte
	i     int
	depth int
}

func (s *canonScanner) value() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '"':
		_, _, ok := s.str()
		return ok
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	}
	return false
}

// atEnd reports whether the token that ended at s.i is followed by a
// structural character or the end, as jcs delimits literals and numbers.
func (s *canonScanner) atEnd() bool {
	if s.i == len(s.b) {
		return true
	}
	c := s.b[s.i]
	return c == ',' || c == ']' || c == '}'
}

func (s *canonScanner) literal(lit string) bool {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		return false
	}
	s.i += len(lit)
	return s.atEnd()
}

// number accepts a JSON number that jcs writes back unchanged: the RFC
// 8259 grammar, in range, and already in the ECMAScript form
// (jcs.NumberToJSON).
func (s *canonScanner) number() bool {
	start := s.i
	for s.i < len(s.b) && isNumberByte(s.b[s.i]) {
		s.i++
	}
	tok := s.b[start:s.i]
	if !s.atEnd() || !strictjson.IsNumber(tok) {
		return false
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil {
		return false
	}
	out, err := jcs.NumberToJSON(f)
	return err == nil && out == string(tok)
}

func isNumberByte(c byte) bool {
	return '0' <= c && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// str checks the canonical string at s.i and returns the span of its
// content (without quotes) and whether that content is plain: ASCII with
// no escape, so that it compares bytewise as jcs compares member names.
func (s *canonScanner) str() (content []byte, plain, ok bool) {
	s.i++ // '"'
	start := s.i
	plain = true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			content = s.b[start:s.i]
			s.i++
			return content, plain, true
		case c < 0x20:
			return nil, false, false
		case c == '\\':
			plain = false
			if s.i+1 >= len(s.b) {
				return nil, false, false
			}
			switch s.b[s.i+1] {
			case '"', '\\', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				// Only the control characters without a short escape.
				if s.i+6 > len(s.b) {
					return nil, false, false
				}
				u := s.b[s.i+2 : s.i+6]
				v, ok := lowerHex(u)
				if !ok || u[0] != '0' || u[1] != '0' || v >= 0x20 || v == '\b' || v == '\f' || v == '\n' || v == '\r' || v == '\t' {
					return nil, false, false
				}
				s.i += 6
			default:
				return nil, false, false
			}
		case c >= utf8.RuneSelf:
			plain = false
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size <= 1 {
				return nil, false, false
			}
			s.i += size
		default:
			s.i++
		}
	}
	return nil, false, false
}

// lowerHex decodes four lowercase hex digits.
func lowerHex(u []byte) (rune, bool) {
	var v rune
	for _, c := range u {
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | rune(c-'a'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

func (s *canonScanner) enter() bool {
	s.depth++
	s.i++ // '{' or '['
	return s.depth <= strictjson.MaxDepth
}

func (s *canonScanner) array() bool {
	if !s.enter() {
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		s.depth--
		return true
	}
	for {
		if !s.value() || s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

func (s *canonScanner) object() bool {
	if !s.enter() {
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		s.depth--
		return true
	}
	var prev []byte
	prevPlain, first := false, true
	for {
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return false
		}
		name, plain, ok := s.str()
		if !ok {
			return false
		}
		// Members in strictly increasing order of their names' UTF-16
		// code units: sorted as jcs sorts them, and none repeated.
		if !first && compareNames(prev, prevPlain, name, plain) >= 0 {
			return false
		}
		prev, prevPlain, first = name, plain, false
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		if !s.value() || s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// compareNames compares two canonical member names (string contents
// without quotes) by the UTF-16 code units of their values, as RFC 8785
// sorts them. Plain names compare bytewise, which is the same order.
func compareNames(a []byte, aPlain bool, b []byte, bPlain bool) int {
	if aPlain && bPlain {
		return bytes.Compare(a, b)
	}
	ua, ub := utf16Units(a), utf16Units(b)
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			return int(ua[i]) - int(ub[i])
		}
	}
	return len(ua) - len(ub)
}

// utf16Units returns the UTF-16 code units of a canonical string's value
// (its content holds only the escapes str accepts, and valid UTF-8).
func utf16Units(content []byte) []uint16 {
	out := make([]uint16, 0, len(content))
	for i := 0; i < len(content); {
		c := content[i]
		switch {
		case c == '\\':
			switch content[i+1] {
			case 'u':
				v, _ := lowerHex(content[i+2 : i+6])
				out = append(out, uint16(v))
				i += 6
				continue
			default: // a one-character escape (the scan checked it)
				ch, _ := simpleEscape(content[i+1])
				out = append(out, uint16(ch))
			}
			i += 2
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(content[i:])
			if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
				out = append(out, uint16(r1), uint16(r2))
			} else {
				out = append(out, uint16(r))
			}
			i += size
		default:
			out = append(out, uint16(c))
			i++
		}
	}
	return out
}

// fastDecoder decodes JSON as encoding/json decodes it into an any
// (map[string]any, []any, string, float64, bool, nil), in one pass, for
// the values of the operation the model keeps as any (@context entries,
// publicKeyJwk). A method's ok is false where it would not be sure to
// give encoding/json's value: a repeated member name, a \u escape of a
// surrogate, invalid UTF-8, a number out of range, nesting beyond
// maxScanDepth, or anything that is not JSON; the caller then uses
// encoding/json.
type fastDecoder struct {
	b     []byte
	i     int
	depth int
}

func (d *fastDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *fastDecoder) value() (any, bool) {
	if d.i >= len(d.b) {
		return nil, false
	}
	switch c := d.b[d.i]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		s, ok := d.str()
		return s, ok
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		start := d.i
		for d.i < len(d.b) && isNumberByte(d.b[d.i]) {
			d.i++
		}
		tok := d.b[start:d.i]
		if !strictjson.IsNumber(tok) {
			return nil, false
		}
		f, err := strconv.ParseFloat(string(tok), 64)
		return f, err == nil
	}
	return nil, false
}

func (d *fastDecoder) literal(lit string) bool {
	if !bytes.HasPrefix(d.b[d.i:], []byte(lit)) {
		return false
	}
	d.i += len(lit)
	return true
}

// str decodes the string at d.i. Strings without escapes, the usual
// case, cost one allocation.
func (d *fastDecoder) str() (string, bool) {
	d.i++ // '"'
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := string(d.b[start:d.i])
			d.i++
			return s, true
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(d.b[d.i:])
			if r == utf8.RuneError && size <= 1 {
				return "", false
			}
			d.i += size
		default:
			d.i++
		}
	}
	return "", false
}

// escaped decodes the rest of a string with escapes; start is the first
// byte of its content, d.i the first backslash.
func (d *fastDecoder) escaped(start int) (string, bool) {
	out := append(make([]byte, 0, d.i-start+16), d.b[start:d.i]...)
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return string(out), true
		case c < 0x20:
			return "", false
		case c == '\\':
			if d.i+1 >= len(d.b) {
				return "", false
			}
			switch e := d.b[d.i+1]; e {
			case 'u':
				if d.i+6 > len(d.b) {
					return "", false
				}
				v, err := strconv.ParseUint(string(d.b[d.i+2:d.i+6]), 16, 16)
				if err != nil || utf16.IsSurrogate(rune(v)) {
					return "", false
				}
				out = utf8.AppendRune(out, rune(v))
				d.i += 6
				continue
			default:
				ch, ok := simpleEscape(e)
				if !ok {
					return "", false
				}
				out = append(out, ch)
			}
			d.i += 2
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(d.b[d.i:])
			if r == utf8.RuneError && size <= 1 {
				return "", false
			}
			out = append(out, d.b[d.i:d.i+size]...)
			d.i += size
		default:
			out = append(out, c)
			d.i++
		}
	}
	return "", false
}

func (d *fastDecoder) enter() bool {
	d.depth++
	d.i++
	d.space()
	return d.depth <= maxScanDepth
}

func (d *fastDecoder) array() (any, bool) {
	if !d.enter() {
		return nil, false
	}
	out := []any{}
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		d.depth--
		return out, true
	}
	for {
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		out = append(out, v)
		d.space()
		if d.i >= len(d.b) {
			return nil, false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.space()
		case ']':
			d.i++
			d.depth--
			return out, true
		default:
			return nil, false
		}
	}
}

func (d *fastDecoder) object() (any, bool) {
	if !d.enter() {
		return nil, false
	}
	out := map[string]any{}
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		d.depth--
		return out, true
	}
	for {
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return nil, false
		}
		name, ok := d.str()
		if !ok {
			return nil, false
		}
		if _, dup := out[name]; dup {
			return nil, false
		}
		d.space()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return nil, false
		}
		d.i++
		d.space()
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		out[name] = v
		d.space()
		if d.i >= len(d.b) {
			return nil, false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.space()
		case '}':
			d.i++
			d.depth--
			return out, true
		default:
			return nil, false
		}
	}
}

// canonicalJSON returns jcs.Transform(b) for b as encoding/json writes
// values (compact, valid UTF-8): members sorted by the UTF-16 code units
// of their names, strings and numbers rewritten in RFC 8785 form, in one
// pass with few allocations. Anything else (white space, repeated
// names, a \u escape of a surrogate, ...) goes to jcs.Transform, so the
// result and the error are always jcs's.
func canonicalJSON(b []byte) ([]byte, error) {
	if utf8.Valid(b) {
		c := canonWriter{out: make([]byte, 0, len(b)), members: make([]canonMember, 0, 16)}
		if end, ok := c.value(b, 0, 0); ok && end == len(b) {
			return c.out, nil
		}
	}
	return jcs.Transform(b)
}

// canonWriter writes compact JSON in canonical form; members is a stack
// that the objects being written borrow from.
type canonWriter struct {
	out     []byte
	members []canonMember
}

// canonMember is one member of an object: its name as it stands in the
// input (quotes included), whether it is plain (ASCII without escapes:
// it sorts bytewise), else its UTF-16 code units, and its value.
type canonMember struct {
	quoted []byte
	plain  bool
	units  []uint16
	val    []byte
}

// value writes the compact JSON value at b[i] and returns its end.
func (c *canonWriter) value(b []byte, i, depth int) (int, bool) {
	if i >= len(b) || depth > maxScanDepth {
		return 0, false
	}
	switch ch := b[i]; {
	case ch == '"':
		end, ok := skipRawString(b, i)
		if !ok {
			return 0, false
		}
		return end, c.str(b[i:end])
	case ch == '{':
		return c.object(b, i, depth)
	case ch == '[':
		c.out = append(c.out, '[')
		i++
		if i < len(b) && b[i] == ']' {
			c.out = append(c.out, ']')
			return i + 1, true
		}
		for {
			end, ok := c.value(b, i, depth+1)
			if !ok || end >= len(b) {
				return 0, false
			}
			switch b[end] {
			case ',':
				c.out = append(c.out, ',')
				i = end + 1
			case ']':
				c.out = append(c.out, ']')
				return end + 1, true
			default:
				return 0, false
			}
		}
	case ch == 't' || ch == 'f' || ch == 'n':
		lit := "null"
		switch ch {
		case 't':
			lit = "true"
		case 'f':
			lit = "false"
		}
		end, ok := skipLiteral(b, i, lit)
		if ok {
			c.out = append(c.out, lit...)
		}
		return end, ok
	case ch == '-' || '0' <= ch && ch <= '9':
		start := i
		for i < len(b) && isNumberByte(b[i]) {
			i++
		}
		tok := b[start:i]
		if !strictjson.IsNumber(tok) {
			return 0, false
		}
		f, err := strconv.ParseFloat(string(tok), 64)
		if err != nil {
			return 0, false
		}
		s, err := jcs.NumberToJSON(f)
		if err != nil {
			return 0, false
		}
		c.out = append(c.out, s...)
		return i, true
	}
	return 0, false
}

// str writes the JSON string s (quotes included, escapes checked by
// skipRawString) in canonical form.
func (c *canonWriter) str(s []byte) bool {
	content := s[1 : len(s)-1]
	if bytes.IndexByte(content, '\\') < 0 {
		c.out = append(c.out, s...) // no escape, no control character
		return true
	}
	v, ok := unquoteRaw(s)
	if !ok {
		return false
	}
	c.out = appendCanonicalString(c.out, v)
	return true
}

// appendCanonicalString appends v as RFC 8785 writes a string.
func appendCanonicalString(out []byte, v string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	for i := 0; i < len(v); i++ {
		switch ch := v[i]; ch {
		case '\\', '"':
			out = append(out, '\\', ch)
		case '\b':
			out = append(out, '\\', 'b')
		case '\f':
			out = append(out, '\\', 'f')
		case '\n':
			out = append(out, '\\', 'n')
		case '\r':
			out = append(out, '\\', 'r')
		case '\t':
			out = append(out, '\\', 't')
		default:
			if ch < 0x20 {
				out = append(out, '\\', 'u', '0', '0', hex[ch>>4], hex[ch&0xf])
			} else {
				out = append(out, ch)
			}
		}
	}
	return append(out, '"')
}

// object writes the object at b[i] with its members in canonical order.
func (c *canonWriter) object(b []byte, i, depth int) (int, bool) {
	base := len(c.members)
	defer func() { c.members = c.members[:base] }()
	i++
	end := i + 1
	if i >= len(b) || b[i] != '}' {
		for {
			nend, ok := skipRawString(b, i)
			if !ok || nend >= len(b) || b[nend] != ':' {
				return 0, false
			}
			m := canonMember{quoted: b[i:nend], plain: true}
			for _, ch := range m.quoted[1 : len(m.quoted)-1] {
				if ch == '\\' || ch >= utf8.RuneSelf {
					m.plain = false
					break
				}
			}
			if !m.plain {
				name, ok := unquoteRaw(m.quoted)
				if !ok {
					return 0, false
				}
				m.units = utf16.Encode([]rune(name))
			}
			vend, ok := skipRawValue(b, nend+1, depth+1)
			if !ok || vend >= len(b) {
				return 0, false
			}
			m.val = b[nend+1 : vend]
			c.members = append(c.members, m)
			if b[vend] == '}' {
				end = vend + 1
				break
			}
			if b[vend] != ',' {
				return 0, false
			}
			i = vend + 1
		}
	}
	ms := c.members[base:]
	slices.SortFunc(ms, compareMembers)
	c.out = append(c.out, '{')
	for k := range ms {
		if k > 0 {
			if compareMembers(ms[k-1], ms[k]) == 0 {
				return 0, false // a repeated name: jcs reports it
			}
			c.out = append(c.out, ',')
		}
		if ms[k].plain {
			c.out = append(c.out, ms[k].quoted...)
		} else if !c.str(ms[k].quoted) {
			return 0, false
		}
		c.out = append(c.out, ':')
		if vend, ok := c.value(ms[k].val, 0, depth+1); !ok || vend != len(ms[k].val) {
			return 0, false
		}
	}
	c.out = append(c.out, '}')
	return end, true
}

// compareMembers orders members by the UTF-16 code units of their names.
func compareMembers(x, y canonMember) int {
	if x.plain && y.plain {
		return bytes.Compare(x.quoted[1:len(x.quoted)-1], y.quoted[1:len(y.quoted)-1])
	}
	xu, yu := x.units, y.units
	if x.plain {
		xu = asciiUnits(x.quoted)
	}
	if y.plain {
		yu = asciiUnits(y.quoted)
	}
	for i := 0; i < len(xu) && i < len(yu); i++ {
		if xu[i] != yu[i] {
			return int(xu[i]) - int(yu[i])
		}
	}
	return len(xu) - len(yu)
}

// asciiUnits returns the code units of a plain quoted name.
func asciiUnits(quoted []byte) []uint16 {
	out := make([]uint16, len(quoted)-2)
	for i, ch := range quoted[1 : len(quoted)-1] {
		out[i] = uint16(ch)
	}
	return out
}

// simpleEscape returns the byte a one-character JSON escape \e stands
// for (RFC 8259 section 7), and false for any other e.
func simpleEscape(e byte) (byte, bool) {
	switch e {
	case '"', '\\', '/':
		return e, true
	case 'b':
		return '\b', true
	case 'f':
		return '\f', true
	case 'n':
		return '\n', true
	case 'r':
		return '\r', true
	case 't':
		return '\t', true
	}
	return 0, false
}
