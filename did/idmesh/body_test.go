package idmesh_test

import (
	"testing"

	"github.com/idmesh/idmesh/did/idmesh"
)

// TestWithoutMember: removing a top-level member from canonical JSON in
// one pass, wherever it stands, never a nested one or one whose name only
// contains the key, with strings holding quotes, backslashes and
// brackets.
func TestWithoutMember(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a":1,"proof":[{"x":"]"}],"type":"c"}`, `{"a":1,"type":"c"}`},
		{`{"proof":[],"type":"c"}`, `{"type":"c"}`},
		{`{"a":{"proof":1},"proof":"x"}`, `{"a":{"proof":1}}`},
		{`{"proof":{"a":[1,{"b":"}"}]}}`, `{}`},
		{`{"a":"\"proof\":","b":"\\"}`, `{"a":"\"proof\":","b":"\\"}`},
		{`{"proofs":1}`, `{"proofs":1}`},
		{`{}`, `{}`},
		{`{"a":"x\\","proof":[1],"z":null}`, `{"a":"x\\","z":null}`},
	}
	for _, tc := range tests {
		got, ok := idmesh.WithoutMember([]byte(tc.in), `"proof"`)
		if !ok || string(got) != tc.want {
			t.Errorf("%s: got %s (%v), want %s", tc.in, got, ok, tc.want)
		}
	}
	for _, bad := range []string{``, `[]`, `{"a"}`, `{"a":1`, `{"a":"x}`, `{"a":1}x`, `{"a":1]`} {
		if _, ok := idmesh.WithoutMember([]byte(bad), `"proof"`); ok {
			t.Errorf("%q: accepted", bad)
		}
	}
}
