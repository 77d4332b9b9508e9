package strictjson_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/idmesh/idmesh/did/strictjson"
)

func TestIsNumber(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"0", true}, {"-0", true}, {"7", true}, {"123", true}, {"-12.5", true}, {"0.25", true},
		{"1e9", true}, {"1E+9", true}, {"2.5e-3", true}, {"-0.0e0", true},
		{"", false}, {"-", false}, {"01", false}, {"+1", false}, {".5", false}, {"5.", false},
		{"1e", false}, {"1e+", false}, {"0x10", false}, {" 1", false}, {"1 ", false}, {"NaN", false},
		{"Infinity", false}, {"1.2.3", false}, {"--1", false}, {"1_000", false},
	} {
		if got := strictjson.IsNumber(tc.s); got != tc.want {
			t.Errorf("IsNumber(%q) = %v, want %v", tc.s, got, tc.want)
		}
		if got := strictjson.IsNumber([]byte(tc.s)); got != tc.want {
			t.Errorf("IsNumber([]byte(%q)) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

// FuzzIsNumber: IsNumber agrees with encoding/json on what is a number:
// a valid JSON text, without surrounding space, that decodes as a number.
func FuzzIsNumber(f *testing.F) {
	for _, s := range []string{"0", "-1.5e+3", "01", "1e", "-", "1 ", "\"1\"", "[1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := false
		if json.Valid([]byte(s)) && len(bytes.TrimSpace([]byte(s))) == len(s) {
			var v any
			d := json.NewDecoder(bytes.NewReader([]byte(s)))
			d.UseNumber()
			if d.Decode(&v) == nil {
				_, want = v.(json.Number)
			}
		}
		if got := strictjson.IsNumber(s); got != want {
			t.Fatalf("IsNumber(%q) = %v, encoding/json says %v", s, got, want)
		}
	})
}
