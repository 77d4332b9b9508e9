package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/cobra"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/verifier"
)

// runCLI runs idmesh in process with the environment vars (and nothing
// of the test process's) and returns stdout, stderr and the exit status.
func runCLI(t testing.TB, vars map[string]string, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return vars[k] }}
	err := run(context.Background(), args, e)
	return stdout.String(), stderr.String(), exitCode(err)
}

// commandPaths returns the path of every command of idmesh ("did
// create"), groups and the help command included, and which of them run
// something (leaves).
func commandPaths() (all, leaves []string) {
	root := newRoot(&app{env: env{getenv: func(string) string { return "" }}})
	root.InitDefaultHelpCmd()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden {
				continue
			}
			p := commandName(sub)
			all = append(all, p)
			if !sub.HasSubCommands() && sub.Name() != "help" {
				leaves = append(leaves, p)
			}
			walk(sub)
		}
	}
	walk(root)
	return all, leaves
}

// mustOneJSON fails unless out is exactly one JSON value, and returns it.
func mustOneJSON(t testing.TB, out string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("stdout holds more than one JSON value:\n%s", out)
	}
	return v
}

// mustProblem fails unless out is exactly one RFC 9457 problem object
// (type, title, status and detail present) and errOut is empty.
func mustProblem(t testing.TB, out, errOut string) problem {
	t.Helper()
	if errOut != "" {
		t.Fatalf("stderr is not empty with --json: %q", errOut)
	}
	obj, ok := mustOneJSON(t, out).(map[string]any)
	if !ok {
		t.Fatalf("stdout is not a JSON object: %s", out)
	}
	for _, m := range []string{"type", "title", "status", "detail"} {
		if _, ok := obj[m]; !ok {
			t.Fatalf("problem lacks %q: %s", m, out)
		}
	}
	var p problem
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// closedPort returns the URL of a local port that nothing listens on.
func closedPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

// answering returns a node that answers every request with status,
// contentType and body.
func answering(t testing.TB, status int, contentType, body string) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

// writeFile writes body to a new file and returns its path.
func writeFile(t testing.TB, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestHelpEveryCommand: --help, -h, -help and `help CMD` print the
// command's usage on stdout and exit 0, for every command and
// subcommand (issue 13: `idmesh did --help` exited 2).
func TestHelpEveryCommand(t *testing.T) {
	all, _ := commandPaths()
	all = append(all, "") // the root
	for _, p := range all {
		words := strings.Fields(p)
		for _, args := range [][]string{
			append(slices.Clone(words), "--help"),
			append(slices.Clone(words), "-h"),
			append(slices.Clone(words), "-help"),
			append([]string{"help"}, words...),
		} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				out, errOut, code := runCLI(t, nil, args...)
				if code != 0 || errOut != "" {
					t.Fatalf("exit %d, stderr %q", code, errOut)
				}
				if want := strings.TrimSpace("Usage: idmesh " + p); !strings.Contains(out, want) {
					t.Fatalf("stdout lacks %q:\n%s", want, out)
				}
			})
		}
	}
}

// TestHelpBinary checks help through the real binary.
func TestHelpBinary(t *testing.T) {
	for _, args := range [][]string{{"did", "--help"}, {"did", "-h"}, {"vc", "verify", "--help"}, {"help", "did", "create"}, {"help"}, {"testnet", "init", "-h"}, {"-h"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, errOut, code := cli(t, closedPort(t), "", args...)
			if code != 0 || errOut != "" || !strings.Contains(out, "Usage: idmesh") || !strings.Contains(out, "IDMESH_<FLAG>") {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
		})
	}
}

// TestCompletion: `idmesh completion SHELL` prints a script, and the
// command the scripts call completes idmesh's commands and flags.
func TestCompletion(t *testing.T) {
	for shell, marker := range map[string]string{"bash": "__start_idmesh", "zsh": "#compdef idmesh", "fish": "complete -c idmesh", "powershell": "Register-ArgumentCompleter"} {
		t.Run(shell, func(t *testing.T) {
			out, errOut, code := cli(t, closedPort(t), "", "completion", shell)
			if code != 0 || errOut != "" || !strings.Contains(out, marker) {
				t.Fatalf("exit %d, stderr %q, script lacks %q", code, errOut, marker)
			}
			out, errOut, code = cli(t, closedPort(t), "", "completion", shell, "--json")
			var v struct{ Shell, Script string }
			if code != 0 || errOut != "" || json.Unmarshal([]byte(out), &v) != nil || v.Shell != shell || !strings.Contains(v.Script, marker) {
				t.Fatalf("--json: exit %d, stderr %q", code, errOut)
			}
		})
	}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "did", "cr"}, []string{"create"}},
		{[]string{"__complete", "did", "create", "--key"}, []string{"--key-type", "--keystore"}},
		{[]string{"__complete", "completion", ""}, []string{"bash", "zsh", "fish"}},
		{[]string{"__complete", "v"}, []string{"vc", "version", "vp"}},
		{[]string{"__complete", "help", "did", "re"}, []string{"resolve"}},
	} {
		out, _, code := cli(t, closedPort(t), "", tt.args...)
		for _, w := range tt.want {
			if code != 0 || !strings.Contains(out, w) {
				t.Errorf("%v: exit %d, no %q in\n%s", tt.args, code, w, out)
			}
		}
	}
	if _, _, code := cli(t, closedPort(t), "", "completion", "tcsh"); code != exitUsage {
		t.Fatalf("unknown shell: exit %d, want %d", code, exitUsage)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}, {"-version"}} {
		out, errOut, code := cli(t, closedPort(t), "", args...)
		if code != 0 || errOut != "" || out != "idmesh "+version+"\n" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	for _, args := range [][]string{{"--version", "--json"}, {"version", "--json"}} {
		out, errOut, code := cli(t, closedPort(t), "", args...)
		var v struct{ Version string }
		if code != 0 || errOut != "" || json.Unmarshal([]byte(out), &v) != nil || v.Version != version {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

// TestUsageErrors: exit 2 through the binary, a line on stderr, or with
// --json one problem of type usage on stdout and nothing on stderr.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no command", nil},
		{"unknown command", []string{"frobnicate"}},
		{"unknown subcommand", []string{"did", "frobnicate"}},
		{"no subcommand", []string{"vc"}},
		{"unknown flag", []string{"did", "create", "--frobnicate"}},
		{"unknown single-dash flag", []string{"did", "create", "-frobnicate"}},
		{"flag without its value", []string{"did", "resolve", "did:key:z", "--node"}},
		{"bad duration", []string{"did", "create", "--timeout", "soon"}},
		{"bad bool", []string{"did", "rotate", "did:idmesh:x", "--compromised=maybe"}},
		{"bad int", []string{"testnet", "init", "--validators", "many"}},
		{"missing argument", []string{"did", "resolve"}},
		{"extra argument", []string{"did", "create", "extra"}},
		{"extra argument of a server", []string{"dev", "extra"}},
		{"bad key type", []string{"keys", "generate", "--type", "RSA"}},
		{"help of an unknown command", []string{"help", "did", "frobnicate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks := filepath.Join(t.TempDir(), "ks.json")
			out, errOut, code := cli(t, closedPort(t), ks, tt.args...)
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if code != exitUsage || !strings.HasPrefix(lines[len(lines)-1], "idmesh: ") {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			if tt.args != nil && out != "" {
				t.Fatalf("stdout %q", out)
			}
			out, errOut, code = cli(t, closedPort(t), ks, append(slices.Clone(tt.args), "--json")...)
			if p := mustProblem(t, out, errOut); code != exitUsage || p.Type != problemUsage || p.Status != http.StatusBadRequest {
				t.Fatalf("--json: exit %d, %+v", code, p)
			}
		})
	}
}

// TestJSONUsageErrorEveryCommand: an unknown flag is one usage problem
// for every command.
func TestJSONUsageErrorEveryCommand(t *testing.T) {
	all, _ := commandPaths()
	for _, p := range all {
		t.Run(p, func(t *testing.T) {
			out, errOut, code := runCLI(t, nil, append(strings.Fields(p), "--frobnicate", "--json")...)
			if pr := mustProblem(t, out, errOut); code != exitUsage || pr.Type != problemUsage || !strings.Contains(pr.Detail, "frobnicate") {
				t.Fatalf("exit %d, %+v", code, pr)
			}
		})
	}
}

// clientCommands are the commands that talk to a node, with arguments
// that let them reach it.
func clientCommands(t testing.TB) [][]string {
	t.Helper()
	vc := writeFile(t, "vc.json", `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"issuer":"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK","credentialSubject":{"id":"did:example:1"}}`)
	schema := writeFile(t, "schema.json", `{"type":"object"}`)
	const d = "did:idmesh:11111111111111111111111111111111"
	return [][]string{
		{"did", "create"},
		{"did", "resolve", d},
		{"did", "update", d, "--add-service", "X=https://example.com"},
		{"did", "rotate", d},
		{"did", "compromise", d, "#key-1"},
		{"did", "deactivate", d},
		{"issuer", "create", "uni"},
		{"issuer", "list"},
		{"vc", "issue", "--issuer", "uni", vc},
		{"vc", "offer", "--issuer", "uni", vc},
		{"vc", "verify", vc},
		{"vc", "status", "urn:uuid:1"},
		{"vp", "sign", "--holder", d + "#key-1", vc},
		{"vp", "verify", vc},
		{"schema", "register", "--issuer", "uni", schema},
		{"schema", "get", "abc"},
		{"trust", "add", "--issuer", d, "--type", "T"},
		{"trust", "remove", "--issuer", d, "--type", "T"},
		{"trust", "show", d},
		{"status"},
		{"peers"},
		{"blocks", "tail", "--count", "1"},
		{"verify", "request", "--dcql", schema},
		{"verify", "result", "tx"},
	}
}

// TestNodeUnreachable: exit 3 against a closed port, for every command
// that talks to a node; with --json one node-unreachable problem.
func TestNodeUnreachable(t *testing.T) {
	node := closedPort(t)
	vars := map[string]string{"IDMESH_NODE": node, "IDMESH_PASSPHRASE": "pass", "IDMESH_KEYSTORE": filepath.Join(t.TempDir(), "ks.json")}
	for _, args := range clientCommands(t) {
		t.Run(strings.Join(args[:min(2, len(args))], " "), func(t *testing.T) {
			out, errOut, code := runCLI(t, vars, args...)
			if code != exitUnreachable || out != "" || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.HasPrefix(errOut, "idmesh: ") {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			out, errOut, code = runCLI(t, vars, append(slices.Clone(args), "--json")...)
			if p := mustProblem(t, out, errOut); code != exitUnreachable || p.Type != problemNodeUnreachable {
				t.Fatalf("--json: exit %d, %+v", code, p)
			}
		})
	}
	// Through the binary, with the single-dash spellings of before.
	out, errOut, code := cli(t, node, "", "did", "resolve", "-node", node, "-json", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")
	if p := mustProblem(t, out, errOut); code != exitUnreachable || p.Type != problemNodeUnreachable {
		t.Fatalf("binary: exit %d, %+v", code, p)
	}
}

// TestNodeUnavailable: a 502, 503 or 504 answer exits 3; the node's
// problem passes through, an answer without one is about:blank.
func TestNodeUnavailable(t *testing.T) {
	nodeProblem := api.Problem{Type: api.ProblemUnavailable, Title: "The service is temporarily unavailable", Status: 503, Detail: "syncing", Instance: "/v1/status"}
	b, _ := json.Marshal(nodeProblem)
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        api.Problem
	}{
		{"503 problem", 503, "application/problem+json", string(b), nodeProblem},
		{"502 from a gateway", 502, "text/html", "<html>bad gateway</html>", api.Problem{Type: "about:blank", Title: "Bad Gateway", Status: 502, Detail: "HTTP 502"}},
		{"504 from a gateway", 504, "text/plain", "timeout", api.Problem{Type: "about:blank", Title: "Gateway Timeout", Status: 504, Detail: "HTTP 504"}},
		{"503 with JSON", 503, "application/json", `{"chainId":"x"}`, api.Problem{Type: "about:blank", Title: "Service Unavailable", Status: 503, Detail: "HTTP 503"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			node := answering(t, tt.status, tt.contentType, tt.body)
			vars := map[string]string{"IDMESH_NODE": node, "IDMESH_PASSPHRASE": "pass", "IDMESH_KEYSTORE": filepath.Join(t.TempDir(), "ks.json")}
			for _, args := range [][]string{{"did", "create"}, {"did", "resolve", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}, {"issuer", "list"}} {
				if _, errOut, code := runCLI(t, vars, args...); code != exitUnreachable || !strings.HasPrefix(errOut, "idmesh: ") {
					t.Fatalf("%v: exit %d, stderr %q", args, code, errOut)
				}
				out, errOut, code := runCLI(t, vars, append(slices.Clone(args), "--json")...)
				if p := mustProblem(t, out, errOut); code != exitUnreachable || p.Problem != tt.want {
					t.Fatalf("%v --json: exit %d, %+v, want %+v", args, code, p.Problem, tt.want)
				}
			}
		})
	}
	// Through the binary.
	node := answering(t, 503, "application/problem+json", string(b))
	out, errOut, code := cli(t, node, "", "issuer", "list", "--json")
	if p := mustProblem(t, out, errOut); code != exitUnreachable || p.Problem != nodeProblem {
		t.Fatalf("binary: exit %d, %+v", code, p)
	}
}

// TestTimeout: an operation still pending when --timeout ends exits 3,
// a timeout problem with --json.
func TestTimeout(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/v1/status":
			_, _ = io.WriteString(w, `{"chainId":"test-chain"}`)
		case r.Method == http.MethodPost:
			_, _ = io.WriteString(w, `{"hash":"`+strings.Repeat("ab", 32)+`","status":"pending"}`)
		default: // the poll: no answer before the client gives up
			<-r.Context().Done()
		}
	}))
	t.Cleanup(ts.Close)
	vars := map[string]string{"IDMESH_NODE": ts.URL, "IDMESH_PASSPHRASE": "pass", "IDMESH_KEYSTORE": filepath.Join(t.TempDir(), "ks.json")}
	out, errOut, code := runCLI(t, vars, "did", "create", "--timeout", "200ms")
	if code != exitUnreachable || !strings.Contains(errOut, "still pending") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, errOut, code = runCLI(t, vars, "did", "create", "--timeout", "200ms", "--json")
	if p := mustProblem(t, out, errOut); code != exitUnreachable || p.Type != problemTimeout || p.Status != http.StatusGatewayTimeout {
		t.Fatalf("--json: exit %d, %+v", code, p)
	}
}

// TestRefused: a 4xx answer exits 1; with --json the node's problem is
// printed as it gave it.
func TestRefused(t *testing.T) {
	refusal := api.Problem{Type: api.ProblemUnauthorized, Title: "Authentication required", Status: 401, Detail: "missing bearer token", Instance: "/v1/issuers"}
	b, _ := json.Marshal(refusal)
	node := answering(t, 401, "application/problem+json", string(b))
	out, errOut, code := cli(t, node, "", "issuer", "list")
	if code != exitFailure || out != "" || errOut != "idmesh: issuer list: missing bearer token\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, errOut, code = cli(t, node, "", "issuer", "list", "--json")
	if p := mustProblem(t, out, errOut); code != exitFailure || p.Problem != refusal {
		t.Fatalf("--json: exit %d, %+v", code, p)
	}
	// A resolver's refusal (its problem sits in the resolution metadata).
	res := `{"didDocument":null,"didResolutionMetadata":{"error":{"type":"https://www.w3.org/ns/did#NOT_FOUND","title":"notFound","detail":"no such DID"}},"didDocumentMetadata":{}}`
	node = answering(t, 404, "application/did-resolution", res)
	out, errOut, code = runCLI(t, map[string]string{"IDMESH_NODE": node}, "did", "resolve", "did:idmesh:11111111111111111111111111111111", "--json")
	if p := mustProblem(t, out, errOut); code != exitFailure || p.Type != "https://www.w3.org/ns/did#NOT_FOUND" || p.Status != 404 || p.Detail != "no such DID" {
		t.Fatalf("resolve --json: exit %d, %+v", code, p)
	}
	// A 4xx without a problem.
	node = answering(t, 404, "text/plain", "404 page not found")
	out, errOut, code = runCLI(t, map[string]string{"IDMESH_NODE": node}, "trust", "show", "did:key:z", "--json")
	if p := mustProblem(t, out, errOut); code != exitFailure || p.Type != "about:blank" || p.Status != 404 {
		t.Fatalf("plain 404 --json: exit %d, %+v", code, p)
	}
}

// TestNotVerified: a verification that says verified:false exits 1; with
// --json it is one not-verified problem carrying the result.
func TestNotVerified(t *testing.T) {
	result := `{"verified":false,"format":"eddsa-rdfc-2022","issuer":"did:key:z","results":[{"check":"proof","verified":false}],"problemDetails":[{"type":"https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR","title":"bad proof","detail":"the signature does not match"}]}`
	node := answering(t, 400, "application/json", result)
	vc := writeFile(t, "vc.json", `{"type":["VerifiableCredential"]}`)
	for _, cmd := range []string{"vc", "vp"} {
		out, errOut, code := cli(t, node, "", cmd, "verify", vc)
		if code != exitFailure || !strings.Contains(out, "NOT verified") || errOut != "idmesh: not verified: the signature does not match\n" {
			t.Fatalf("%s verify: exit %d, stdout %q, stderr %q", cmd, code, out, errOut)
		}
		out, errOut, code = cli(t, node, "", cmd, "verify", vc, "--json")
		p := mustProblem(t, out, errOut)
		if code != exitFailure || p.Type != problemNotVerified || p.Status != 400 || p.Detail != "the signature does not match" || p.Result == nil || p.Result.Verified || len(p.Result.Results) != 1 {
			t.Fatalf("%s verify --json: exit %d, %s", cmd, code, out)
		}
	}
}

// TestServerStartupErrorJSON: a long-running command that cannot start
// prints one problem with --json.
func TestServerStartupErrorJSON(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, args := range [][]string{
		{"node", "--home", t.TempDir(), "--http", "127.0.0.1:0"},
		{"dev", "--home", filepath.Join(t.TempDir(), "home"), "--http", busy.Addr().String()},
		{"testnet", "start", "--dir", t.TempDir()},
	} {
		t.Run(args[0], func(t *testing.T) {
			out, errOut, code := cli(t, closedPort(t), "", append(args, "--json")...)
			obj, _ := mustOneJSON(t, out).(map[string]any)
			if code != exitFailure || obj["type"] != problemCommandFailed || obj["detail"] == "" {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
		})
	}
}

// TestJSONEveryCommand runs every command that returns (all but dev,
// node and testnet start) with --json against a dev node: each prints
// exactly one JSON value on stdout and nothing on stderr.
func TestJSONEveryCommand(t *testing.T) {
	n := startDevNode(t)
	ks := filepath.Join(t.TempDir(), "keystore.json")
	ran := map[string]bool{}
	js := func(args ...string) map[string]any {
		t.Helper()
		out, errOut, code := cli(t, n.url, ks, append(args, "--json")...)
		if code != 0 || errOut != "" {
			t.Fatalf("idmesh %v: exit %d, stderr %q", args, code, errOut)
		}
		if args[0] == "version" || args[0] == "completion" || args[0] == "status" || args[0] == "peers" {
			ran[args[0]] = true
		} else {
			ran[args[0]+" "+args[1]] = true
		}
		v, _ := mustOneJSON(t, out).(map[string]any)
		return v
	}
	if g := js("keys", "generate"); g["id"] == nil {
		t.Fatalf("keys generate: %v", g)
	}
	// keys list prints an array.
	out, errOut, code := cli(t, n.url, ks, "keys", "list", "--json")
	if l, _ := mustOneJSON(t, out).([]any); code != 0 || errOut != "" || len(l) != 1 {
		t.Fatalf("keys list: exit %d, %q %q", code, out, errOut)
	}
	ran["keys list"] = true
	d, _ := js("did", "create")["did"].(string)
	if r := js("did", "resolve", d); r["didDocument"] == nil {
		t.Fatalf("did resolve: %v", r)
	}
	js("did", "update", d, "--add-service", "LinkedDomains=https://example.com")
	rot := js("did", "rotate", d)
	keyIDs, _ := rot["keys"].([]any)
	holder, _, _ := strings.Cut(fmt.Sprint(keyIDs[0]), " ")
	js("did", "compromise", d, "#key-1")
	uni, _ := js("issuer", "create", "uni", "--api-token", n.token)["did"].(string)
	if l := js("issuer", "list", "--api-token", n.token); len(l["issuers"].([]any)) != 1 {
		t.Fatalf("issuer list: %v", l)
	}
	b, _ := json.Marshal(degree(uni))
	vc := js("vc", "issue", "--api-token", n.token, "--issuer", "uni", writeFile(t, "degree.json", string(b)))
	b, _ = json.Marshal(vc)
	vcFile := writeFile(t, "vc.json", string(b))
	if v := js("vc", "verify", vcFile); v["verified"] != true {
		t.Fatalf("vc verify: %v", v)
	}
	vp := js("vp", "sign", "--holder", holder, vcFile)
	challenge, _ := vp["proof"].(map[string]any)["challenge"].(string)
	b, _ = json.Marshal(vp)
	if v := js("vp", "verify", "--challenge", challenge, writeFile(t, "vp.json", string(b))); v["verified"] != true {
		t.Fatalf("vp verify: %v", v)
	}
	js("vc", "status", vc["id"].(string), "--api-token", n.token, "--purpose", "suspension", "--set", "true")
	if o := js("vc", "offer", "--api-token", n.token, "--issuer", "uni", writeFile(t, "claims.json", `{"name":"Alice"}`)); o["uri"] == nil || o["expires_at"] == nil {
		t.Fatalf("vc offer: %v", o)
	}
	reg := js("schema", "register", "--api-token", n.token, "--issuer", "uni", writeFile(t, "schema.json", `{"type":"object"}`))
	js("schema", "get", reg["hash"].(string))
	js("trust", "add", "--api-token", n.token, "--issuer", uni, "--type", "ExampleDegreeCredential")
	js("trust", "show", uni)
	js("trust", "remove", "--api-token", n.token, "--issuer", uni, "--type", "ExampleDegreeCredential")
	js("did", "deactivate", d)
	js("version")
	js("completion", "bash")
	if st := js("status"); st["ready"] != true || st["chain_id"] == nil {
		t.Fatalf("status: %v", st)
	}
	if p := js("peers"); p["peers"] == nil {
		t.Fatalf("peers: %v", p)
	}
	if b := js("blocks", "tail", "--count", "1"); b["height"] == nil || b["block_id"] == nil {
		t.Fatalf("blocks tail: %v", b)
	}
	if tn := js("testnet", "init", "--dir", filepath.Join(t.TempDir(), "tn"), "--validators", "2"); len(tn["nodes"].([]any)) != 2 {
		t.Fatalf("testnet init: %v", tn)
	}
	walletJSONCommands(t, n.url, ks, ran)
	verifyJSONCommands(t, n, ks, ran)
	_, leaves := commandPaths()
	var missed []string
	for _, p := range leaves {
		if !ran[p] && p != "dev" && p != "node" && p != "testnet start" {
			missed = append(missed, p)
		}
	}
	if len(missed) > 0 {
		t.Fatalf("commands not run with --json: %v", missed)
	}
	n.stop()
}

// TestNormalizeArgs: the single-dash spellings of long flags are read as
// before; nothing else is rewritten.
func TestNormalizeArgs(t *testing.T) {
	tests := []struct {
		in, want []string
	}{
		{[]string{"dev", "-home", "x", "-tls"}, []string{"dev", "--home", "x", "--tls"}},
		{[]string{"did", "create", "-json", "-key-type=P-256"}, []string{"did", "create", "--json", "--key-type=P-256"}},
		{[]string{"did", "resolve", "D", "-node", "-json"}, []string{"did", "resolve", "D", "--node", "-json"}}, // a value stays
		{[]string{"did", "create", "-h"}, []string{"did", "create", "-h"}},
		{[]string{"did", "create", "-help"}, []string{"did", "create", "--help"}},
		{[]string{"vc", "verify", "-"}, []string{"vc", "verify", "-"}},
		{[]string{"vc", "verify", "--", "-json"}, []string{"vc", "verify", "--", "-json"}},
		{[]string{"did", "create", "-nope"}, []string{"did", "create", "-nope"}},
		{[]string{"-json", "did", "create"}, []string{"--json", "did", "create"}},
		{[]string{"-version"}, []string{"--version"}},
		{[]string{"keys", "list", "-type"}, []string{"keys", "list", "-type"}}, // generate's flag, not list's
		{[]string{"node", "-verify-concurrency", "-1", "-mdns"}, []string{"node", "--verify-concurrency", "-1", "--mdns"}},
		{[]string{"__complete", "did", "-jso"}, []string{"__complete", "did", "-jso"}},
	}
	for _, tt := range tests {
		root := newRoot(&app{env: env{getenv: func(string) string { return "" }}})
		if got := normalizeArgs(root, tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("normalizeArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Through the binary: a key generated with the single-dash flags.
	ks := filepath.Join(t.TempDir(), "ks.json")
	out, errOut, code := cli(t, closedPort(t), "", "keys", "generate", "-type", "P-256", "-keystore", ks, "-json")
	var k struct{ Type string }
	if code != 0 || json.Unmarshal([]byte(out), &k) != nil || k.Type != "P-256" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestJSONFromSettings: --json is read from IDMESH_JSON and config files
// like every flag, and an explicit --json=false wins.
func TestJSONFromSettings(t *testing.T) {
	cfg := writeFile(t, "config.json", `{"json": true}`)
	tests := []struct {
		name     string
		vars     map[string]string
		args     []string
		wantJSON bool
	}{
		{"environment", map[string]string{"IDMESH_JSON": "1"}, []string{"version"}, true},
		{"flag over environment", map[string]string{"IDMESH_JSON": "1"}, []string{"version", "--json=false"}, false},
		{"config file", nil, []string{"keys", "list", "--config", cfg, "--keystore", filepath.Join(t.TempDir(), "none.json")}, true},
		{"usage error under IDMESH_JSON", map[string]string{"IDMESH_JSON": "true"}, []string{"did", "--nope"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, _ := runCLI(t, tt.vars, tt.args...)
			isJSON := json.Valid([]byte(out)) && out != "" && errOut == ""
			if isJSON != tt.wantJSON {
				t.Fatalf("JSON %t, want %t: stdout %q, stderr %q", isJSON, tt.wantJSON, out, errOut)
			}
		})
	}
}

// TestClassify: the one mapping from errors to exit statuses.
func TestClassify(t *testing.T) {
	dial := &url.Error{Op: "Get", URL: "http://x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"usage", usageError("bad"), 2},
		{"wrapped usage", fmt.Errorf("x: %w", usageError("bad")), 2},
		{"connection refused", fmt.Errorf("reach node: %w", dial), 3},
		{"DNS failure", fmt.Errorf("reach node: %w", &url.Error{Op: "Get", URL: "http://x", Err: &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}}), 3},
		{"connection reset", fmt.Errorf("reach node: %w", &url.Error{Op: "Get", URL: "http://x", Err: syscall.ECONNRESET}), 3},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), 3},
		{"still pending", timedOut{errors.New("operation still pending")}, 3},
		{"502", httpError(502), 3},
		{"503 problem", fmt.Errorf("issuer list: %w", &problemError{api.Problem{Status: 503}}), 3},
		{"504", httpError(504), 3},
		{"500", httpError(500), 1},
		{"409 problem", &problemError{api.Problem{Status: 409}}, 1},
		{"401", httpError(401), 1},
		{"not verified", errNotVerified{reason: "bad", result: &verifier.Result{}}, 1},
		{"local failure", errors.New("keystore missing"), 1},
		{"certificate", fmt.Errorf("reach node: %w", &url.Error{Op: "Get", URL: "https://x", Err: errors.New("tls: failed to verify certificate")}), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Fatalf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}
