package schemas_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/idmesh/idmesh/schemas"
)

// TestTypeMetadata: every schema has a type metadata document with its
// vct, name, display, and a claim entry per subject claim, none for id.
func TestTypeMetadata(t *testing.T) {
	for _, name := range schemas.Names() {
		vct := "https://node.example" + schemas.VCTPath + name
		md, ok := schemas.TypeMetadata(name, vct)
		if !ok {
			t.Fatalf("%s: no metadata", name)
		}
		b, err := json.Marshal(md)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			VCT     string `json:"vct"`
			Name    string `json:"name"`
			Display []struct {
				Locale, Name string
			} `json:"display"`
			Claims []struct {
				Path      []any `json:"path"`
				Display   []struct{ Locale, Label, Description string }
				SD        string `json:"sd"`
				Mandatory bool   `json:"mandatory"`
			} `json:"claims"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		if doc.VCT != vct || doc.Name == "" || len(doc.Display) != 1 || doc.Display[0].Locale != "en" || len(doc.Claims) == 0 {
			t.Fatalf("%s: %s", name, b)
		}
		for _, c := range doc.Claims {
			if len(c.Path) == 0 || c.Path[0] == "id" || c.SD != "allowed" || len(c.Display) != 1 || c.Display[0].Label == "" {
				t.Errorf("%s: claim %+v", name, c)
			}
		}
	}
	md, _ := schemas.TypeMetadata("employment", "v")
	var paths []string
	mandatory := map[string]bool{}
	for _, c := range md["claims"].([]any) {
		m := c.(map[string]any)
		b, _ := json.Marshal(m["path"])
		paths = append(paths, string(b))
		mandatory[string(b)] = m["mandatory"] == true
	}
	for _, want := range []string{`["jobTitle"]`, `["employer"]`, `["employer","name"]`, `["startDate"]`} {
		if !slices.Contains(paths, want) || !mandatory[want] {
			t.Errorf("employment: %s missing or not mandatory in %v", want, paths)
		}
	}
	if mandatory[`["endDate"]`] || mandatory[`["employer","id"]`] {
		t.Errorf("employment: optional claims mandatory: %v", mandatory)
	}
	if _, ok := schemas.TypeMetadata("no-such-schema", "v"); ok {
		t.Error("metadata of an unknown schema")
	}
}
