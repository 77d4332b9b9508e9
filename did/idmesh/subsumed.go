package idmesh

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	"github.com/idmesh/idmesh/did/strictjson"
)

// keptAsSent reports whether subsumed would find every member and value
// of sent (the canonical operation, isCanonical) kept in kept (the
// operation as the model encodes it, json.Marshal), comparing the two
// texts without decoding them into trees: the same rules as subsumed on
// what encoding/json decodes from each, in one pass over each and with an
// allocation per object or array rather than per value. false means
// "not shown": the caller then decodes both and runs subsumed, which
// gives the answer and its reason.
func keptAsSent(sent, kept []byte) bool {
	if !utf8.Valid(kept) {
		return false
	}
	c := rawComparer{members: make([]rawMember, 0, 32), elems: make([][]byte, 0, 32)}
	return c.subsumed(sent, kept, 0)
}

// rawComparer compares compact JSON texts; its slices are stacks that
// the objects and arrays being compared borrow from, so that a
// comparison allocates little.
type rawComparer struct {
	members []rawMember
	elems   [][]byte
}

// subsumed is subsumed on two JSON values given as compact text (no white
// space): sent is canonical, kept is valid JSON as encoding/json writes
// it.
func (c *rawComparer) subsumed(sent, kept []byte, depth int) bool {
	if depth > maxScanDepth || len(sent) == 0 || len(kept) == 0 {
		return false
	}
	switch sent[0] {
	case '{':
		if kept[0] != '{' {
			return false
		}
		base := len(c.members)
		defer func() { c.members = c.members[:base] }()
		var ok bool
		if c.members, ok = appendMembers(c.members, sent); !ok {
			return false
		}
		mid := len(c.members)
		if c.members, ok = appendMembers(c.members, kept); !ok {
			return false
		}
		sm, km := c.members[base:mid], c.members[mid:]
		idx, ok := newMemberIndex(km)
		if !ok {
			return false
		}
		for _, m := range sm {
			j, ok := idx.find(km, m.name)
			if !ok {
				return false
			}
			if j < 0 {
				if !rawEmpty(m.val) {
					return false
				}
				continue
			}
			if !c.subsumed(m.val, km[j].val, depth+1) {
				return false
			}
		}
		return true
	case '[':
		base := len(c.elems)
		defer func() { c.elems = c.elems[:base] }()
		var ok bool
		if c.elems, ok = appendElements(c.elems, sent); !ok {
			return false
		}
		mid := len(c.elems)
		se := c.elems[base:mid]
		if kept[0] != '[' {
			// A one-element array the model writes as its element.
			return len(se) == 1 && c.subsumed(se[0], kept, depth+1)
		}
		if c.elems, ok = appendElements(c.elems, kept); !ok {
			return false
		}
		se, ke := c.elems[base:mid], c.elems[mid:]
		if len(ke) != len(se) {
			return false
		}
		for i := range se {
			if !c.subsumed(se[i], ke[i], depth+1) {
				return false
			}
		}
		return true
	case '"':
		if kept[0] == '[' {
			// A lone string the model writes as a one-element array.
			base := len(c.elems)
			defer func() { c.elems = c.elems[:base] }()
			var ok bool
			if c.elems, ok = appendElements(c.elems, kept); !ok {
				return false
			}
			ke := c.elems[base:]
			return len(ke) == 1 && ke[0][0] == '"' && rawStringsEqual(sent, ke[0])
		}
		return kept[0] == '"' && rawStringsEqual(sent, kept)
	case 't', 'f', 'n':
		return bytes.Equal(sent, kept)
	}
	if !strictjson.IsNumber(sent) || !strictjson.IsNumber(kept) {
		return false
	}
	a, err := strconv.ParseFloat(string(sent), 64)
	if err != nil {
		return false
	}
	b, err := strconv.ParseFloat(string(kept), 64)
	return err == nil && a == b
}

// rawEmpty is isEmpty on compact text: null, [] or {}.
func rawEmpty(v []byte) bool {
	s := string(v)
	return s == "null" || s == "[]" || s == "{}"
}

// rawMember is one member of an object in compact text: its name as it
// stands between the quotes, and its value.
type rawMember struct {
	name []byte
	val  []byte
}

// appendMembers appends the members of the compact object obj to out.
func appendMembers(out []rawMember, obj []byte) ([]rawMember, bool) {
	if len(obj) < 2 || obj[0] != '{' || obj[len(obj)-1] != '}' {
		return out, false
	}
	i := 1
	if obj[i] == '}' {
		return out, i == len(obj)-1
	}
	for {
		end, ok := skipRawString(obj, i)
		if !ok || end >= len(obj) || obj[end] != ':' {
			return nil, false
		}
		name := obj[i+1 : end-1]
		vend, ok := skipRawValue(obj, end+1, 0)
		if !ok || vend >= len(obj) {
			return nil, false
		}
		out = append(out, rawMember{name: name, val: obj[end+1 : vend]})
		switch obj[vend] {
		case ',':
			i = vend + 1
		case '}':
			return out, vend == len(obj)-1
		default:
			return nil, false
		}
	}
}

// appendElements appends the elements of the compact array arr to out.
func appendElements(out [][]byte, arr []byte) ([][]byte, bool) {
	if len(arr) < 2 || arr[0] != '[' || arr[len(arr)-1] != ']' {
		return out, false
	}
	i := 1
	if arr[i] == ']' {
		return out, i == len(arr)-1
	}
	for {
		end, ok := skipRawValue(arr, i, 0)
		if !ok || end >= len(arr) {
			return nil, false
		}
		out = append(out, arr[i:end])
		switch arr[end] {
		case ',':
			i = end + 1
		case ']':
			return out, end == len(arr)-1
		default:
			return nil, false
		}
	}
}

// skipRawString returns the index after the JSON string at b[i], whose
// escapes it checks (a \u escape of a surrogate is not taken: encoding/json
// may replace it, so its value is not sure).
func skipRawString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return 0, false
		case c == '\\':
			if i+1 >= len(b) {
				return 0, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+6 > len(b) {
					return 0, false
				}
				v, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 16)
				if err != nil || 0xd800 <= v && v <= 0xdfff {
					return 0, false
				}
				i += 5
			default:
				return 0, false
			}
		}
	}
	return 0, false
}

// skipRawValue returns the index after the compact JSON value at b[i].
func skipRawValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) || depth > maxScanDepth {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		return skipRawString(b, i)
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i++
		if i < len(b) && b[i] == closer {
			return i + 1, true
		}
		for {
			if c == '{' {
				end, ok := skipRawString(b, i)
				if !ok || end >= len(b) || b[end] != ':' {
					return 0, false
				}
				i = end + 1
			}
			end, ok := skipRawValue(b, i, depth+1)
			if !ok || end >= len(b) {
				return 0, false
			}
			switch b[end] {
			case ',':
				i = end + 1
			case closer:
				return end + 1, true
			default:
				return 0, false
			}
		}
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	case c == '-' || '0' <= c && c <= '9':
		start := i
		for i < len(b) && isNumberByte(b[i]) {
			i++
		}
		return i, strictjson.IsNumber(b[start:i])
	}
	return 0, false
}

func skipLiteral(b []byte, i int, lit string) (int, bool) {
	if !bytes.HasPrefix(b[i:], []byte(lit)) {
		return 0, false
	}
	return i + len(lit), true
}

// rawStringsEqual reports whether two JSON strings (quotes included,
// valid UTF-8, escapes checked by skipRawString) decode to the same
// string.
func rawStringsEqual(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	if bytes.IndexByte(a, '\\') < 0 && bytes.IndexByte(b, '\\') < 0 {
		return false
	}
	da, ok := unquoteRaw(a)
	if !ok {
		return false
	}
	db, ok := unquoteRaw(b)
	return ok && da == db
}

// unquoteRaw decodes a JSON string (quotes included).
func unquoteRaw(s []byte) (string, bool) {
	d := fastDecoder{b: s}
	v, ok := d.str()
	return v, ok && d.i == len(s)
}

// memberIndex finds members of an object by decoded name. Names without
// escapes (the usual case) compare as they stand; an object of more
// than a few members is looked up through a map.
type memberIndex struct {
	byName map[string]int // nil: search linearly
}

// linearMembers is the size up to which an object is searched linearly.
const linearMembers = 16

// newMemberIndex indexes km; ok is false if km repeats a name (where
// encoding/json keeps the last: not taken here).
func newMemberIndex(km []rawMember) (memberIndex, bool) {
	if len(km) <= linearMembers {
		for i := range km {
			for j := range i {
				if eq, ok := namesEqual(km[i].name, km[j].name); !ok || eq {
					return memberIndex{}, false
				}
			}
		}
		return memberIndex{}, true
	}
	byName := make(map[string]int, len(km))
	for i, m := range km {
		n, ok := decodeName(m.name)
		if !ok {
			return memberIndex{}, false
		}
		if _, dup := byName[n]; dup {
			return memberIndex{}, false
		}
		byName[n] = i
	}
	return memberIndex{byName: byName}, true
}

// find returns the index in km of the member named name, -1 for none.
func (x memberIndex) find(km []rawMember, name []byte) (int, bool) {
	if x.byName == nil {
		for j := range km {
			eq, ok := namesEqual(name, km[j].name)
			if !ok {
				return 0, false
			}
			if eq {
				return j, true
			}
		}
		return -1, true
	}
	n, ok := decodeName(name)
	if !ok {
		return 0, false
	}
	if j, found := x.byName[n]; found {
		return j, true
	}
	return -1, true
}

// namesEqual compares two member names as they stand between quotes.
func namesEqual(a, b []byte) (eq, ok bool) {
	if bytes.IndexByte(a, '\\') < 0 && bytes.IndexByte(b, '\\') < 0 {
		return bytes.Equal(a, b), true
	}
	da, ok := decodeName(a)
	if !ok {
		return false, false
	}
	db, ok := decodeName(b)
	return da == db, ok
}

// decodeName decodes a member name as it stands between quotes.
func decodeName(n []byte) (string, bool) {
	if bytes.IndexByte(n, '\\') < 0 {
		return string(n), true
	}
	return unquoteRaw(append(append([]byte{'"'}, n...), '"'))
}
