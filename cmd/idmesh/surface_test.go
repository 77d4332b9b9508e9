package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/node/home"
	"github.com/idmesh/idmesh/registry"
)

// TestConflictAtBlockTimeIs409: two updates of one DID naming the same
// previous version both pass the mempool's check; the block takes one,
// and the other, submitted with ?wait=, answers 409 conflict (code 3) as
// it would had it been refused on entry.
func TestConflictAtBlockTimeIs409(t *testing.T) {
	// Blocks 2 s apart, not sooner for a quiet mempool: both updates are
	// pending before the block after the create.
	n := startDev(t, filepath.Join(t.TempDir(), "home"), "--block-interval", "2s", "--block-quiet", "0")
	chainID := status(t, n.url).ChainID
	k1, _ := keys.Generate(keys.Ed25519, rand.Reader)
	doc := func(id string, pub keys.PublicKey) *did.Document {
		ref := []did.Relationship{did.Ref(id)}
		return &did.Document{Context: []any{did.ContextV1, did.ContextMultikey},
			VerificationMethod: []did.VerificationMethod{did.NewMultikey(id, "", pub)}, CapabilityInvocation: ref, AssertionMethod: ref}
	}
	encode := func(op *idmesh.Operation) []byte {
		if err := op.Sign(chainID, "#key-1", k1); err != nil {
			t.Fatal(err)
		}
		b, err := op.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	create := &idmesh.Operation{Type: idmesh.Create, Document: doc("#key-1", k1.Public())}
	if r := post(t, n.url+"/v1/operations?wait=20s", encode(create)); r.status != http.StatusOK {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	d, _ := create.SubjectDID()
	v1, _ := create.VersionID()
	var bodies [2][]byte
	var hashes [2]registry.Hash
	for i := range bodies {
		k, _ := keys.Generate(keys.Ed25519, rand.Reader)
		// Each update rotates to a new key, which proves its possession.
		op := &idmesh.Operation{Type: idmesh.Update, DID: d, Previous: v1, Document: doc("#key-2", k.Public())}
		if err := op.Sign(chainID, "#key-2", k); err != nil {
			t.Fatal(err)
		}
		bodies[i] = encode(op)
		tx, err := registry.DIDTx(op)
		if err != nil {
			t.Fatal(err)
		}
		hashes[i] = tx.Hash()
	}
	var results [2]httpResult
	var wg sync.WaitGroup
	for i := range bodies {
		wg.Go(func() { results[i] = post(t, n.url+"/v1/operations?wait=20s", bodies[i]) })
	}
	wg.Wait()
	loser := 1
	if results[0].status != http.StatusOK {
		loser = 0
	}
	if won := results[1-loser]; won.status != http.StatusOK {
		t.Fatalf("no update committed: %d %s; %d %s", results[0].status, results[0].body, results[1].status, results[1].body)
	}
	lost := results[loser]
	var p api.Problem
	if err := json.Unmarshal(lost.body, &p); err != nil || lost.status != http.StatusConflict || lost.contentType != "application/problem+json" ||
		p.Type != api.ProblemConflict || p.Code != registry.CodeConflict || p.Status != http.StatusConflict {
		t.Fatalf("the losing update: %d %s %s, want 409 %s with code %d", lost.status, lost.contentType, lost.body, api.ProblemConflict, registry.CodeConflict)
	}
	// Its status says the same afterwards.
	r := get(t, n.url+"/v1/operations/"+hashes[loser].String(), "")
	var st struct {
		Status string `json:"status"`
		Code   uint32 `json:"code"`
	}
	if err := json.Unmarshal(r.body, &st); err != nil || st.Status != "rejected" || st.Code != registry.CodeConflict {
		t.Fatalf("status of the losing update: %d %s, want rejected with code %d", r.status, r.body, registry.CodeConflict)
	}
}

// TestStatusPurposesDeduplicated: a purpose named twice in
// options.statusPurposes gives the credential one entry of it.
func TestStatusPurposesDeduplicated(t *testing.T) {
	n := startDevNode(t)
	iss := n.createIssuer(t, "acme")
	vc := n.issue(t, degree(iss), map[string]any{"statusPurposes": []any{"revocation", "revocation"}})
	entry, ok := vc["credentialStatus"].(map[string]any)
	if !ok || entry["statusPurpose"] != "revocation" {
		t.Fatalf("credentialStatus = %v, want one revocation entry", vc["credentialStatus"])
	}
}

// secretModes checks the modes of a home's private directories and
// secrets that exist, and returns how many it found.
func secretModes(t *testing.T, h home.Dir) int {
	t.Helper()
	found := 0
	check := func(p string, want fs.FileMode) {
		fi, err := os.Stat(p)
		if os.IsNotExist(err) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		found++
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %04o, want %04o", p, got, want)
		}
	}
	for _, p := range h.PrivateDirs() {
		check(p, 0o700)
	}
	for _, p := range h.Secrets() {
		check(p, 0o600)
	}
	return found
}

// loosen makes a home's private directories 0755 and its secrets 0644.
func loosen(t *testing.T, h home.Dir) {
	t.Helper()
	for _, p := range h.PrivateDirs() {
		if err := os.Chmod(p, 0o755); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	for _, p := range h.Secrets() {
		if err := os.Chmod(p, 0o644); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
}

// TestHomePermissionsTightened: idmesh dev and idmesh node create their
// home 0700 and secrets 0600, and at start bring an existing home whose
// modes were loosened back to those, saying so in the log.
func TestHomePermissionsTightened(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "home")
	h := home.Dir(dir)
	n := startDev(t, dir)
	tok, err := os.ReadFile(h.APIToken())
	if err != nil {
		t.Fatal(err)
	}
	devNode{proc: n, home: dir, token: strings.TrimSpace(string(tok))}.createIssuer(t, "acme") // makes the issuers' keystore
	n.stop()
	secretModes(t, h)             // as created
	n = startDev(t, dir, "--tls") // makes tls/key.pem
	n.stop()
	// home, tls/, issuer-state/; validator key, api-token,
	// issuer-passphrase, keystore, TLS key.
	if found := secretModes(t, h); found < 8 {
		t.Fatalf("found %d of the home's private paths, want at least 8", found)
	}
	loosen(t, h)
	n = startDev(t, dir)
	n.stop()
	if secretModes(t, h); !strings.Contains(n.logs.String(), "permissions tightened") {
		t.Errorf("the log does not report the change:\n%s", n.logs)
	}

	// A testnet home run by idmesh node.
	tn := t.TempDir()
	mustCLI(t, "", "", "testnet", "init", "--validators", "1", "--dir", tn, "--base-port", fmt.Sprint(freeBase(t, 1)))
	h = home.Dir(filepath.Join(tn, "node0"))
	// home; validator key, node key, config.
	if found := secretModes(t, h); found < 4 {
		t.Fatalf("found %d of the node home's private paths, want at least 4", found)
	}
	loosen(t, h)
	nd := startNode(t, "node0", "--home", string(h))
	nd.stop()
	secretModes(t, h)
	if !strings.Contains(nd.logs.String(), "permissions tightened") {
		t.Errorf("the log does not report the change:\n%s", nd.logs)
	}
}
