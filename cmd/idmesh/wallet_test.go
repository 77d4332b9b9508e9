package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/wallet"
)

// testIssuer is a minimal OpenID4VCI pre-authorized code issuer for the
// wallet's tests through the binary (idmesh's own issuer side comes
// with issue 15 item 1): metadata, token (single-use codes, optional
// transaction code), nonce (single use) and credential endpoints; the
// credential endpoint checks the proof (typ, signature by its jwk, aud,
// nonce) and issues an SD-JWT VC bound to the proof's key.
type testIssuer struct {
	srv    *httptest.Server
	signer credential.KeySigner
	did    string

	mu     sync.Mutex
	codes  map[string]string
	nonces map[string]bool
	n      int
}

func newTestIssuer(t *testing.T) *testIssuer {
	t.Helper()
	k, err := keys.Generate(keys.Ed25519, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	d := key.New(k.Public())
	ti := &testIssuer{signer: credential.KeySigner{ID: d + "#" + strings.TrimPrefix(d, key.Prefix), Key: k}, did: d, codes: map[string]string{}, nonces: map[string]bool{}}
	reply := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	fail := func(w http.ResponseWriter, code, desc string) {
		reply(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": desc})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-credential-issuer", func(w http.ResponseWriter, _ *http.Request) {
		reply(w, 200, map[string]any{
			"credential_issuer": ti.srv.URL, "credential_endpoint": ti.srv.URL + "/credential", "nonce_endpoint": ti.srv.URL + "/nonce",
			"credential_configurations_supported": map[string]any{"Person": map[string]any{
				"format": "dc+sd-jwt", "vct": "https://example.com/Person", "cryptographic_binding_methods_supported": []string{"jwk"},
				"proof_types_supported": map[string]any{"jwt": map[string]any{"proof_signing_alg_values_supported": []string{"EdDSA", "ES256"}}},
			}},
		})
	})
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, _ *http.Request) {
		reply(w, 200, map[string]any{"issuer": ti.srv.URL, "token_endpoint": ti.srv.URL + "/token"})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		ti.mu.Lock()
		defer ti.mu.Unlock()
		tx, ok := ti.codes[r.PostForm.Get("pre-authorized_code")]
		if !ok || tx != r.PostForm.Get("tx_code") {
			fail(w, "invalid_grant", "unknown or used code, or wrong transaction code")
			return
		}
		delete(ti.codes, r.PostForm.Get("pre-authorized_code"))
		reply(w, 200, map[string]any{"access_token": "at-" + r.PostForm.Get("pre-authorized_code"), "token_type": "Bearer"})
	})
	mux.HandleFunc("POST /nonce", func(w http.ResponseWriter, _ *http.Request) {
		ti.mu.Lock()
		ti.n++
		n := fmt.Sprintf("n-%d", ti.n)
		ti.nonces[n] = true
		ti.mu.Unlock()
		reply(w, 200, map[string]string{"c_nonce": n})
	})
	mux.HandleFunc("POST /credential", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Proofs struct{ JWT []string } `json:"proofs"`
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer at-") || json.NewDecoder(r.Body).Decode(&req) != nil || len(req.Proofs.JWT) != 1 {
			fail(w, "invalid_credential_request", "")
			return
		}
		c, err := jose.ParseCompact(req.Proofs.JWT[0], wallet.ProofType, 0)
		if err != nil {
			fail(w, "invalid_proof", err.Error())
			return
		}
		j, _ := c.Header["jwk"].(map[string]any)
		holder, err := keys.ParseJWK(j)
		if err != nil {
			fail(w, "invalid_proof", "no jwk")
			return
		}
		claims, err := c.Verify(holder)
		if err != nil || claims["aud"] != ti.srv.URL {
			fail(w, "invalid_proof", "signature or audience")
			return
		}
		n, _ := claims["nonce"].(string)
		ti.mu.Lock()
		fresh := ti.nonces[n]
		delete(ti.nonces, n)
		ti.mu.Unlock()
		if !fresh {
			fail(w, "invalid_nonce", "")
			return
		}
		sd, err := sdjwt.Issue(map[string]any{"vct": "https://example.com/Person", "given_name": "Erika", "family_name": "Mustermann"},
			ti.signer, sdjwt.IssueOptions{Disclosable: []string{"/given_name", "/family_name"}, HolderKey: holder, IssuedAt: time.Now()})
		if err != nil {
			fail(w, "credential_request_denied", err.Error())
			return
		}
		reply(w, 200, map[string]any{"credentials": []any{map[string]any{"credential": sd}}})
	})
	// Assigned before the server starts, so that handlers reading
	// ti.srv happen after the write.
	ti.srv = httptest.NewUnstartedServer(mux)
	ti.srv.Start()
	t.Cleanup(ti.srv.Close)
	return ti
}

// offer makes a pre-authorized code and returns its offer URI.
func (ti *testIssuer) offer(txCode string) string {
	ti.mu.Lock()
	code := fmt.Sprintf("code-%d", len(ti.codes)+ti.n*100)
	for ti.codes[code] != "" {
		code += "x"
	}
	ti.codes[code] = txCode
	ti.mu.Unlock()
	grant := map[string]any{"pre-authorized_code": code}
	if txCode != "" {
		grant["tx_code"] = map[string]any{"length": len(txCode), "description": "sent by mail"}
	}
	b, _ := json.Marshal(map[string]any{"credential_issuer": ti.srv.URL, "credential_configuration_ids": []string{"Person"},
		"grants": map[string]any{wallet.GrantPreAuthorizedCode: grant}})
	return "openid-credential-offer://?credential_offer=" + url.QueryEscape(string(b))
}

// cliIn is cli with stdin.
func cliIn(t testing.TB, keystore, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "IDMESH_PASSPHRASE=correct horse", "IDMESH_KEYSTORE="+keystore, "IDMESH_NODE="+closedPort(t))
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), errb.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

func walletCredentials(t testing.TB) (sd, vcjwt, ld string, iss string) {
	t.Helper()
	k, _ := keys.Generate(keys.Ed25519, rand.Reader)
	d := key.New(k.Public())
	signer := credential.KeySigner{ID: d + "#" + strings.TrimPrefix(d, key.Prefix), Key: k}
	sd, err := sdjwt.Issue(map[string]any{"vct": "https://example.com/Person", "given_name": "Erika", "age_over_18": true}, signer,
		sdjwt.IssueOptions{Disclosable: []string{"/given_name", "/age_over_18"}, IssuedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	vcjwt, err = jose.SignCredential(degree(d), signer, jose.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(degree(d))
	return sd, vcjwt, string(b), d
}

// TestWalletCLI is the wallet through the binary: holder keys, import
// of each format (from a file and from standard input), list, show with
// every disclosure, export (stdout and --out), delete, and the errors a
// user meets, as one line and exit 1 or 2, or one problem with --json.
func TestWalletCLI(t *testing.T) {
	ks := filepath.Join(t.TempDir(), "ks.json")
	node := closedPort(t)
	run := func(args ...string) string {
		t.Helper()
		return mustCLI(t, node, ks, args...)
	}
	js := func(args ...string) any {
		t.Helper()
		out, errOut, code := cli(t, node, ks, append(args, "--json")...)
		if code != 0 || errOut != "" {
			t.Fatalf("idmesh %v --json: exit %d, stderr %q", args, code, errOut)
		}
		return mustOneJSON(t, out)
	}
	// Keys.
	if out := run("wallet", "keys", "create"); !strings.HasPrefix(out, "created Ed25519 holder key did:jwk:") {
		t.Fatalf("keys create: %q", out)
	}
	k := js("wallet", "keys", "create", "--type", "P-256", "--method", "key").(map[string]any)
	if !strings.HasPrefix(k["id"].(string), "did:key:zDn") || k["type"] != "P-256" {
		t.Fatalf("keys create P-256: %v", k)
	}
	if l := js("wallet", "keys", "list").([]any); len(l) != 2 {
		t.Fatalf("keys list: %v", l)
	}
	// Imports.
	sd, vcjwt, ld, iss := walletCredentials(t)
	imported := func(out any) string {
		t.Helper()
		cs := out.(map[string]any)["credentials"].([]any)
		c := cs[0].(map[string]any)
		if c["issuer"] != iss {
			t.Fatalf("imported %v", c)
		}
		return c["id"].(string)
	}
	sdID := imported(js("wallet", "import", writeFile(t, "sd.txt", sd+"\n")))
	jwtID := imported(js("wallet", "import", writeFile(t, "vc.jwt", "data:application/vc+jwt,"+vcjwt)))
	out, errOut, code := cliIn(t, ks, ld, "wallet", "import", "-")
	if code != 0 || !strings.Contains(out, "imported ") || !strings.Contains(out, "ldp_vc") {
		t.Fatalf("import -: exit %d, %q %q", code, out, errOut)
	}
	// What a credential says cannot drive the terminal.
	evil := strings.Replace(ld, `"issuer":"`+iss+`"`, `"issuer":"\u001b[2J\u009b31m`+iss+`"`, 1)
	if evil == ld {
		t.Fatal("no control characters put in")
	}
	if out := run("wallet", "import", writeFile(t, "evil.json", evil)); strings.ContainsAny(out, "\x1b\u009b") || !strings.Contains(out, iss) {
		t.Fatalf("import printed control characters: %q", out)
	}
	if out := run("wallet", "list"); strings.ContainsAny(out, "\x1b\u009b") {
		t.Fatalf("list printed control characters: %q", out)
	}
	evilID := mustOneJSON(t, run("wallet", "list", "--json")).([]any)
	for _, c := range evilID {
		if m := c.(map[string]any); strings.HasSuffix(m["issuer"].(string), iss) && m["issuer"] != iss {
			if out := run("wallet", "show", m["id"].(string)); strings.ContainsAny(out, "\x1b\u009b") {
				t.Fatalf("show printed control characters: %q", out)
			}
			run("wallet", "delete", m["id"].(string))
		}
	}
	// The credentials are not keys.
	if l := js("wallet", "keys", "list").([]any); len(l) != 2 {
		t.Fatalf("keys list after import: %v", l)
	}
	if out := run("keys", "list"); strings.Contains(out, "wallet:") || strings.Count(out, "\n") != 2 {
		t.Fatalf("keys list shows credentials:\n%s", out)
	}
	// List.
	list := js("wallet", "list").([]any)
	formats := map[string]bool{}
	for _, c := range list {
		formats[c.(map[string]any)["format"].(string)] = true
	}
	if len(list) != 3 || !formats["dc+sd-jwt"] || !formats["vc+jwt"] || !formats["ldp_vc"] {
		t.Fatalf("list: %v", list)
	}
	if out := run("wallet", "list"); strings.Count(out, "\n") != 3 || !strings.Contains(out, sdID) {
		t.Fatalf("list:\n%s", out)
	}
	// Show: the SD-JWT's claims with every disclosure.
	show := js("wallet", "show", sdID).(map[string]any)
	claims := show["claims"].(map[string]any)
	if claims["given_name"] != "Erika" || claims["age_over_18"] != true || claims["_sd"] != nil || len(show["disclosures"].([]any)) != 2 {
		t.Fatalf("show: %v", show)
	}
	if out := run("wallet", "show", sdID); !strings.Contains(out, `"given_name": "Erika"`) || !strings.Contains(out, "not verified") {
		t.Fatalf("show:\n%s", out)
	}
	if out := run("wallet", "show", jwtID); !strings.Contains(out, `"typ": "vc+jwt"`) || !strings.Contains(out, `"ExampleBachelorDegree"`) {
		t.Fatalf("show JWT:\n%s", out)
	}
	// Export: the raw form, which imports again as it was.
	if out := run("wallet", "export", sdID); out != sd+"\n" {
		t.Fatalf("export: %q", out)
	}
	file := filepath.Join(t.TempDir(), "out.jwt")
	run("wallet", "export", jwtID, "--out", file)
	if b, err := os.ReadFile(file); err != nil || string(b) != vcjwt+"\n" {
		t.Fatalf("export --out: %q %v", b, err)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Fatalf("export --out mode %v", fi.Mode())
	}
	if _, _, code := cli(t, node, ks, "wallet", "export", jwtID, "--out", file); code != exitFailure {
		t.Fatalf("export over an existing file: exit %d", code)
	}
	if e := js("wallet", "export", jwtID).(map[string]any); e["credential"] != vcjwt || e["format"] != "vc+jwt" {
		t.Fatalf("export --json: %v", e)
	}
	// Delete.
	if d := js("wallet", "delete", jwtID).(map[string]any); d["deleted"] != true {
		t.Fatalf("delete: %v", d)
	}
	for _, cmd := range [][]string{{"show", jwtID}, {"delete", jwtID}, {"export", jwtID}} {
		args := append([]string{"wallet"}, cmd...)
		out, errOut, code := cli(t, node, ks, args...)
		if code != exitFailure || out != "" || !strings.Contains(errOut, "not found") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Fatalf("%v after delete: exit %d, %q %q", cmd, code, out, errOut)
		}
		out, errOut, code = cli(t, node, ks, append(args, "--json")...)
		if p := mustProblem(t, out, errOut); code != exitFailure || p.Type != "https://idmesh.dev/problems/not-found" || p.Status != 404 {
			t.Fatalf("%v --json: exit %d, %+v", cmd, code, p)
		}
	}
	// Bad input.
	big := writeFile(t, "big.txt", strings.Repeat("a", wallet.MaxCredentialBytes+1))
	for name, c := range map[string]struct {
		args []string
		code int
		msg  string
	}{
		"oversized":       {[]string{"wallet", "import", big}, exitFailure, "too large"},
		"not a VC":        {[]string{"wallet", "import", writeFile(t, "x.json", `{"a":1}`)}, exitFailure, "unknown credential format"},
		"missing file":    {[]string{"wallet", "import", filepath.Join(t.TempDir(), "none")}, exitFailure, "no such file"},
		"no ID":           {[]string{"wallet", "show"}, exitUsage, "one credential ID"},
		"bad key type":    {[]string{"wallet", "keys", "create", "--type", "RSA"}, exitUsage, "RSA"},
		"bad method":      {[]string{"wallet", "keys", "create", "--method", "web"}, exitUsage, "web"},
		"bad offer":       {[]string{"wallet", "receive", "https://example.com/?x=1"}, exitUsage, "credential_offer"},
		"verify, no node": {[]string{"wallet", "import", "--verify", writeFile(t, "v.jwt", vcjwt)}, exitUnreachable, "reach node"},
		"offer over http": {[]string{"wallet", "receive", "openid-credential-offer://?credential_offer_uri=" + url.QueryEscape("http://example.com/o")}, exitFailure, "loopback"},
	} {
		out, errOut, code := cli(t, node, ks, c.args...)
		if code != c.code || out != "" || !strings.Contains(errOut, c.msg) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", name, code, out, errOut)
		}
	}
	// The wrong passphrase, and a wallet that does not exist.
	cmd := exec.Command(binary, "wallet", "list")
	cmd.Env = append(os.Environ(), "IDMESH_PASSPHRASE=wrong", "IDMESH_KEYSTORE="+ks)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "wrong passphrase") {
		t.Fatalf("wrong passphrase: %v %s", err, out)
	}
	if _, errOut, code := cli(t, node, filepath.Join(t.TempDir(), "none.json"), "wallet", "list"); code != exitFailure || !strings.Contains(errOut, "does not exist") {
		t.Fatalf("no keystore: exit %d %q", code, errOut)
	}
	// The file shows no credential.
	b, _ := os.ReadFile(ks)
	for _, s := range []string{iss, "Erika", "dc+sd-jwt", "Person"} {
		if strings.Contains(string(b), s) {
			t.Errorf("keystore shows %q", s)
		}
	}
}

// TestWalletReceiveCLI: idmesh wallet receive against a test issuer
// over loopback HTTP: a holder key is created when there is none, the
// credential is bound to it and stored; a transaction code is asked for,
// a wrong one and a reused offer are refused with the issuer's error
// name, as one line or one issuer-refused problem.
func TestWalletReceiveCLI(t *testing.T) {
	ti := newTestIssuer(t)
	ks := filepath.Join(t.TempDir(), "ks.json")
	node := closedPort(t)
	uri := ti.offer("")
	out, errOut, code := cli(t, node, ks, "wallet", "receive", uri)
	if code != 0 || !strings.HasPrefix(out, "received ") || !strings.Contains(errOut, "created holder key did:jwk:") {
		t.Fatalf("receive: exit %d, %q %q", code, out, errOut)
	}
	list := mustOneJSON(t, mustCLI(t, node, ks, "wallet", "list", "--json")).([]any)
	c := list[0].(map[string]any)
	keysOut := mustOneJSON(t, mustCLI(t, node, ks, "wallet", "keys", "list", "--json")).([]any)
	if len(list) != 1 || c["format"] != "dc+sd-jwt" || c["issuer"] != ti.did || c["source"] != ti.srv.URL || len(keysOut) != 1 || c["holder"] != keysOut[0].(map[string]any)["id"] {
		t.Fatalf("stored %v, keys %v", c, keysOut)
	}
	show := mustOneJSON(t, mustCLI(t, node, ks, "wallet", "show", c["id"].(string), "--json")).(map[string]any)
	if cl := show["claims"].(map[string]any); cl["family_name"] != "Mustermann" || cl["cnf"] == nil {
		t.Fatalf("show: %v", show)
	}
	// Reused: the issuer's invalid_grant, exit 1.
	out, errOut, code = cli(t, node, ks, "wallet", "receive", uri)
	if code != exitFailure || out != "" || !strings.Contains(errOut, "invalid_grant") {
		t.Fatalf("reused: exit %d, %q %q", code, out, errOut)
	}
	out, errOut, code = cli(t, node, ks, "wallet", "receive", uri, "--json")
	if p := mustProblem(t, out, errOut); code != exitFailure || p.Type != problemIssuerRefused || !strings.Contains(p.Detail, "invalid_grant") {
		t.Fatalf("reused --json: exit %d, %+v", code, p)
	}
	// A transaction code: asked for, then wrong, then right.
	uri = ti.offer("4711")
	if _, errOut, code := cli(t, node, ks, "wallet", "receive", uri); code != exitUsage || !strings.Contains(errOut, "--tx-code") || !strings.Contains(errOut, "sent by mail") {
		t.Fatalf("no tx code: exit %d, %q", code, errOut)
	}
	if _, errOut, code := cli(t, node, ks, "wallet", "receive", uri, "--tx-code", "1234"); code != exitFailure || !strings.Contains(errOut, "invalid_grant") {
		t.Fatalf("wrong tx code: exit %d, %q", code, errOut)
	}
	uri = ti.offer("4711")
	if out := mustCLI(t, node, ks, "wallet", "receive", uri, "--tx-code", "4711"); !strings.HasPrefix(out, "received ") {
		t.Fatalf("tx code: %q", out)
	}
	// A named holder key: the P-256 one.
	k := mustOneJSON(t, mustCLI(t, node, ks, "wallet", "keys", "create", "--type", "P-256", "--json")).(map[string]any)
	r := mustOneJSON(t, mustCLI(t, node, ks, "wallet", "receive", ti.offer(""), "--holder", k["id"].(string), "--json")).(map[string]any)
	if got := r["credentials"].([]any)[0].(map[string]any)["holder"]; got != k["id"] {
		t.Fatalf("holder %v, want %v", got, k["id"])
	}
}

// walletJSONCommands runs every wallet command once with --json for
// TestJSONEveryCommand, recording each in ran.
func walletJSONCommands(t *testing.T, node, ks string, ran map[string]bool) {
	t.Helper()
	ti := newTestIssuer(t)
	_, vcjwt, _, _ := walletCredentials(t)
	js := func(args ...string) any {
		t.Helper()
		out, errOut, code := cli(t, node, ks, append(args, "--json")...)
		if code != 0 || errOut != "" {
			t.Fatalf("idmesh %v --json: exit %d, stderr %q", args, code, errOut)
		}
		words := args[:2]
		if args[1] == "keys" {
			words = args[:3]
		}
		ran[strings.Join(words, " ")] = true
		return mustOneJSON(t, out)
	}
	js("wallet", "keys", "create")
	js("wallet", "keys", "list")
	js("wallet", "receive", ti.offer(""))
	tv := newTestVerifier(t, `{"credentials":[{"id":"p","format":"dc+sd-jwt","meta":{"vct_values":["https://example.com/Person"]},"claims":[{"path":["given_name"]}]}]}`)
	js("wallet", "present", tv.uri(), "--yes")
	id := js("wallet", "import", writeFile(t, "w.jwt", vcjwt)).(map[string]any)["credentials"].([]any)[0].(map[string]any)["id"].(string)
	js("wallet", "list")
	// --node: the node verifies on import and show.
	if v := js("wallet", "show", id, "--verify").(map[string]any)["verification"].(map[string]any); v["verified"] != true {
		t.Fatalf("show --verify: %v", v)
	}
	js("wallet", "import", "--verify", writeFile(t, "w2.jwt", vcjwt))
	forged := vcjwt[:len(vcjwt)-4] + "AAAA"
	out, errOut, code := cli(t, node, ks, "wallet", "import", "--verify", writeFile(t, "forged.jwt", forged), "--json")
	if p := mustProblem(t, out, errOut); code != exitFailure || p.Type != problemNotVerified {
		t.Fatalf("import --verify of a forged credential: exit %d, %+v", code, p)
	}
	if l := js("wallet", "list").([]any); len(l) != 3 {
		t.Fatalf("the forged credential was stored: %v", l)
	}
	if out := mustCLI(t, node, ks, "wallet", "show", id, "--verify"); !strings.Contains(out, "verified (") || strings.Contains(out, "NOT verified") {
		t.Fatalf("show --verify:\n%s", out)
	}
	js("wallet", "show", id)
	js("wallet", "export", id)
	js("wallet", "delete", id)
}
