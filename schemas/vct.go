package schemas

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// VCTPath is the path under a node's public URL where the SD-JWT VC type
// metadata of each schema is served: {public-url}/vct/{name} is the vct
// of the SD-JWT VCs of that schema's case.
const VCTPath = "/vct/"

// TypeMetadata derives the SD-JWT VC Type Metadata document
// (draft-ietf-oauth-sd-jwt-vc, "SD-JWT VC Type Metadata") of the schema
// called name, for the type vct:
//
//   - "vct", "name" (the schema's title) and "description";
//   - "display": one entry, locale "en", with the title and description;
//   - "claims": one entry per claim of the schema's credentialSubject
//     (its "id" aside: an SD-JWT VC names its holder by cnf), as a
//     top-level claim of the SD-JWT VC ("path": [claim]), and one per
//     member of an object claim ("path": [claim, member]), sorted by
//     name, each with an
//     "en" display (a label made from the claim's name, and the schema's
//     description of it), "mandatory" for the claims the schema
//     requires, and "sd": "allowed".
//
// The document holds no JSON Schema: the current drafts removed "schema"
// and "schema_uri" from Type Metadata. It reports false when there is
// no schema called name.
func TypeMetadata(name, vct string) (map[string]any, bool) {
	raw, ok := byName[name]
	if !ok {
		return nil, false
	}
	var s jsonSchema
	if err := json.Unmarshal(raw, &s); err != nil {
		panic(fmt.Sprintf("schemas: %s: %v", name, err)) // the files are tested
	}
	subject := s.Properties["credentialSubject"]
	claims := []any{}
	for _, c := range subject.names() {
		if c == "id" {
			continue
		}
		p := subject.Properties[c]
		claims = append(claims, claimMetadata([]any{c}, p, contains(subject.Required, c)))
		obj := p
		if ref, ok := strings.CutPrefix(p.Ref, "#/$defs/"); ok {
			obj = s.Defs[ref]
		}
		for _, m := range obj.names() {
			claims = append(claims, claimMetadata([]any{c, m}, obj.Properties[m], contains(subject.Required, c) && contains(obj.Required, m)))
		}
	}
	display := map[string]any{"locale": "en", "name": s.Title}
	if s.Description != "" {
		display["description"] = s.Description
	}
	return map[string]any{
		"vct":         vct,
		"name":        s.Title,
		"description": s.Description,
		"display":     []any{display},
		"claims":      claims,
	}, true
}

// jsonSchema is what TypeMetadata reads of a schema.
type jsonSchema struct {
	Title       string                `json:"title"`
	Description string                `json:"description"`
	Ref         string                `json:"$ref"`
	Required    []string              `json:"required"`
	Properties  map[string]jsonSchema `json:"properties"`
	Defs        map[string]jsonSchema `json:"$defs"`
}

// names returns the names of s's properties, sorted.
func (s jsonSchema) names() []string {
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func claimMetadata(path []any, p jsonSchema, mandatory bool) map[string]any {
	d := map[string]any{"locale": "en", "label": label(path[len(path)-1].(string))}
	if p.Description != "" {
		d["description"] = p.Description
	}
	m := map[string]any{"path": path, "display": []any{d}, "sd": "allowed"}
	if mandatory {
		m["mandatory"] = true
	}
	return m
}

// label turns a camelCase claim name into words: "jobTitle" → "Job title".
func label(name string) string {
	var b strings.Builder
	for i, r := range name {
		switch {
		case i == 0:
			b.WriteRune(unicode.ToUpper(r))
		case unicode.IsUpper(r):
			b.WriteByte(' ')
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }
