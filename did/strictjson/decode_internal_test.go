package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"
)

// jsonCorpus covers the grammar, the strict rules and encoding/json's
// replacement behaviour.
var jsonCorpus = []string{
	`{}`, ` { } `, `{"a":1}`, `{"a":[1,2,{"b":null}],"c":true,"d":false}`,
	`{"n":-0.5e+10,"m":0,"k":12345678901234567890,"e":1E-2}`,
	`{"s":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}`, `{"é":"ü"}`,
	`{"lone":"\ud800"}`, `{"lone2":"\ud800\u0041"}`, `{"rev":"\udc00\ud800"}`, `{"bad":"\xff\xfe"}`,
	`{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `{"a":{"b":1,"b":2}}`, `{"a":[{"b":1},{"b":1}]}`,
	`{"a":` + strings.Repeat("[", 63) + strings.Repeat("]", 63) + `}`,
	`{"a":` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `}`,
	`{"a":1} {"b":2}`, `{"a":1}x`, `{"a":1}]`, `[1]`, `null`, `"s"`, `1`, ``, ` `,
	`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`, `{"a":+1}`, `{"a":tru}`, `{"a":nul}`,
	`{"a" 1}`, `{"a":1,}`, `{,}`, `{"a":[1,]}`, `{"a":"x`, `{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\x01\"}",
	`{a:1}`, `{"a":1`, `{"a":[1`, "{\"a\":\"\t\"}", `{"a":"\u0000"}`, "\ufeff{}",
	`{"a":"x\u00e9y","b":"\ud83d\ude00\ud83d"}`, `{"\ud800\ud800":1}`, `{"a":"\udbff\udfff"}`, `{"a":"\u00"}`,
	`{"a":123456789012345678901234567890e999999999,"b":-0.0E-0}`, `{"a":[[],[[]],{}],"b":[{}]}`,
	`{"a":[1,2,3]x}`, `{"a":[1,2 3]}`, `{"a":[1,{"b":2,"b":3}]}`, `{"a":[1,[2,"\x"]]}`, `{"a":"é\u0301"}`,
	`{"k":"v","K":"v","k\u0000":"v"}`, "{\"a\":\"\xc3\"}", "{\"\xff\":1,\"\xfe\":2}", "{\"\xff\":1,\"\xff\":2}",
	`{"a":` + strings.Repeat(`[1,`, 63) + `1` + strings.Repeat("]", 63) + `}`,
	`{"a":1,"b":2}`, `{"b":1,"a":2}`, `{"a":"x<y"}`, `{"a":"x&y","b":">"}`, `{"a":{"c":1,"b":2}}`, `{"a":[{"y":1,"x":2}]}`,
	`{"a":[],"b":{},"c":null,"d":true,"e":false,"f":-1.5e+3}`, `{"a":1,"a":1}`, `{"":1,"a":2}`, `{"a":"\/"}`,
	`{"ab":1,"a":2}`, `{"a":2,"ab":1}`, `{"A":1,"a":2}`, `{"a": 1}`, `{"a":1} `, `{"a":"abcdefgh<ijklmnop"}`,
}

func TestDecodeObjectMatchesReflection(t *testing.T) {
	for _, in := range jsonCorpus {
		checkDecodeObject(t, []byte(in))
	}
}

func FuzzDecodeObject(f *testing.F) {
	for _, in := range jsonCorpus {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecodeObject(t, b)
	})
}

// objectReflect is the decoder decodeObject replaced: CheckDuplicates,
// then encoding/json by reflection.
func objectReflect(b []byte) (map[string]any, error) {
	if err := CheckDuplicates(b); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, ErrTrailing
	}
	return m, nil
}

// checkDecodeObject holds decodeObject, copying and keeping, to
// objectReflect (the same acceptance, the same value, and the same
// sentinel when strictjson names one) and to refDecodeObject, the
// decoder it replaced (the same value and the same error text).
func checkDecodeObject(t *testing.T, b []byte) {
	t.Helper()
	want, wantErr := objectReflect(b)
	ref, refErr := refDecodeObject(b)
	for _, keep := range []bool{false, true} {
		got, err := decodeObject(string(b), keep)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("%q (keep %v): decodeObject error %v, strictjson error %v", b, keep, err, wantErr)
		}
		if (err == nil) != (refErr == nil) || err != nil && err.Error() != refErr.Error() {
			t.Fatalf("%q (keep %v): decodeObject error %v, the byte decoder's %v", b, keep, err, refErr)
		}
		if err != nil {
			for _, sentinel := range []error{ErrDuplicate, ErrTooDeep, ErrTrailing} {
				if errors.Is(wantErr, sentinel) && !errors.Is(err, sentinel) && utf8.Valid(b) {
					t.Fatalf("%q: decodeObject error %v, want %v", b, err, sentinel)
				}
				if errors.Is(refErr, sentinel) != errors.Is(err, sentinel) {
					t.Fatalf("%q: decodeObject error %v, the byte decoder's %v", b, err, refErr)
				}
			}
			continue
		}
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(got, ref) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Fatalf("%q (keep %v): decodeObject = %s, strictjson = %s", b, keep, g, w)
		}
	}
	checkMarshaled(t, b)
}

// checkMarshaled holds the marshaled report of decodeObjectMarshaled to
// encoding/json: when it says so, Marshal writes the input for the
// result; and when Marshal does for an ASCII input without escapes, it
// says so.
func checkMarshaled(t *testing.T, b []byte) {
	t.Helper()
	m, marshaled, err := decodeObjectMarshaled(string(b), true)
	if err != nil {
		return
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("%q: Marshal: %v", b, err)
	}
	same := bytes.Equal(out, b)
	if marshaled && !same {
		t.Fatalf("%q: reported as Marshal's text, which is %s", b, out)
	}
	plain := true // ASCII without escapes
	for _, c := range b {
		plain = plain && c < utf8.RuneSelf && c != '\\'
	}
	if plain && same && !marshaled {
		t.Fatalf("%q: Marshal's text, reported as not", b)
	}
}

// TestObjectCopies checks that Object's result holds no byte of its
// input (the caller may reuse it) and that ObjectString's strings are
// the input's own.
func TestObjectCopies(t *testing.T) {
	b := []byte(`{"name":"value","n":12,"a":["x",{"k":"y"}]}`)
	m, err := Object(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"name": "value", "n": json.Number("12"), "a": []any{"x", map[string]any{"k": "y"}}}
	for i := range b {
		b[i] = 'z'
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("Object's result changed with its input: %v", m)
	}
	in := `{"name":"value","n":12}`
	m, err = ObjectString(in, 0)
	if err != nil {
		t.Fatal(err)
	}
	inside := func(s string) bool {
		p, lo := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(in)))
		return lo <= p && p < lo+uintptr(len(in))
	}
	for k, v := range m {
		if !inside(k) {
			t.Errorf("ObjectString: member name %q is a copy", k)
		}
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case json.Number:
			s = string(x)
		}
		if !inside(s) {
			t.Errorf("ObjectString: %q is a copy", s)
		}
	}
}

// TestArrayCapacity checks that decoded arrays are allocated at their
// length: appending to one never writes into another's elements.
func TestArrayCapacity(t *testing.T) {
	m, err := ObjectString(`{"a":[1,[2,3,[4]],5,6,7],"b":[]}`, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []any{m["a"], m["a"].([]any)[1], m["b"]} {
		if s := a.([]any); len(s) != cap(s) || s == nil {
			t.Errorf("array %v: len %d, cap %d", s, len(s), cap(s))
		}
	}
}

// TestSpecial8 checks the word test of the string fast path against the
// byte test, for every byte at every place of a word of plain bytes and
// beside every other byte.
func TestSpecial8(t *testing.T) {
	special := func(c byte) bool {
		return c == '"' || c == '\\' || c < 0x20 || c >= utf8.RuneSelf || c == '<' || c == '>' || c == '&'
	}
	for c := range 256 {
		for other := range 256 {
			for i := range 8 {
				w := []byte("aaaaaaaa")
				w[i], w[(i+1)%8] = byte(c), byte(other)
				want := special(byte(c)) || special(byte(other))
				if got := special8(load64(string(w), 0)); got != want {
					t.Fatalf("%q: special8 = %v, want %v", w, got, want)
				}
			}
		}
	}
}
