package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// recordingProxy stands between the wallet and the node (the node's
// --public-url), so that the test sees the bytes the verifier receives.
type recordingProxy struct {
	srv    *httptest.Server
	target atomic.Pointer[url.URL]
	mu     sync.Mutex
	posts  []recordedPost
}

type recordedPost struct {
	path string
	body []byte
}

func newRecordingProxy(t *testing.T) *recordingProxy {
	p := &recordingProxy{}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(p.target.Load())
		r.Out.Host = r.In.Host // the node sees the public host it was told
	}}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			p.mu.Lock()
			p.posts = append(p.posts, recordedPost{r.URL.Path, b})
			p.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		rp.ServeHTTP(w, r)
	}))
	p.srv.Start()
	t.Cleanup(p.srv.Close)
	return p
}

// responses returns the bodies posted to the verifier's response
// endpoint.
func (p *recordingProxy) responses() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out [][]byte
	for _, r := range p.posts {
		if strings.HasPrefix(r.path, "/verifier/responses/") {
			out = append(out, r.body)
		}
	}
	return out
}

// TestOpenID4VPEndToEnd is issue 16's flow through the real binary over
// HTTP, the verifier (idmesh dev --verifier-did rp) and the wallet
// (idmesh wallet present) being idmesh's own: a relying party asks for
// age_over_18 only (verify request --json), the wallet presents an
// SD-JWT VC disclosing only it (checked on the bytes the verifier
// received, through a recording proxy at the node's public URL), and
// verify result shows it verified with that claim alone. The same for an
// ldp_vc degree, asked for its degree name, over direct_post.jwt. Then
// the refusals a relying party counts on: the recorded response posted
// again (a replayed vp_token), the credential revoked before it is
// presented, an issuer the request does not trust (verify request
// --trusted-issuers), and a query the wallet cannot satisfy (nothing is
// sent).
func TestOpenID4VPEndToEnd(t *testing.T) {
	proxy := newRecordingProxy(t)
	n := startDevNode(t, "--verifier-did", "rp", "--public-url", proxy.srv.URL)
	u, err := url.Parse(n.url)
	if err != nil {
		t.Fatal(err)
	}
	proxy.target.Store(u)
	uni := n.createIssuer(t, "uni")
	rpDID := n.createIssuer(t, "rp")
	ks := filepath.Join(t.TempDir(), "wallet.json")
	created := mustOneJSON(t, mustCLI(t, n.url, ks, "wallet", "keys", "create", "--json")).(map[string]any)
	holderDID := created["did"].(string)
	holderJWK, _ := json.Marshal(holderPublic(t, holderDID).JWK())

	// An SD-JWT VC bound to the wallet's key, and a degree for its DID.
	vct := n.url + "/vct/person"
	claims, _ := json.Marshal(map[string]any{"vct": vct, "given_name": "Alice", "family_name": "Liddell", "age_over_18": true})
	sd := strings.TrimSpace(mustCLI(t, n.url, ks, "vc", "issue", "--api-token", n.token, "--issuer", "uni", "--format", "dc+sd-jwt",
		"--holder-key", writeFile(t, "holder.jwk", string(holderJWK)), writeFile(t, "claims.json", string(claims))))
	mustCLI(t, n.url, ks, "wallet", "import", writeFile(t, "sd.txt", sd))
	deg := degree(uni)
	deg["id"] = "urn:uuid:6f1c0d2e-0000-4000-8000-00000000e2e1"
	deg["credentialSubject"].(map[string]any)["id"] = holderDID
	ldp, _ := json.Marshal(n.issue(t, deg, nil))
	mustCLI(t, n.url, ks, "wallet", "import", writeFile(t, "degree.json", string(ldp)))

	type result struct {
		Status      string `json:"status"`
		Credentials []struct {
			ID, Format, Issuer string
			Claims             map[string]any
		} `json:"credentials"`
		Error string `json:"error"`
	}
	request := func(query string, extra ...string) (tx, uri string) {
		t.Helper()
		var req map[string]string
		out := mustCLI(t, n.url, ks, append([]string{"verify", "request", "--api-token", n.token, "--dcql", writeFile(t, "q.json", query), "--json"}, extra...)...)
		if err := json.Unmarshal([]byte(out), &req); err != nil || !strings.HasPrefix(req["request_uri"], proxy.srv.URL+"/") {
			t.Fatalf("verify request: %q %v", out, err)
		}
		return req["transaction_id"], req["uri"]
	}
	resultOf := func(tx string) (result, string) {
		t.Helper()
		js := mustCLI(t, n.url, ks, "verify", "result", "--api-token", n.token, "--json", "--wait", "10s", tx)
		var r result
		if err := json.Unmarshal([]byte(js), &r); err != nil {
			t.Fatalf("verify result: %q %v", js, err)
		}
		return r, js
	}

	// 1. dc+sd-jwt, direct_post: only age_over_18 leaves the wallet.
	tx, uri := request(`{"credentials":[{"id":"age","format":"dc+sd-jwt","meta":{"vct_values":["` + vct + `"]},"claims":[{"path":["age_over_18"]}]}]}`)
	out := mustCLI(t, n.url, ks, "wallet", "present", uri, "--yes", "--json")
	if p := mustOneJSON(t, out).(map[string]any); p["presented"] != true || p["plan"].(map[string]any)["verifier"] != rpDID {
		t.Fatalf("wallet present: %s", out)
	}
	r, js := resultOf(tx)
	if r.Status != "verified" || len(r.Credentials) != 1 || r.Credentials[0].ID != "age" || r.Credentials[0].Issuer != uni ||
		len(r.Credentials[0].Claims) != 1 || r.Credentials[0].Claims["age_over_18"] != true || strings.Contains(js, "Alice") {
		t.Fatalf("sd-jwt result: %s", js)
	}
	posted := proxy.responses()
	if len(posted) != 1 {
		t.Fatalf("%d responses posted", len(posted))
	}
	form, err := url.ParseQuery(string(posted[0]))
	if err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	seen.Write(posted[0])
	for _, part := range strings.FieldsFunc(form.Get("vp_token"), func(r rune) bool { return strings.ContainsRune(`~."[]{}:,`, r) }) {
		b, _ := base64.RawURLEncoding.DecodeString(part)
		seen.Write(b)
	}
	for _, secret := range []string{"Alice", "given_name", "Liddell", "family_name"} {
		if strings.Contains(seen.String(), secret) {
			t.Errorf("the verifier received %q", secret)
		}
	}
	if !strings.Contains(seen.String(), "age_over_18") {
		t.Fatalf("the decoded response lacks the claim asked for: %s", seen.String())
	}

	// A replayed vp_token: the recorded response, posted again, is
	// refused and the result stays as it was.
	res, err := http.Post(proxy.srv.URL+strings.TrimPrefix(findPath(t, proxy, 0), ""), "application/x-www-form-urlencoded", bytes.NewReader(posted[0]))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"error"`) {
		t.Fatalf("replay: %d %s", res.StatusCode, body)
	}
	if again, _ := resultOf(tx); again.Status != "verified" {
		t.Fatalf("after the replay: %+v", again)
	}

	// 2. ldp_vc over direct_post.jwt: the degree's name is asked for.
	degQuery := `{"credentials":[{"id":"degree","format":"ldp_vc","meta":{"type_values":[["ExampleDegreeCredential"]]},"claims":[{"path":["credentialSubject","degree","name"]}]}]}`
	tx, uri = request(degQuery, "--response-mode", "direct_post.jwt")
	mustCLI(t, n.url, ks, "wallet", "present", uri, "--yes", "--json")
	r, js = resultOf(tx)
	if r.Status != "verified" || len(r.Credentials) != 1 || r.Credentials[0].Format != "ldp_vc" || !strings.Contains(js, "Bachelor of Science and Arts") {
		t.Fatalf("ldp_vc result: %s", js)
	}
	if last := proxy.responses(); len(last) != 3 || !strings.HasPrefix(string(last[2]), "response=") {
		t.Fatalf("direct_post.jwt: the wallet did not post an encrypted response: %d posts", len(last))
	}

	// 3. Revoked before it is presented: the wallet presents, the
	// verifier refuses, and the result says why.
	if st := n.setStatus(t, deg["id"].(string), "revocation", true); st.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", st.status, st.body)
	}
	tx, uri = request(degQuery)
	_, errOut, code := cli(t, n.url, ks, "wallet", "present", uri, "--yes")
	if code != 1 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "verifier") {
		t.Fatalf("present revoked: exit %d, %q", code, errOut)
	}
	// verify result fails (exit 1) with a not-verified problem saying
	// why; the transaction reads failed over HTTP.
	js, _, code = cli(t, n.url, ks, "verify", "result", "--api-token", n.token, "--json", tx)
	if p := mustProblem(t, js, ""); code != 1 || !strings.HasSuffix(p.Type, "/not-verified") || !strings.Contains(p.Detail, "revoked") {
		t.Fatalf("revoked: exit %d, %s", code, js)
	}
	tr := authGet(t, n.url+"/verifier/transactions/"+tx, n.token)
	if err := json.Unmarshal(tr.body, &r); err != nil || r.Status != "failed" || !strings.Contains(r.Error, "revoked") {
		t.Fatalf("transaction: %d %s", tr.status, tr.body)
	}

	// 4. The relying party trusts another issuer only (--trusted-issuers):
	// the wallet presents, the verifier refuses the issuer.
	tx, uri = request(`{"credentials":[{"id":"age","format":"dc+sd-jwt","meta":{"vct_values":["`+vct+`"]},"claims":[{"path":["age_over_18"]}]}]}`,
		"--trusted-issuers", rpDID)
	if _, errOut, code := cli(t, n.url, ks, "wallet", "present", uri, "--yes"); code != 1 || !strings.Contains(errOut, "verifier") {
		t.Fatalf("present to a verifier trusting another issuer: exit %d, %q", code, errOut)
	}
	js, _, code = cli(t, n.url, ks, "verify", "result", "--api-token", n.token, "--json", tx)
	if p := mustProblem(t, js, ""); code != 1 || !strings.Contains(p.Detail, "untrusted issuer") || !strings.Contains(p.Detail, uni) {
		t.Fatalf("untrusted issuer: exit %d, %s", code, js)
	}

	// 5. A query the wallet cannot satisfy: nothing is posted.
	before := len(proxy.responses())
	_, uri = request(`{"credentials":[{"id":"lic","format":"dc+sd-jwt","meta":{"vct_values":["` + vct + `"]},"claims":[{"path":["driving_privileges"]}]}]}`)
	if _, errOut, code := cli(t, n.url, ks, "wallet", "present", uri, "--yes"); code != 1 || !strings.Contains(errOut, "driving_privileges") {
		t.Fatalf("unsatisfiable: exit %d, %q", code, errOut)
	}
	if len(proxy.responses()) != before {
		t.Fatal("the wallet posted a response to a query it cannot satisfy")
	}
}

// findPath returns the path of the i-th response posted through p.
func findPath(t *testing.T, p *recordingProxy, i int) string {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.posts {
		if strings.HasPrefix(r.path, "/verifier/responses/") {
			if i == 0 {
				return r.path
			}
			i--
		}
	}
	t.Fatalf("no response %d", i)
	return ""
}

// TestOpenID4VPRedirectEndToEnd: a same-device request through the
// binary (verify request --redirect-uri): the wallet (idmesh wallet
// present) is sent to the relying party's page with a response code in
// the fragment; verify result without that code, or with another, exits
// 1 with the response-code problem, also after --wait; with it the
// result shows the disclosed claim. --redirect-uri with --webhook is a
// usage error.
func TestOpenID4VPRedirectEndToEnd(t *testing.T) {
	n, uni, ks, vct := ageWallet(t)
	query := writeFile(t, "q.json", `{"credentials":[{"id":"age","format":"dc+sd-jwt","meta":{"vct_values":["`+vct+`"]},"claims":[{"path":["age_over_18"]}]}]}`)

	const front = "http://127.0.0.1:9/signed-in?session=abc"
	if _, errOut, code := cli(t, n.url, ks, "verify", "request", "--api-token", n.token, "--dcql", query, "--redirect-uri", front, "--webhook", "http://127.0.0.1:9/hook"); code != 2 || !strings.Contains(errOut, "exclude each other") {
		t.Fatalf("--redirect-uri with --webhook: exit %d: %s", code, errOut)
	}
	var req map[string]string
	if err := json.Unmarshal([]byte(mustCLI(t, n.url, ks, "verify", "request", "--api-token", n.token, "--dcql", query, "--redirect-uri", front, "--json")), &req); err != nil {
		t.Fatal(err)
	}
	tx := req["transaction_id"]
	presented := mustOneJSON(t, mustCLI(t, n.url, ks, "wallet", "present", req["uri"], "--yes", "--json")).(map[string]any)
	redirect, _ := presented["redirect_uri"].(string)
	if !strings.HasPrefix(redirect, front+"#response_code=") {
		t.Fatalf("wallet present: redirect_uri %q", redirect)
	}
	code := strings.TrimPrefix(redirect, front+"#response_code=")
	for _, args := range [][]string{nil, {"--response-code", code + "x"}, {"--wait", "5s"}} {
		out, errOut, exit := cli(t, n.url, ks, append([]string{"verify", "result", "--api-token", n.token, tx}, args...)...)
		wantHint := args == nil || args[0] == "--wait" // no code given: the error says how to give it
		if exit != 1 || !strings.Contains(errOut, "response code") || strings.Contains(out, "age_over_18") || strings.Contains(errOut, "--response-code CODE") != wantHint {
			t.Fatalf("verify result %v: exit %d: %s %s", args, exit, out, errOut)
		}
	}
	// The code from standard input (kept out of the process list), then
	// on the command line.
	if out, errOut, exit := cliIn(t, ks, code+"\n", "verify", "result", "--node", n.url, "--api-token", n.token, "--response-code", "-", "--json", tx); exit != 0 || !strings.Contains(out, `"status": "verified"`) || !strings.Contains(out, `"age_over_18": true`) {
		t.Fatalf("verify result --response-code -: exit %d: %s %s", exit, out, errOut)
	}
	if _, errOut, exit := cliIn(t, ks, "", "verify", "result", "--node", n.url, "--api-token", n.token, "--response-code", "-", tx); exit != 2 || !strings.Contains(errOut, "standard input must hold the code") {
		t.Fatalf("verify result --response-code - with nothing on standard input: exit %d: %s", exit, errOut)
	}
	out := mustCLI(t, n.url, ks, "verify", "result", "--api-token", n.token, "--response-code", code, "--json", tx)
	var r struct {
		Status      string `json:"status"`
		Credentials []struct {
			Issuer string
			Claims map[string]any
		} `json:"credentials"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Status != "verified" || len(r.Credentials) != 1 || r.Credentials[0].Issuer != uni ||
		r.Credentials[0].Claims["age_over_18"] != true || strings.Contains(out, "Alice") {
		t.Fatalf("verify result --response-code: %s %v", out, err)
	}
	// The human form of wallet present says where to continue.
	var req2 map[string]string
	if err := json.Unmarshal([]byte(mustCLI(t, n.url, ks, "verify", "request", "--api-token", n.token, "--dcql", query, "--redirect-uri", front, "--json")), &req2); err != nil {
		t.Fatal(err)
	}
	if out := mustCLI(t, n.url, ks, "wallet", "present", req2["uri"], "--yes"); !strings.Contains(out, "continue at "+front+"#response_code=") {
		t.Fatalf("wallet present: %s", out)
	}
}
