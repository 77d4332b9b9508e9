//go:build mutation

package consensus_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// A mutant is a known-bad variant of the engine: the text old, which
// must occur exactly once in file (so that a mutant cannot drift silently
// from the engine it breaks), replaced by new.
type mutant struct {
	name, file, old, new string
	breaks               string // what the variant breaks, for docs/consensus.md
}

// mutants is the catalogue that `make mutation` runs: each must make the
// randomized simulation fail with the seeds `make test` runs.
var mutants = []mutant{
	{"no-lock-check-22", "rules.go",
		"if e.valid(p.Block) && (e.lockedRound == NilRound || e.lockedID == id) {",
		"if e.valid(p.Block) {",
		"line 22 prevotes a new value while locked on another"},
	{"pol-without-quorum-28", "rules.go",
		"	if !twoThirds(e.prevoteSet(p.POLRound).byBlock[id], e.total) {\n		return false\n	}\n",
		"",
		"line 28 accepts a proof-of-lock round without 2f+1 prevotes in it"},
	{"no-lock-36", "rules.go",
		"		e.lockedRound, e.lockedID = e.round, id\n",
		"",
		"line 36 precommits without locking"},
	{"quorum-at-two-thirds", "votes.go",
		"func twoThirds(power, total int64) bool { return 3*power > 2*total }",
		"func twoThirds(power, total int64) bool { return 3*power >= 2*total }",
		"2f+1 becomes at least two thirds instead of more"},
	{"decide-on-f+1-49", "votes.go",
		"		if !twoThirds(p, total) {\n			continue\n		}\n",
		"		if !oneThird(p, total) {\n			continue\n		}\n",
		"line 49 decides on f+1 precommits"},
	{"no-round-skip-55", "rules.go",
		"return e.rule49() || e.rule55() || e.rule22()",
		"return e.rule49() || e.rule22()",
		"line 55 disabled: a node behind in rounds never jumps ahead"},
	{"restore-forgets-guard", "engine.go",
		"			e.signed[signKey{v.Type, v.Round}] = v\n",
		"",
		"votes replayed from the log are missing from the double-sign guard"},
	{"timeouts-not-growing", "rules.go",
		"at := e.tick + uint64(base) + uint64(delta)*uint64(r)",
		"at := e.tick + uint64(base) + 0*uint64(delta)*uint64(r)",
		"timeouts stay at their base: no round is long enough once delays exceed them"},
	{"valid-value-not-updated", "rules.go",
		"	e.validRound, e.validBlock = e.round, p.Block\n",
		"",
		"line 36 never records the valid value, so locked values are never re-proposed"},
	{"proposer-off-by-one", "rules.go",
		"if e.cfg.Signer != nil && e.proposer(r) == e.self {",
		"if e.cfg.Signer != nil && e.proposer(r+1) == e.self {",
		"the proposer of round r+1 proposes in round r"},
}

var only = flag.String("mutant", "", "run only the mutants named (comma-separated)")

// TestMutants runs the simulation tests (TestSimulation*, not the paper
// tests) once per mutant, with the mutant swapped in through go test
// -overlay, and prints "caught NAME" or "SURVIVED NAME". It fails if a
// mutant survives or no longer applies.
func TestMutants(t *testing.T) {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	start := time.Now()
	for _, m := range mutants {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), m.name) {
			continue
		}
		src, err := os.ReadFile(filepath.Join(dir, m.file))
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(src, []byte(m.old)); n != 1 {
			fmt.Printf("STALE %s\n", m.name)
			t.Errorf("mutant %s: its text occurs %d times in %s, want once: update the catalogue with the engine", m.name, n, m.file)
			continue
		}
		mutated := filepath.Join(tmp, m.name+".go")
		if err := os.WriteFile(mutated, bytes.Replace(src, []byte(m.old), []byte(m.new), 1), 0o600); err != nil {
			t.Fatal(err)
		}
		overlay, _ := json.Marshal(map[string]map[string]string{"Replace": {filepath.Join(dir, m.file): mutated}})
		ov := filepath.Join(tmp, m.name+".json")
		if err := os.WriteFile(ov, overlay, 0o600); err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		cmd := exec.Command("go", "test", "-overlay", ov, "-count=1", "-timeout", "120s", "-run", "^TestSimulation", ".")
		cmd.Dir = dir
		cmd.Env = cleanEnv()
		out, err := cmd.CombinedOutput()
		switch {
		case err == nil:
			fmt.Printf("SURVIVED %s\n", m.name)
			t.Errorf("mutant %s (%s) survived the simulation", m.name, m.breaks)
		case bytes.Contains(out, []byte("[build failed]")) || bytes.Contains(out, []byte("[setup failed]")):
			fmt.Printf("STALE %s\n", m.name)
			t.Errorf("mutant %s does not build:\n%s", m.name, out)
		default:
			fmt.Printf("caught %s (%.0fs: %s)\n", m.name, time.Since(t0).Seconds(), firstFailure(out))
		}
	}
	fmt.Printf("%d mutants in %.0fs\n", len(mutants), time.Since(start).Seconds())
}

// firstFailure returns the name of the first failing test in go test's
// output.
func firstFailure(out []byte) string {
	for _, l := range strings.Split(string(out), "\n") {
		if f, ok := strings.CutPrefix(strings.TrimSpace(l), "--- FAIL: "); ok {
			return strings.Fields(f)[0]
		}
	}
	return "failed"
}

// cleanEnv is the environment without IDMESH_* variables: the seeds are
// those `make test` runs.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "IDMESH_") {
			env = append(env, kv)
		}
	}
	return env
}
