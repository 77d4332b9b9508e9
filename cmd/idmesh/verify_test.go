package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/did/keys"
)

// TestVerifyRequestCLI: against idmesh dev --verifier-did rp
// --verifier-request-ttl 90s (bad TTLs are usage errors), verify request
// --json makes an OpenID4VP request signed for rp's DID ({transaction_id,
// request_uri, uri} and nothing else), and without --json prints the
// QR code and the URI; verify result shows it pending; a test wallet
// answers it with an SD-JWT VC disclosing only age_over_18; verify
// result then shows it verified with that claim alone (JSON and text).
// --wait on a request nobody answers ends pending with exit 1, and usage
// errors are one line with exit 2.
func TestVerifyRequestCLI(t *testing.T) {
	ks := filepath.Join(t.TempDir(), "keystore.json")
	for _, bad := range []string{"0", "-1m", "999ms", "2h", "soon"} {
		_, errOut, code := cli(t, "", ks, "dev", "--home", filepath.Join(t.TempDir(), "home"), "--http", "127.0.0.1:0", "--verifier-request-ttl", bad)
		if code != exitUsage || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "--verifier-request-ttl") {
			t.Errorf("--verifier-request-ttl %s: exit %d, %q", bad, code, errOut)
		}
	}
	n := startDevNode(t, "--verifier-did", "rp", "--verifier-request-ttl", "90s")
	uni := n.createIssuer(t, "uni")
	did := n.createIssuer(t, "rp") // the verifier's identity, by --verifier-did
	dir := t.TempDir()
	write := func(name string, v any) string {
		b, _ := json.Marshal(v)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	vct := n.url + "/vct/employment"
	query := write("query.json", map[string]any{"credentials": []any{map[string]any{"id": "pid", "format": "dc+sd-jwt",
		"meta": map[string]any{"vct_values": []any{vct}}, "claims": []any{map[string]any{"path": []any{"age_over_18"}}}}}})
	holder, _ := keys.Generate(keys.Ed25519, rand.NewChaCha8([32]byte{41}))
	issued := strings.TrimSpace(mustCLI(t, n.url, ks, "vc", "issue", "--api-token", n.token, "--issuer", "uni", "--format", "dc+sd-jwt",
		"--holder-key", write("holder.jwk", holder.Public().JWK()), write("claims.json", map[string]any{"vct": vct, "given_name": "Alice", "age_over_18": true})))

	var req map[string]string
	out := mustCLI(t, n.url, ks, "verify", "request", "--api-token", n.token, "--dcql", query, "--json")
	if err := json.Unmarshal([]byte(out), &req); err != nil || len(req) != 3 || req["transaction_id"] == "" ||
		!strings.HasPrefix(req["uri"], "openid4vp://?client_id="+url.QueryEscape("decentralized_identifier:"+did)+"&request_uri=") {
		t.Fatalf("verify request --json: %q %v", out, err)
	}
	tx := req["transaction_id"]
	if got := mustCLI(t, n.url, ks, "verify", "result", "--api-token", n.token, tx); !strings.Contains(got, "transaction "+tx+": pending") {
		t.Fatalf("verify result before the answer: %q", got)
	}
	var pending struct{ Created, Expires time.Time }
	if err := json.Unmarshal([]byte(mustCLI(t, n.url, ks, "verify", "result", "--api-token", n.token, "--json", tx)), &pending); err != nil ||
		pending.Expires.Sub(pending.Created) != 90*time.Second {
		t.Fatalf("--verifier-request-ttl 90s: %+v %v", pending, err)
	}

	// The test wallet reads the request object and answers it.
	resp, err := http.Get(req["request_uri"])
	if err != nil {
		t.Fatal(err)
	}
	obj, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	parts := strings.Split(string(obj), ".")
	if resp.StatusCode != http.StatusOK || len(parts) != 3 {
		t.Fatalf("request object: %d %s", resp.StatusCode, obj)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var ro struct {
		ClientID    string `json:"client_id"`
		Nonce       string `json:"nonce"`
		State       string `json:"state"`
		ResponseURI string `json:"response_uri"`
	}
	if err := json.Unmarshal(payload, &ro); err != nil || ro.ClientID != "decentralized_identifier:"+did {
		t.Fatalf("request object claims %s", payload)
	}
	pres, err := sdjwt.Present(issued, sdjwt.PresentOptions{Disclose: []string{"/age_over_18"}, Holder: credential.KeySigner{Key: holder},
		Nonce: ro.Nonce, Audience: ro.ClientID, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	token, _ := json.Marshal(map[string]any{"pid": []any{pres}})
	resp, err = http.PostForm(ro.ResponseURI, url.Values{"vp_token": {string(token)}, "state": {ro.State}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("response: %d %s", resp.StatusCode, body)
	}

	js := mustCLI(t, n.url, ks, "verify", "result", "--api-token", n.token, "--json", "--wait", "5s", tx)
	var v struct {
		Status      string `json:"status"`
		Credentials []struct {
			ID, Issuer, VCT string
			Claims          map[string]any
		}
	}
	if err := json.Unmarshal([]byte(js), &v); err != nil || v.Status != "verified" || len(v.Credentials) != 1 || v.Credentials[0].Issuer != uni ||
		v.Credentials[0].VCT != vct || v.Credentials[0].Claims["age_over_18"] != true || len(v.Credentials[0].Claims) != 1 || strings.Contains(js, "Alice") {
		t.Fatalf("verify result --json: %s %v", js, err)
	}
	text := mustCLI(t, n.url, ks, "verify", "result", "--api-token", n.token, tx)
	if !strings.Contains(text, ": verified") || !strings.Contains(text, "age_over_18: true") || strings.Contains(text, "Alice") {
		t.Fatalf("verify result: %q", text)
	}

	// Text output: a QR code and the URI; a request nobody answers stays
	// pending past --wait (exit 1).
	out = mustCLI(t, n.url, ks, "verify", "request", "--api-token", n.token, "--dcql", query, "--response-mode", "direct_post.jwt")
	if !strings.ContainsAny(out, "█▀▄") || !strings.HasPrefix(lastLine(out), "openid4vp://?client_id=") {
		t.Fatalf("verify request: %q", out)
	}
	out = mustCLI(t, n.url, ks, "verify", "request", "--api-token", n.token, "--dcql", query, "--json")
	_ = json.Unmarshal([]byte(out), &req)
	if _, errOut, code := cli(t, n.url, ks, "verify", "result", "--api-token", n.token, "--wait", "300ms", req["transaction_id"]); code != 1 || !strings.Contains(errOut, "still pending") {
		t.Fatalf("--wait on a pending request: exit %d, %q", code, errOut)
	}
	for _, args := range [][]string{
		{"verify", "request"},                           // no --dcql
		{"verify", "request", "--dcql", query, "extra"}, // an argument
		{"verify", "request", "--dcql", query, "--response-mode", "fragment"},
		{"verify", "result"}, // no TXID
		{"verify", "result", "a", "b"},
	} {
		_, errOut, code := cli(t, n.url, ks, append(args, "--api-token", n.token)...)
		if code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || errOut == "" {
			t.Errorf("%v: exit %d, %q", args, code, errOut)
		}
	}
	// Refused by the node: an invalid query, an unknown transaction.
	for _, args := range [][]string{
		{"verify", "request", "--dcql", write("bad.json", map[string]any{"credentials": []any{}})},
		{"verify", "result", "nope"},
	} {
		_, errOut, code := cli(t, n.url, ks, append(args, "--api-token", n.token)...)
		if code != 1 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || errOut == "" {
			t.Errorf("%v: exit %d, %q", args, code, errOut)
		}
	}
}

// verifyJSONCommands runs the verify commands with --json for
// TestJSONEveryCommand (the node has a live issuer): each prints one JSON
// document.
func verifyJSONCommands(t *testing.T, n devNode, ks string, ran map[string]bool) {
	t.Helper()
	q := writeFile(t, "q.json", `{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["urn:x"]}}]}`)
	out, errOut, code := cli(t, n.url, ks, "verify", "request", "--api-token", n.token, "--dcql", q, "--json")
	r, _ := mustOneJSON(t, out).(map[string]any)
	if code != 0 || errOut != "" || r["transaction_id"] == nil {
		t.Fatalf("verify request: exit %d, %q %q", code, out, errOut)
	}
	out, errOut, code = cli(t, n.url, ks, "verify", "result", "--api-token", n.token, r["transaction_id"].(string), "--json")
	if v, _ := mustOneJSON(t, out).(map[string]any); code != 0 || errOut != "" || v["status"] != "pending" {
		t.Fatalf("verify result: exit %d, %q %q", code, out, errOut)
	}
	ran["verify request"], ran["verify result"] = true, true
}
