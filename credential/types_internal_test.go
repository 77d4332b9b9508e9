package credential

import (
	"testing"
)

// TestCheckTypesMatchesTypes: checkTypes, which makes no list, refuses
// exactly what types refuses, with the same error.
func TestCheckTypesMatchesTypes(t *testing.T) {
	for _, v := range []any{
		nil, "", "X", []any{}, []any{"A"}, []any{"A", "B"}, []any{""}, []any{"A", 1}, []any{nil}, 3, true,
		map[string]any{"a": "b"}, []any{[]any{"A"}}, []string{"A"},
	} {
		for _, m := range []map[string]any{{"type": v}, {}} {
			_, want := types(m, "credentialStatus")
			got := checkTypes(m, "credentialStatus")
			if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
				t.Errorf("type %#v: checkTypes %v, types %v", v, got, want)
			}
		}
	}
}
