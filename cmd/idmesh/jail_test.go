package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/node/home"
	"github.com/idmesh/idmesh/node/privval"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// equivocateKnob turns equivocation on in a binary built with
// `-tags equivocate` (node.EquivocateKnob, which only that build has).
const equivocateKnob = "IDMESH_TEST_EQUIVOCATE"

// TestNormalBinaryCannotEquivocate: the binary every other test runs,
// built without the equivocate tag, does not contain the equivocation
// code (its knob's name is nowhere in it), so no setting can turn it on.
func TestNormalBinaryCannotEquivocate(t *testing.T) {
	b, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(equivocateKnob)) {
		t.Fatalf("the normal binary contains %s", equivocateKnob)
	}
}

// TestEquivocatorJailed is jailing through real processes: four
// validators, one of them (node3) a build with the equivocate tag that
// signs a conflicting prevote next to each of its own. The others turn
// that into evidence, a block records it, and from two heights later
// the set is the other three, as every honest node's /v1/status shows,
// with a log line naming the jailed validator and a metric counting it;
// the three go on committing without it.
func TestEquivocatorJailed(t *testing.T) {
	if testing.Short() {
		t.Skip("processes")
	}
	dir := t.TempDir()
	evil := filepath.Join(dir, "idmesh-equivocate")
	if out, err := exec.Command("go", "build", "-tags", "equivocate", "-o", evil, ".").CombinedOutput(); err != nil {
		t.Fatalf("build with -tags equivocate: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(evil); err != nil || !bytes.Contains(b, []byte(equivocateKnob)) {
		t.Fatalf("the equivocate build lacks %s (%v): the normal binary's check proves nothing", equivocateKnob, err)
	}

	base := freeBase(t, 4)
	mustCLI(t, "", "", "testnet", "init", "--validators", "4", "--dir", dir, "--base-port", fmt.Sprint(base), "--chain-id", registrytest.ChainID)
	homeOf := func(i int) string { return filepath.Join(dir, fmt.Sprintf("node%d", i)) }
	kf, err := privval.LoadKey(home.Dir(homeOf(3)).ValidatorKey())
	if err != nil {
		t.Fatal(err)
	}
	bad := kf.Address
	var honest []*proc
	for i := range 3 {
		honest = append(honest, startNode(t, fmt.Sprintf("node%d", i), "--home", homeOf(i), "--log-level", "warn"))
	}
	equivocator := startBinary(t, evil, []string{equivocateKnob + "=1"}, "node3", "node", "--home", homeOf(3), "--log-level", "warn")

	inSet := func(p *proc) bool {
		for _, v := range p.status(t).Validators {
			if v.Address == bad {
				return true
			}
		}
		return false
	}
	if !inSet(honest[0]) {
		t.Fatal("the equivocator is not a validator to begin with")
	}

	txs, _, err := registrytest.CreateOps(0, 40)
	if err != nil {
		t.Fatal(err)
	}
	commit := func(p *proc, i int) uint64 { return commitOp(t, p, i, txs[i].Payload) }
	// Blocks, until the equivocator is out of the set that decides.
	deadline := time.Now().Add(60 * time.Second)
	i := 0
	for inSet(honest[0]) {
		if time.Now().After(deadline) || i == len(txs)-5 {
			honest[0].mu.Lock()
			defer honest[0].mu.Unlock()
			t.Fatalf("the equivocator was not removed by height %d:\n%s", honest[0].status(t).Height, tail(honest[0].logs.String(), 3000))
		}
		commit(honest[i%3], i)
		i++
	}
	removedAt := honest[0].status(t).Height + 1

	// The other three go on, the removal shows on each of them, and one
	// of them logged it.
	var h uint64
	for j := range 3 {
		h = commit(honest[j], i)
		i++
	}
	jailedLogged := false
	for _, p := range honest {
		p.waitHeight(t, h, 30*time.Second)
		st := p.status(t)
		if len(st.Validators) != 3 || inSet(p) {
			t.Fatalf("%s serves validators %+v, want the three others", p.name, st.Validators)
		}
		if m := get(t, p.url+"/metrics", ""); !regexp.MustCompile(`(?m)^idmesh_validators_jailed_total 1$`).Match(m.body) {
			t.Fatalf("%s /metrics (%d) does not count one jailing", p.name, m.status)
		}
		p.mu.Lock()
		jailedLogged = jailedLogged || strings.Contains(p.logs.String(), "validator jailed") && strings.Contains(p.logs.String(), bad.String())
		p.mu.Unlock()
	}
	if !jailedLogged {
		t.Fatal("no honest node logged the jailing")
	}
	t.Logf("equivocator %s out of the set from height %d; the chain is at %d", bad, removedAt, h)
	for _, p := range honest {
		p.stop()
	}
	equivocator.stop()
}
