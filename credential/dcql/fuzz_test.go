package dcql_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential/dcql"
)

// FuzzParse feeds Parse arbitrary bytes, seeded with the specification's
// examples: it must never panic, must fail only with ErrInvalidQuery, and
// what it accepts must keep its promises (unique ids, references that
// resolve, paths of strings, non-negative ints and nils, values of
// strings, int64s and bools) and match an empty wallet without error.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["v"]},"claims":[{"id":"x","path":["a",null,0],"values":[1,true,"s"]}],"claim_sets":[["x"]]}],"credential_sets":[{"options":[["a"]],"required":false}]}`))
	f.Add([]byte(`{"credentials":[{"id":"a","format":"ldp_vc","meta":{"type_values":[["A"]]},"trusted_authorities":[{"type":"aki","values":["x"]}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := dcql.Parse(b)
		if err != nil {
			if !errors.Is(err, dcql.ErrInvalidQuery) {
				t.Fatalf("error without ErrInvalidQuery: %v", err)
			}
			return
		}
		ids := map[string]bool{}
		for _, cq := range q.Credentials {
			if ids[cq.ID] || cq.ID == "" {
				t.Fatalf("credential id %q repeated or empty", cq.ID)
			}
			ids[cq.ID] = true
			claimIDs := map[string]bool{}
			for _, c := range cq.Claims {
				if len(c.Path) == 0 || len(c.Path) > dcql.MaxPath {
					t.Fatalf("path %v", c.Path)
				}
				for _, e := range c.Path {
					switch e := e.(type) {
					case string, nil:
					case int:
						if e < 0 {
							t.Fatalf("negative index in %v", c.Path)
						}
					default:
						t.Fatalf("path element %T", e)
					}
				}
				for _, v := range c.Values {
					switch v.(type) {
					case string, int64, bool:
					default:
						t.Fatalf("value %T", v)
					}
				}
				if c.ID != "" {
					claimIDs[c.ID] = true
				}
			}
			for _, opt := range cq.ClaimSets {
				for _, id := range opt {
					if !claimIDs[id] {
						t.Fatalf("claim set names %q", id)
					}
				}
			}
		}
		for _, cs := range q.CredentialSets {
			for _, opt := range cs.Options {
				for _, id := range opt {
					if q.Credential(id) == nil {
						t.Fatalf("credential set names %q", id)
					}
				}
			}
		}
		if _, err := q.Match(nil); err != nil {
			t.Fatalf("Match(nil): %v", err)
		}
	})
}

// FuzzSelect applies arbitrary claims path pointers to arbitrary JSON: no
// panic, errors wrap ErrSelection or ErrLimit, and every selected claim's
// concrete path selects exactly that claim again.
func FuzzSelect(f *testing.F) {
	f.Add(arthur, `["degrees",null,"type"]`)
	f.Add(arthur, `["nationalities",1]`)
	f.Add(arthur, `["address",null]`)
	f.Add(`{"a":[[1,2],[3]]}`, `[null]`)
	f.Add(`{"a":[[1,2],[3]]}`, `["a",null,null]`)
	f.Fuzz(func(t *testing.T, doc, path string) {
		d := json.NewDecoder(strings.NewReader(doc))
		d.UseNumber()
		var root any
		if d.Decode(&root) != nil {
			return
		}
		var raw []any
		if json.Unmarshal([]byte(path), &raw) != nil {
			return
		}
		p := make(dcql.Path, len(raw))
		for i, e := range raw {
			if n, ok := e.(float64); ok {
				if n < 0 || n > 1e6 || n != float64(int(n)) {
					return
				}
				p[i] = int(n)
			} else {
				p[i] = e
			}
		}
		sel, err := dcql.Select(root, p)
		if err != nil {
			if !errors.Is(err, dcql.ErrSelection) && !errors.Is(err, dcql.ErrLimit) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if len(sel) == 0 {
			t.Fatal("no error and nothing selected")
		}
		for _, s := range sel {
			if len(s.Path) != len(p) {
				t.Fatalf("path %v for pointer %v", s.Path, p)
			}
			again, err := dcql.Select(root, s.Path)
			if err != nil || len(again) != 1 || !reflect.DeepEqual(again[0], s) {
				t.Fatalf("concrete path %v: %v, %v", s.Path, again, err)
			}
		}
	})
}

// FuzzMatchCheck holds Match and Check to one meaning: whenever Match
// finds the query satisfied, presenting for each credential query of
// Result.Present its first matching candidate passes Check; and Match and
// Check never panic or fail but with ErrLimit.
func FuzzMatchCheck(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "dc+sd-jwt", "https://credentials.example.com/identity_credential", `{"given_name":"A","family_name":"Doe","postal_code":"90210","address":{"street_address":"S"},"locality":"L","region":"R","date_of_birth":"d"}`)
	}
	f.Add([]byte(`{"credentials":[{"id":"a","format":"ldp_vc","meta":{"type_values":[["T"]]},"claims":[{"id":"x","path":["a",null],"values":[1,true]},{"id":"y","path":["b"]}],"claim_sets":[["x"],["y"]]}]}`), "ldp_vc", "T", `{"a":[2,true],"b":null}`)
	f.Fuzz(func(t *testing.T, query []byte, format, typ, claims string) {
		q, err := dcql.Parse(query)
		if err != nil {
			return
		}
		d := json.NewDecoder(strings.NewReader(claims))
		d.UseNumber()
		var m map[string]any
		if d.Decode(&m) != nil {
			return
		}
		cands := []dcql.Candidate{
			{Format: format, VCT: typ, Types: []string{typ}, HolderBinding: true, Claims: m},
			{Format: format, VCT: typ, Types: []string{typ}, Claims: m},
		}
		res, err := q.Match(cands)
		if err != nil {
			if !errors.Is(err, dcql.ErrLimit) {
				t.Fatalf("Match: %v", err)
			}
			return
		}
		if !res.Satisfied {
			if res.Present != nil {
				t.Fatalf("Present %v without Satisfied", res.Present)
			}
			return
		}
		presented := map[string][]dcql.Candidate{}
		for _, id := range res.Present {
			ms := res.Credentials[id]
			if len(ms) == 0 {
				t.Fatalf("Present names %q without a match", id)
			}
			presented[id] = []dcql.Candidate{cands[ms[0].Candidate]}
		}
		if err := q.Check(presented); err != nil && !errors.Is(err, dcql.ErrLimit) {
			t.Fatalf("Match satisfied, Check refused: %v", err)
		}
	})
}
