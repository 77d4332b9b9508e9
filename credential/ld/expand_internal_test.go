package ld

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	jsonld "github.com/piprate/json-gold/ld"
)

// TestExpandAgainstJSONGold: expansion equals json-gold's except where
// json-gold has the bug expand.go fixes (a presentation's embedded
// credentials), and the cached contexts change nothing.
func TestExpandAgainstJSONGold(t *testing.T) {
	files, err := filepath.Glob("testdata/vc-di-eddsa/*.json")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("../testdata/*.json")
	ref, _ := filepath.Glob("testdata/reference/*.json")
	jsonGoldBug := map[string]bool{
		"../testdata/presentation-multiple.json":     true,
		"testdata/reference/presentation-graph.json": true,
	}
	for _, f := range append(append(files, more...), ref...) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		decode := func() any {
			var doc any
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			return doc
		}
		for _, safe := range []bool{true, false} {
			want, wantErr := jsonld.NewJsonLdProcessor().Expand(decode(), newJSONLDOptions(safe))
			got, gotErr := expand(decode(), safe, DefaultMaxContexts)
			again, _ := expand(decode(), safe, DefaultMaxContexts) // from the cache
			if jsonGoldBug[f] {
				if gotErr != nil || reflect.DeepEqual(got, want) {
					t.Errorf("%s safe=%v: err %v, or the same expansion as json-gold's", f, safe, gotErr)
				}
			} else if (wantErr == nil) != (gotErr == nil) {
				t.Errorf("%s safe=%v: err %v, json-gold %v", f, safe, gotErr, wantErr)
				continue
			}
			if !jsonGoldBug[f] && !reflect.DeepEqual(got, want) && (len(got) != 0 || len(want) != 0) {
				t.Errorf("%s safe=%v: expansion differs from json-gold's", f, safe)
			}
			if !reflect.DeepEqual(got, again) {
				t.Errorf("%s safe=%v: cached expansion differs", f, safe)
			}
		}
	}
}
