package strictjson_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/did/strictjson"
)

func TestObject(t *testing.T) {
	deep := strings.Repeat("[", strictjson.MaxDepth+1) + strings.Repeat("]", strictjson.MaxDepth+1)
	tests := []struct {
		name, in string
		max      int
		want     error // nil: accepted; errAny: some error
	}{
		{"object", `{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}`, 0, nil},
		{"duplicate top", `{"a":1,"a":2}`, 0, strictjson.ErrDuplicate},
		{"duplicate nested", `{"a":{"b":1,"b":1}}`, 0, strictjson.ErrDuplicate},
		{"duplicate in array element", `{"a":[{"b":1,"b":1}]}`, 0, strictjson.ErrDuplicate},
		{"same key in siblings", `{"a":[{"b":1},{"b":1}]}`, 0, nil},
		{"too deep", `{"a":` + deep + `}`, 0, strictjson.ErrTooDeep},
		{"too large", `{"a":"xxxxxxxx"}`, 8, strictjson.ErrTooLarge},
		{"trailing", `{"a":1} {"b":2}`, 0, strictjson.ErrTrailing},
		{"array", `[1]`, 0, errAny},
		{"null", `null`, 0, errAny},
		{"syntax", `{"a":}`, 0, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := strictjson.Object([]byte(tt.in), tt.max)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("Object: %v", err)
			case tt.want == nil && m == nil:
				t.Fatal("no object")
			case errors.Is(tt.want, errAny) && err == nil, tt.want != nil && !errors.Is(tt.want, errAny) && !errors.Is(err, tt.want):
				t.Fatalf("Object = %v, want %v", err, tt.want)
			}
		})
	}
}

var errAny = errors.New("any error")

func FuzzObject(f *testing.F) {
	f.Add([]byte(`{"a":[{"b":1}],"c":"d"}`))
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := strictjson.Object(b, 1<<16)
		if err == nil && m == nil {
			t.Fatal("nil object without error")
		}
	})
}
