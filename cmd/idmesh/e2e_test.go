package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/api/openapitest"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/smt"
)

// binary is the idmesh binary the end-to-end tests run, built once.
var binary string

func TestMain(m *testing.M) {
	scrubEnvironment()
	if spec := knob(loadGenKnob); spec != "" {
		// A child of BenchmarkVerifyHTTPProcess: a load generator, no tests.
		os.Exit(runLoadGen(spec, os.Stdout))
	}
	dir, err := os.MkdirTemp("", "idmesh-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "idmesh")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build idmesh: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startDev starts `idmesh dev` on a free port and waits until it serves.
func startDev(t *testing.T, home string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"dev", "--home", home, "--http", "127.0.0.1:0", "--log-level", "debug"}, extra...)
	return startProc(t, "dev", args...)
}

// cli runs the idmesh binary against the node and returns stdout, stderr
// and the exit code.
func cli(t testing.TB, node, keystore string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "IDMESH_PASSPHRASE=correct horse", "IDMESH_KEYSTORE="+keystore, "IDMESH_NODE="+node)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func mustCLI(t testing.TB, node, keystore string, args ...string) string {
	t.Helper()
	out, errOut, code := cli(t, node, keystore, args...)
	if code != 0 {
		t.Fatalf("idmesh %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

type httpResult struct {
	status      int
	contentType string
	body        []byte
}

func get(t testing.TB, u, accept string) httpResult {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return do(t, req)
}

func post(t testing.TB, u string, body []byte) httpResult {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

// do sends req; a response of an idmesh node is checked against
// api/openapi.yaml (openapitest.Transport), so every e2e test that goes
// through get, post or do holds the node to its published description.
func do(t testing.TB, req *http.Request) httpResult {
	t.Helper()
	c := &http.Client{Transport: openapitest.MustNew(t).Transport(t, nil)}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return httpResult{resp.StatusCode, resp.Header.Get("Content-Type"), b}
}

func resolveURL(node, d string, q url.Values) string {
	u := node + "/1.0/identifiers/" + d
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

func resolveResult(t *testing.T, node, d string, q url.Values) (*did.ResolutionResult, int) {
	t.Helper()
	r := get(t, resolveURL(node, d, q), "application/did-resolution")
	var res did.ResolutionResult
	if err := json.Unmarshal(r.body, &res); err != nil {
		t.Fatalf("resolution result: %v: %s", err, r.body)
	}
	return &res, r.status
}

func status(t testing.TB, node string) api.StatusResponse {
	t.Helper()
	var st api.StatusResponse
	if err := json.Unmarshal(get(t, node+"/v1/status", "").body, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestDIDLifecycle is the user story through the real binary:
// create, resolve, rotate, add a service, resolve old and new versions,
// deactivate, restart, and find everything as it was.
func TestDIDLifecycle(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	ks := filepath.Join(t.TempDir(), "keystore.json")
	n := startDev(t, home)

	var created struct {
		DID       string `json:"did"`
		VersionID string `json:"versionId"`
		Height    uint64 `json:"height"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, n.url, ks, "did", "create", "--json")), &created); err != nil {
		t.Fatal(err)
	}
	d := created.DID
	if !strings.HasPrefix(d, "did:idmesh:") || created.Height == 0 {
		t.Fatalf("created %+v", created)
	}
	res, code := resolveResult(t, n.url, d, nil)
	if code != http.StatusOK || res.DIDDocument.ID != d || res.DIDDocumentMetadata.VersionID != created.VersionID {
		t.Fatalf("resolve new DID: %d %+v", code, res.DIDDocumentMetadata)
	}
	v1 := created.VersionID

	// The key stays in the encrypted keystore: the file holds no secret in clear.
	raw, err := os.ReadFile(ks)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(d)) || bytes.Contains(raw, []byte("privateKey")) {
		t.Fatal("keystore does not look like an encrypted store of the DID's key")
	}

	mustCLI(t, n.url, ks, "did", "rotate", d)
	mustCLI(t, n.url, ks, "did", "update", d, "--add-service", "LinkedDomains=https://example.com")
	var rot struct {
		VersionID string `json:"versionId"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, n.url, ks, "did", "rotate", d, "--compromised", "--json")), &rot); err != nil {
		t.Fatal(err)
	}

	latest, _ := resolveResult(t, n.url, d, nil)
	if latest.DIDDocumentMetadata.VersionID != rot.VersionID || len(latest.DIDDocument.Service) != 1 {
		t.Fatalf("latest: %+v", latest.DIDDocumentMetadata)
	}
	events, _ := latest.DIDDocumentMetadata.Extra["rotatedKeys"].([]any)
	if len(events) != 2 || events[0].(map[string]any)["status"] != "retired" || events[1].(map[string]any)["status"] != "compromised" {
		t.Fatalf("rotatedKeys: %v", latest.DIDDocumentMetadata.Extra["rotatedKeys"])
	}
	old, code := resolveResult(t, n.url, d, url.Values{"versionId": {v1}})
	if code != http.StatusOK || old.DIDDocumentMetadata.VersionID != v1 || old.DIDDocumentMetadata.NextVersionID == "" {
		t.Fatalf("version 1: %d %+v", code, old.DIDDocumentMetadata)
	}
	if old.DIDDocument.VerificationMethod[0].PublicKeyMultibase == latest.DIDDocument.VerificationMethod[0].PublicKeyMultibase {
		t.Fatal("rotation kept the key")
	}
	// The text output names the DID and the version.
	if out := mustCLI(t, n.url, ks, "did", "resolve", d); !strings.Contains(out, d) || !strings.Contains(out, rot.VersionID) {
		t.Fatalf("did resolve prints:\n%s", out)
	}

	mustCLI(t, n.url, ks, "did", "deactivate", d)
	gone := get(t, resolveURL(n.url, d, nil), "")
	if gone.status != http.StatusGone || !strings.Contains(string(gone.body), `"deactivated":true`) {
		t.Fatalf("deactivated: %d %s", gone.status, gone.body)
	}
	if _, errOut, code := cli(t, n.url, ks, "did", "rotate", d); code == 0 || !strings.Contains(errOut, "deactivated") {
		t.Fatalf("rotate after deactivate: exit %d, %s", code, errOut)
	}
	// Collect every version before the restart.
	versions := map[string][]byte{}
	for _, vid := range []string{v1, rot.VersionID} {
		versions[vid] = get(t, resolveURL(n.url, d, url.Values{"versionId": {vid}}), "").body
	}
	before := status(t, n.url)
	latestBody := get(t, resolveURL(n.url, d, nil), "").body
	n.stop()

	// Restart: everything resolves the same.
	n2 := startDev(t, home)
	after := status(t, n2.url)
	if after.Height != before.Height || after.LastBlockHash != before.LastBlockHash || after.StateRoot != before.StateRoot {
		t.Fatalf("after restart %+v, before %+v", after, before)
	}
	for vid, body := range versions {
		if got := get(t, resolveURL(n2.url, d, url.Values{"versionId": {vid}}), "").body; !bytes.Equal(got, body) {
			t.Fatalf("version %s resolves differently after restart:\n%s\n%s", vid, got, body)
		}
	}
	if got := get(t, resolveURL(n2.url, d, nil), "").body; !bytes.Equal(got, latestBody) {
		t.Fatal("latest version resolves differently after restart")
	}
	// A light client checks a read against a header the validators signed.
	checkProof(t, n2.url, d, true)
	checkProof(t, n2.url, "did:idmesh:11111111111111111111111111111111", false)

	// And the chain goes on.
	mustCLI(t, n2.url, ks, "did", "create")
	if st := status(t, n2.url); st.Height != before.Height+1 {
		t.Fatalf("height %d after one more create, want %d", st.Height, before.Height+1)
	}
	n2.stop()
}

// TestResolverHTTPBinding checks content negotiation and status codes.
func TestResolverHTTPBinding(t *testing.T) {
	n := startDev(t, filepath.Join(t.TempDir(), "home"))
	ks := filepath.Join(t.TempDir(), "ks.json")
	var c struct{ DID string }
	_ = json.Unmarshal([]byte(mustCLI(t, n.url, ks, "did", "create", "--json", "--key-type", "P-256")), &c)
	d := c.DID

	tests := []struct {
		name, did, accept string
		status            int
		contentType       string
		wantError         string
	}{
		{"no accept gives the result", d, "", 200, "application/did-resolution", ""},
		{"any", d, "*/*", 200, "application/did-resolution", ""},
		{"resolution", d, "application/did-resolution", 200, "application/did-resolution", ""},
		{"older resolution profile", d, `application/ld+json;profile="https://w3id.org/did-resolution"`, 200, `application/ld+json;profile="https://w3id.org/did-resolution"`, ""},
		{"did+ld+json", d, "application/did+ld+json", 200, "application/did+ld+json", ""},
		{"did+json", d, "application/did+json", 200, "application/did+json", ""},
		{"preference by q", d, "application/did+json;q=0.5, application/did+ld+json", 200, "application/did+ld+json", ""},
		{"unsupported", d, "text/html", 406, "application/did-resolution", "REPRESENTATION_NOT_SUPPORTED"},
		{"invalid DID", "did:idmesh:", "", 400, "application/did-resolution", "INVALID_DID"},
		{"not a did:idmesh id", "did:idmesh:0OIl", "", 400, "application/did-resolution", "INVALID_DID"},
		{"not found", "did:idmesh:11111111111111111111111111111111", "", 404, "application/did-resolution", "NOT_FOUND"},
		{"method not supported", "did:example:123", "", 501, "application/did-resolution", "METHOD_NOT_SUPPORTED"},
		{"percent-encoded", url.PathEscape(d), "", 200, "application/did-resolution", ""},
		{"did:key offline", "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "", 200, "application/did-resolution", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, n.url+"/1.0/identifiers/"+tt.did, tt.accept)
			if r.status != tt.status || r.contentType != tt.contentType {
				t.Fatalf("status %d %q, want %d %q: %s", r.status, r.contentType, tt.status, tt.contentType, r.body)
			}
			var m map[string]any
			if err := json.Unmarshal(r.body, &m); err != nil {
				t.Fatal(err)
			}
			if tt.wantError != "" {
				md := m["didResolutionMetadata"].(map[string]any)
				e, _ := md["error"].(map[string]any)
				if e == nil || e["type"] != "https://www.w3.org/ns/did#"+tt.wantError {
					t.Fatalf("error %v, want %s", md["error"], tt.wantError)
				}
				if m["didDocument"] != nil {
					t.Fatal("an error result carries a document")
				}
				return
			}
			if strings.Contains(tt.contentType, "resolution") {
				if m["didDocument"] == nil {
					t.Fatal("no didDocument in the result")
				}
			} else if m["id"] == nil || m["didDocument"] != nil {
				t.Fatalf("want the bare document: %s", r.body)
			}
		})
	}
}

// TestBadOperations sends each kind of bad write and checks its error and
// that the chain did not change.
func TestBadOperations(t *testing.T) {
	n := startDev(t, filepath.Join(t.TempDir(), "home"))
	ks := filepath.Join(t.TempDir(), "ks.json")
	chainID := status(t, n.url).ChainID

	k1, _ := keys.Generate(keys.Ed25519, rand.Reader)
	k2, _ := keys.Generate(keys.Ed25519, rand.Reader)
	intruder, _ := keys.Generate(keys.Ed25519, rand.Reader)
	doc := func(id string, pub keys.PublicKey) *did.Document {
		ref := []did.Relationship{did.Ref(id)}
		return &did.Document{Context: []any{did.ContextV1, did.ContextMultikey},
			VerificationMethod: []did.VerificationMethod{did.NewMultikey(id, "", pub)}, CapabilityInvocation: ref, AssertionMethod: ref}
	}
	submit := func(op *idmesh.Operation) httpResult {
		b, err := op.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return post(t, n.url+"/v1/operations?wait=10s", b)
	}
	create := &idmesh.Operation{Type: idmesh.Create, Document: doc("#key-1", k1.Public())}
	if err := create.Sign(chainID, "#key-1", k1); err != nil {
		t.Fatal(err)
	}
	if r := submit(create); r.status != http.StatusOK {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	d, _ := create.SubjectDID()
	v1, _ := create.VersionID()
	rotate := &idmesh.Operation{Type: idmesh.Update, DID: d, Previous: v1, Document: doc("#key-2", k2.Public())}
	if err := rotate.SignAll(chainID, idmesh.Signer{VM: "#key-1", Key: k1}, idmesh.Signer{VM: "#key-2", Key: k2}); err != nil {
		t.Fatal(err)
	}
	if r := submit(rotate); r.status != http.StatusOK {
		t.Fatalf("rotate: %d %s", r.status, r.body)
	}
	v2, _ := rotate.VersionID()
	before := status(t, n.url)

	signed := func(op *idmesh.Operation, chain, vm string, k keys.PrivateKey) []byte {
		if err := op.Sign(chain, vm, k); err != nil {
			t.Fatal(err)
		}
		b, _ := op.Encode()
		return b
	}
	tamper := func(b []byte) []byte {
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		p := m["proof"].([]any)[0].(map[string]any)
		sig, err := base64.RawURLEncoding.DecodeString(p["signature"].(string))
		if err != nil {
			t.Fatal(err)
		}
		sig[5] ^= 1
		p["signature"] = base64.RawURLEncoding.EncodeToString(sig)
		out, _ := json.Marshal(m)
		return out
	}
	tests := []struct {
		name   string
		body   []byte
		status int
		typ    string
	}{
		{"invalid JSON", []byte(`{"type": "create",`), 400, api.ProblemInvalidJSON},
		{"unsigned", func() []byte {
			b, _ := (&idmesh.Operation{Type: idmesh.Create, Document: doc("#k", k1.Public())}).Encode()
			return b
		}(), 400, api.ProblemInvalidOperation},
		{"wrongly signed", signed(&idmesh.Operation{Type: idmesh.Update, DID: d, Previous: v2, Document: doc("#key-9", intruder.Public())}, chainID, "#key-2", intruder), 403, api.ProblemUnauthorizedOp},
		{"tampered signature", tamper(signed(&idmesh.Operation{Type: idmesh.Update, DID: d, Previous: v2, Document: doc("#key-2", k2.Public())}, chainID, "#key-2", k2)), 403, api.ProblemUnauthorizedOp},
		{"signed for another chain", signed(&idmesh.Operation{Type: idmesh.Update, DID: d, Previous: v2, Document: doc("#key-2", k2.Public())}, "other-chain", "#key-2", k2), 403, api.ProblemUnauthorizedOp},
		{"replayed create", func() []byte { b, _ := create.Encode(); return b }(), 409, api.ProblemConflict},
		{"replayed update", func() []byte { b, _ := rotate.Encode(); return b }(), 409, api.ProblemConflict},
		{"signed by the rotated-out key", signed(&idmesh.Operation{Type: idmesh.Update, DID: d, Previous: v2, Document: doc("#key-3", k1.Public())}, chainID, "#key-1", k1), 403, api.ProblemUnauthorizedOp},
		{"stale version", signed(&idmesh.Operation{Type: idmesh.Update, DID: d, Previous: v1, Document: doc("#key-2", k2.Public())}, chainID, "#key-2", k2), 409, api.ProblemConflict},
		{"unknown DID", signed(&idmesh.Operation{Type: idmesh.Deactivate, DID: "did:idmesh:11111111111111111111111111111111", Previous: v1}, chainID, "#key-2", k2), 404, api.ProblemNotFound},
		{"oversized body", bytes.Repeat([]byte(" "), 1<<20), 413, api.ProblemBodyTooLarge},
		{"unknown member", []byte(`{"type":"create","evil":1,"proof":[{"verificationMethod":"#k","signature":"AA"}]}`), 400, api.ProblemInvalidOperation},
		{"duplicate member", []byte(`{"type":"create","type":"update"}`), 400, api.ProblemInvalidOperation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, n.url+"/v1/operations", tt.body)
			var p api.Problem
			if err := json.Unmarshal(r.body, &p); err != nil {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if r.status != tt.status || p.Type != tt.typ || r.contentType != "application/problem+json" || p.Detail == "" {
				t.Fatalf("got %d %s %q, want %d %s", r.status, p.Type, p.Detail, tt.status, tt.typ)
			}
		})
	}
	after := status(t, n.url)
	if after.Height != before.Height || after.StateRoot != before.StateRoot {
		t.Fatal("a rejected operation changed the chain")
	}
	res, _ := resolveResult(t, n.url, d, nil)
	if res.DIDDocumentMetadata.VersionID != v2 {
		t.Fatal("the DID changed")
	}

	// Other endpoints answer problem+json with stable types too.
	for path, want := range map[string]int{"/v1/operations/zz": 400, "/v1/operations/" + strings.Repeat("0", 64): 404, "/v1/blocks/0": 400, "/v1/blocks/999": 404, "/nope": 404} {
		if r := get(t, n.url+path, ""); r.status != want || r.contentType != "application/problem+json" {
			t.Errorf("%s: %d %s", path, r.status, r.contentType)
		}
	}
	var blk api.BlockResponse
	if err := json.Unmarshal(get(t, n.url+"/v1/blocks/1", "").body, &blk); err != nil || blk.Header.Height != 1 || len(blk.Txs) != 1 || blk.Commit == nil {
		t.Fatalf("block 1: %+v %v", blk, err)
	}

	// The CLI: one-line errors on stderr and a non-zero exit.
	for _, args := range [][]string{{"did", "resolve", "did:bad"}, {"did", "rotate", "not-a-did"}, {"did", "frobnicate"}, {"nope"}} {
		out, errOut, code := cli(t, n.url, ks, args...)
		if code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") > 20 || out != "" && args[0] != "nope" {
			t.Errorf("idmesh %v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	_, errOut, code := cli(t, "http://127.0.0.1:1", ks, "did", "create")
	if code != exitUnreachable || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("unreachable node: exit %d, %q", code, errOut)
	}
	n.stop()
}

// checkProof fetches a DID's record with its proof, the header at the
// proof's height and that header's commit, and checks all three as a
// light client would, trusting only the validator set.
func checkProof(t *testing.T, node, d string, present bool) {
	t.Helper()
	val := checkProofAt(t, node, "/v1/proofs/dids/"+d, present)
	if present && !strings.Contains(string(val), d) {
		t.Fatal("proved value is not the DID's record")
	}
}

// checkProofAt checks a proof endpoint's answer as a light client would:
// the header's commit against the validator set, the header's state root,
// then the inclusion (or non-inclusion) proof. It returns the value.
func checkProofAt(t *testing.T, node, path string, present bool) []byte {
	t.Helper()
	var pr api.ProofResponse
	r := get(t, node+path, "")
	if err := json.Unmarshal(r.body, &pr); err != nil || r.status != 200 {
		t.Fatalf("proof: %d %s", r.status, r.body)
	}
	var blk api.BlockResponse
	if err := json.Unmarshal(get(t, fmt.Sprintf("%s/v1/blocks/%d", node, pr.Height), "").body, &blk); err != nil {
		t.Fatal(err)
	}
	st := status(t, node)
	var vals []registry.Validator
	for _, v := range st.Validators {
		vals = append(vals, registry.Validator{PubKey: v.PubKey, Power: v.Power})
	}
	vs, err := registry.NewValidatorSet(vals)
	if err != nil {
		t.Fatal(err)
	}
	if blk.Header.ID() != blk.BlockID || blk.Header.ValidatorsHash != vs.Hash() {
		t.Fatal("header does not match its ID or the validator set")
	}
	if err := registry.VerifyCommit(st.ChainID, vs, pr.Height, blk.BlockID, blk.Commit); err != nil {
		t.Fatalf("header commit: %v", err)
	}
	if blk.Header.StateRoot != pr.StateRoot {
		t.Fatal("proof is not against the header's state root")
	}
	key, _ := base64.StdEncoding.DecodeString(pr.Key)
	tk := smt.Hash(registry.Sum(key))
	if !present {
		if pr.Value != nil {
			t.Fatal("an absent key has a value")
		}
		if err := pr.Proof.Verify(smt.Hash(pr.StateRoot), tk, nil); err != nil {
			t.Fatalf("non-inclusion proof: %v", err)
		}
		return nil
	}
	if pr.Value == nil {
		t.Fatal("a present key has no value")
	}
	val, _ := base64.StdEncoding.DecodeString(*pr.Value)
	vh := smt.Hash(registry.Sum(val))
	if err := pr.Proof.Verify(smt.Hash(pr.StateRoot), tk, &vh); err != nil {
		t.Fatalf("inclusion proof: %v", err)
	}
	vh[0] ^= 1
	if pr.Proof.Verify(smt.Hash(pr.StateRoot), tk, &vh) == nil {
		t.Fatal("proof verified a forged value")
	}
	return val
}

// TestDevTLS serves HTTPS with the self-signed certificate of dev --tls
// and drives it with the CLI trusting that certificate.
func TestDevTLS(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	n := startDev(t, home, "--tls")
	if !strings.HasPrefix(n.url, "https://") {
		t.Fatalf("dev --tls serves %s", n.url)
	}
	ks := filepath.Join(t.TempDir(), "ks.json")
	cert := filepath.Join(home, "tls", "cert.pem")
	// Without trusting the certificate the CLI refuses the connection.
	if _, errOut, code := cli(t, n.url, ks, "did", "create"); code == 0 || !strings.Contains(errOut, "certificate") {
		t.Fatalf("untrusted certificate: exit %d, %s", code, errOut)
	}
	var c struct{ DID string }
	if err := json.Unmarshal([]byte(mustCLI(t, n.url, ks, "did", "create", "--json", "--ca-cert", cert)), &c); err != nil {
		t.Fatal(err)
	}
	out := mustCLI(t, n.url, ks, "did", "resolve", c.DID, "--ca-cert", cert)
	if !strings.Contains(out, c.DID) {
		t.Fatalf("resolve over HTTPS: %s", out)
	}
	n.stop()
}
