package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// importRules are the directions imports may not take (docs/design.md):
// the packages matching from must not depend, even indirectly, on any
// idmesh package under a forbidden prefix ("" forbids every one), unless
// it is allowed. With tests, the packages' tests are held to the rule
// too.
var importRules = []struct {
	from      string
	forbidden []string
	allowed   []string
	tests     bool
}{
	// The engine and its simulation stand alone: a pure state machine
	// that knows nothing of the chain it orders.
	{"./node/consensus/...", []string{""}, []string{"node/consensus"}, true},
	{"./credential/...", []string{"registry", "node", "api", "issuer"}, nil, false},
	{"./did/...", []string{"registry", "credential"}, nil, false},
	{"./verifier/...", []string{"api", "node"}, nil, false},
	{"./registry/...", []string{"node", "api"}, []string{"node/consensus"}, false},
	{"./issuer/...", []string{"registry", "node", "api"}, nil, false},
	{"./node/...", []string{"api"}, nil, false},
	{"./api/...", []string{"node/daemon"}, nil, false},
	// The holder's wallet: credentials and DIDs, never the chain, the
	// node, the HTTP API or the issuer and verifier services.
	{"./wallet/...", []string{"registry", "node", "api", "issuer", "verifier"}, nil, true},
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
		out, err := exec.Command("go", "list", "-deps", fmt.Sprintf("-test=%t", r.tests), "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, "../../"+strings.TrimPrefix(r.from, "./")).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", r.from, err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			pkgs := strings.Fields(line)
			from := strings.TrimPrefix(pkgs[0], module)
			if !under(testOf(from), []string{strings.TrimSuffix(strings.TrimPrefix(r.from, "./"), "/...")}) {
				continue // a dependency listed on its own line
			}
			if under(testOf(from), importExempt[r.from]) {
				continue
			}
			for _, dep := range pkgs[1:] {
				rel, ok := strings.CutPrefix(dep, module)
				if !ok || !under(testOf(rel), r.forbidden) || under(testOf(rel), r.allowed) {
					continue
				}
				t.Errorf("%s depends on %s (forbidden: %s must not import %q except %q)", from, rel, r.from, r.forbidden, r.allowed)
			}
		}
	}
}

// testOf returns the package that test package p ("x_test", the external
// tests, or "x.test", the test main) belongs to, or p.
func testOf(p string) string {
	return strings.TrimSuffix(strings.TrimSuffix(p, "_test"), ".test")
}

// under reports whether package path p is one of roots or below one.
func under(p string, roots []string) bool {
	for _, r := range roots {
		if r == "" || p == r || strings.HasPrefix(p, r+"/") {
			return true
		}
	}
	return false
}
