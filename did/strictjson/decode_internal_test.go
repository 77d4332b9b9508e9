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

// checkDecodeObject holds decodeObject to objectReflect: the same
// acceptance, the same value, and the same sentinel when strictjson names
// one.
func checkDecodeObject(t *testing.T, b []byte) {
	t.Helper()
	got, err := decodeObject(b)
	want, wantErr := objectReflect(b)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("%q: decodeObject error %v, strictjson error %v", b, err, wantErr)
	}
	if err != nil {
		for _, sentinel := range []error{ErrDuplicate, ErrTooDeep} {
			if errors.Is(wantErr, sentinel) && !errors.Is(err, sentinel) && utf8.Valid(b) {
				t.Fatalf("%q: decodeObject error %v, want %v", b, err, sentinel)
			}
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Fatalf("%q: decodeObject = %s, strictjson = %s", b, g, w)
	}
}
