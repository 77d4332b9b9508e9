package dataintegrity_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/gowebpki/jcs"
	"pgregory.net/rapid"

	"github.com/idmesh/idmesh/credential/dataintegrity"
)

// reference is the naive RFC 8785 path: serialize, then canonicalize.
func reference(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return jcs.Transform(buf.Bytes())
}

// jsonValue generates decoded JSON values with awkward strings and numbers.
func jsonValue(depth int) *rapid.Generator[any] {
	str := rapid.OneOf(
		rapid.String(),
		rapid.SampledFrom([]string{"", "\u2028", "\x00\x1f\x7f", "<&>", "\"\\/", "\xff\xfe", "\U0001F600", "é", "\ufeff", "a\tb\nc\rd\be\ff"}),
	)
	num := rapid.OneOf(
		rapid.Float64(),
		rapid.SampledFrom([]float64{0, 1, -1, 1e21, 1e-7, 123456789012345680000, 5e-324, 1.7976931348623157e308, 0.1, 333333333.3333333}),
	)
	leaf := rapid.OneOf(
		rapid.Map(str, func(s string) any { return s }),
		rapid.Map(num, func(f float64) any { return f }),
		rapid.Map(rapid.Bool(), func(b bool) any { return b }),
		rapid.Just[any](nil),
	)
	if depth == 0 {
		return leaf
	}
	return rapid.OneOf(
		leaf,
		rapid.Map(rapid.SliceOfN(jsonValue(depth-1), 0, 4), func(s []any) any { return s }),
		rapid.Map(rapid.MapOfN(str, jsonValue(depth-1), 0, 4), func(m map[string]any) any { return m }),
	)
}

// TestCanonicalJSON checks the direct writer against the naive path.
func TestCanonicalJSON(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := jsonValue(3).Draw(t, "v")
		want, err := reference(v)
		if err != nil {
			return // NaN or infinities: neither path accepts them
		}
		got, err := dataintegrity.CanonicalJSON(v)
		if err != nil {
			t.Fatalf("direct: %v (reference gives %s)", err, want)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("direct %s\nreference %s", got, want)
		}
	})
	// Other Go types take the fallback path.
	got, err := dataintegrity.CanonicalJSON(map[string]any{"b": 1, "a": []int{2, 3}, "c": json.Number("1e2")})
	if err != nil || string(got) != `{"a":[2,3],"b":1,"c":100}` {
		t.Errorf("fallback: %s %v", got, err)
	}
}
