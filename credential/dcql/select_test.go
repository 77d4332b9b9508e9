package dcql_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/idmesh/idmesh/credential/dcql"
)

// arthur is the credential of OpenID4VP section 7.3.
const arthur = `{
  "name": "Arthur Dent",
  "address": {"street_address": "42 Market Street", "locality": "Milliways", "postal_code": "12345"},
  "degrees": [
    {"type": "Bachelor of Science", "university": "University of Betelgeuse"},
    {"type": "Master of Science", "university": "University of Betelgeuse"}
  ],
  "nationalities": ["British", "Betelgeusian"]
}`

// TestSelectSpecExample runs the claims path pointers of OpenID4VP
// section 7.3 over its credential, and each processing rule of 7.1.1.
func TestSelectSpecExample(t *testing.T) {
	root := mustJSON(t, arthur)
	tests := map[string]struct {
		p    dcql.Path
		want []dcql.Selected
	}{
		"name": {dcql.Path{"name"}, []dcql.Selected{{Path: dcql.Path{"name"}, Value: "Arthur Dent"}}},
		"address": {dcql.Path{"address"}, []dcql.Selected{{Path: dcql.Path{"address"}, Value: map[string]any{
			"street_address": "42 Market Street", "locality": "Milliways", "postal_code": "12345"}}}},
		"street_address": {dcql.Path{"address", "street_address"}, []dcql.Selected{{Path: dcql.Path{"address", "street_address"}, Value: "42 Market Street"}}},
		"degrees types": {dcql.Path{"degrees", nil, "type"}, []dcql.Selected{
			{Path: dcql.Path{"degrees", 0, "type"}, Value: "Bachelor of Science"},
			{Path: dcql.Path{"degrees", 1, "type"}, Value: "Master of Science"}}},
		"second nationality": {dcql.Path{"nationalities", 1}, []dcql.Selected{{Path: dcql.Path{"nationalities", 1}, Value: "Betelgeusian"}}},
		"every nationality": {dcql.Path{"nationalities", nil}, []dcql.Selected{
			{Path: dcql.Path{"nationalities", 0}, Value: "British"},
			{Path: dcql.Path{"nationalities", 1}, Value: "Betelgeusian"}}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := dcql.Select(root, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Select(%s) = %#v, want %#v", tt.p, got, tt.want)
			}
		})
	}
}

// TestSelectDropsMissing: a member missing from some selected objects, or
// an index beyond some selected arrays, drops those from the selection.
func TestSelectDropsMissing(t *testing.T) {
	root := mustJSON(t, `{"a":[{"x":1},{"y":2},{"x":3}],"b":[[1],[1,2],[]]}`)
	got, err := dcql.Select(root, dcql.Path{"a", nil, "x"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !reflect.DeepEqual(got[1].Path, dcql.Path{"a", 2, "x"}) {
		t.Errorf("got %v", got)
	}
	got, err = dcql.Select(root, dcql.Path{"b", nil, 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0].Path, dcql.Path{"b", 1, 1}) {
		t.Errorf("got %v", got)
	}
}

// TestSelectErrors: each way processing aborts (section 7.1.1).
func TestSelectErrors(t *testing.T) {
	root := mustJSON(t, arthur)
	tests := map[string]dcql.Path{
		"missing member":          {"age"},
		"missing nested":          {"address", "country"},
		"index beyond":            {"nationalities", 2},
		"key into a string":       {"name", "first"},
		"key into an array":       {"nationalities", "first"},
		"index into an object":    {"address", 0},
		"null over an object":     {"address", nil},
		"null over a string":      {"name", nil},
		"every element misses":    {"degrees", nil, "year"},
		"empty path":              {},
		"element of a wrong type": {"name", 1.5},
		"empty array wildcard":    {"empty", nil},
	}
	root["empty"] = []any{}
	for name, p := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := dcql.Select(root, p)
			if !errors.Is(err, dcql.ErrSelection) {
				t.Fatalf("Select(%s) = %v, %v; want ErrSelection", p, got, err)
			}
		})
	}
	if _, err := dcql.Select("not an object", dcql.Path{"a"}); !errors.Is(err, dcql.ErrSelection) {
		t.Errorf("a string root: %v", err)
	}
}

// TestSelectBoundsWildcards: nulls over big arrays stop at
// DefaultMaxSelected instead of multiplying.
func TestSelectBoundsWildcards(t *testing.T) {
	row := make([]any, 100)
	for i := range row {
		row[i] = i
	}
	grid := make([]any, 100)
	for i := range grid {
		grid[i] = row
	}
	root := map[string]any{"g": grid}
	if got, err := dcql.Select(root, dcql.Path{"g", nil}); err != nil || len(got) != 100 {
		t.Fatalf("one wildcard: %d, %v", len(got), err)
	}
	if _, err := dcql.Select(root, dcql.Path{"g", nil, nil}); !errors.Is(err, dcql.ErrLimit) {
		t.Fatalf("10,000 claims: %v; want ErrLimit", err)
	}
	big := make([]any, dcql.DefaultMaxSelected+1)
	if _, err := dcql.Select(map[string]any{"b": big}, dcql.Path{"b", nil}); !errors.Is(err, dcql.ErrLimit) {
		t.Fatalf("a big array: %v; want ErrLimit", err)
	}
}
