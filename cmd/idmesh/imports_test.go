package main

import (
	"os/exec"
	"strings"
	"testing"
)

// importRules are the directions imports may not take (docs/design.md):
// the packages matching from must not depend, even indirectly, on any
// idmesh package under a forbidden prefix, unless it is allowed. The
// consensus engine's rule (node/consensus imports nothing of idmesh
// outside itself) joins when the engine owns its types (issue 13).
var importRules = []struct {
	from      string
	forbidden []string
	allowed   []string
}{
	{"./credential/...", []string{"registry", "node", "api", "issuer"}, nil},
	{"./did/...", []string{"registry", "credential"}, nil},
	{"./verifier/...", []string{"api", "node"}, nil},
	{"./registry/...", []string{"node", "api"}, []string{"node/consensus"}},
	{"./issuer/...", []string{"registry", "node", "api"}, nil},
	{"./node/...", []string{"api"}, nil},
	{"./api/...", []string{"node/daemon"}, nil},
}

// importExempt names the packages a rule's from matches that the rule
// does not bind: node/daemon assembles a node with its HTTP API, so it
// is the one package under node/ that imports api. (registry's rule
// keeps it from node/daemon too.)
var importExempt = map[string][]string{
	"./node/...": {"node/daemon"},
}

// TestImportRules fails when a package depends on one it must not.
func TestImportRules(t *testing.T) {
	const module = "github.com/idmesh/idmesh/"
	for _, r := range importRules {
		out, err := exec.Command("go", "list", "-deps", "-test=false", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, "../../"+strings.TrimPrefix(r.from, "./")).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", r.from, err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			pkgs := strings.Fields(line)
			from := strings.TrimPrefix(pkgs[0], module)
			if !strings.HasPrefix(from, strings.TrimSuffix(strings.TrimPrefix(r.from, "./"), "...")) {
				continue // a dependency listed on its own line
			}
			if under(from, importExempt[r.from]) {
				continue
			}
			for _, dep := range pkgs[1:] {
				rel, ok := strings.CutPrefix(dep, module)
				if !ok || !under(rel, r.forbidden) || under(rel, r.allowed) {
					continue
				}
				t.Errorf("%s depends on %s (forbidden: %s must not import %v)", from, rel, r.from, r.forbidden)
			}
		}
	}
}

// under reports whether package path p is one of roots or below one.
func under(p string, roots []string) bool {
	for _, r := range roots {
		if p == r || strings.HasPrefix(p, r+"/") {
			return true
		}
	}
	return false
}
