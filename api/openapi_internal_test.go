package api

import (
	"regexp"
	"strings"
	"testing"
)

// TestOpenAPICoversRoutes checks that every route the server registers is
// documented in openapi.yaml with its method.
func TestOpenAPICoversRoutes(t *testing.T) {
	doc := string(OpenAPI)
	paths := map[string]string{} // path -> its block of the document
	re := regexp.MustCompile(`(?m)^  (/\S*):\n`)
	locs := re.FindAllStringSubmatchIndex(doc, -1)
	for i, l := range locs {
		end := len(doc)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		paths[doc[l[2]:l[3]]] = doc[l[1]:end]
	}
	s := &Server{}
	routes := append(s.routes(), route{"GET", "/metrics", "", nil})
	for _, r := range routes {
		block, ok := paths[r.path]
		if !ok {
			t.Errorf("%s %s is not in openapi.yaml", r.method, r.path)
			continue
		}
		if !strings.Contains(block, "    "+strings.ToLower(r.method)+":") {
			t.Errorf("%s %s: openapi.yaml does not document the method", r.method, r.path)
		}
	}
}
