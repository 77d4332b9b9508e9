package main

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/wallet"
)

// keyedVerifier is a test OpenID4VP verifier whose request objects are
// signed by a given key of a given DID, everything under its lock.
type keyedVerifier struct {
	srv *httptest.Server

	mu     sync.Mutex
	signer credential.KeySigner
	did    string
	claims map[string]any
	posted []url.Values
}

func newKeyedVerifier(t *testing.T, query string, signer credential.KeySigner, d string) *keyedVerifier {
	t.Helper()
	var q any
	if err := json.Unmarshal([]byte(query), &q); err != nil {
		t.Fatal(err)
	}
	kv := &keyedVerifier{signer: signer, did: d}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /request", func(w http.ResponseWriter, _ *http.Request) {
		kv.mu.Lock()
		b, _ := json.Marshal(kv.claims)
		s := kv.signer
		kv.mu.Unlock()
		tok, err := jose.SignCompact(b, wallet.RequestObjectType, s.ID, s, "")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", wallet.RequestObjectMediaType)
		_, _ = io.WriteString(w, tok)
	})
	mux.HandleFunc("POST /response", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		kv.mu.Lock()
		kv.posted = append(kv.posted, r.PostForm)
		kv.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{}`)
	})
	kv.srv = httptest.NewServer(mux)
	t.Cleanup(kv.srv.Close)
	kv.mu.Lock()
	defer kv.mu.Unlock()
	kv.claims = map[string]any{
		"client_id": wallet.ClientIDPrefixDID + d, "response_type": "vp_token", "response_mode": "direct_post",
		"response_uri": kv.srv.URL + "/response", "nonce": "nonce-1", "state": "state-1", "dcql_query": q,
		"aud": wallet.SelfIssuedAudience, "exp": time.Now().Add(5 * time.Minute).Unix(),
	}
	return kv
}

func (kv *keyedVerifier) set(f func()) {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	f()
}

func (kv *keyedVerifier) posts() []url.Values {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	return slices.Clone(kv.posted)
}

func (kv *keyedVerifier) uri() string {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	return "openid4vp://?client_id=" + url.QueryEscape(wallet.ClientIDPrefixDID+kv.did) + "&request_uri=" + url.QueryEscape(kv.srv.URL+"/request")
}

// terminalUnsafe reports whether s holds a control or format character
// other than a line break (what drives a terminal).
func terminalUnsafe(s string) bool {
	for _, r := range s {
		if r != '\n' && (unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)) {
			return true
		}
	}
	return false
}

// newDIDKeySigner returns a fresh did:key and its signer.
func newDIDKeySigner(t *testing.T) (credential.KeySigner, string) {
	t.Helper()
	k, err := keys.Generate(keys.Ed25519, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	d := key.New(k.Public())
	return credential.KeySigner{ID: d + "#" + strings.TrimPrefix(d, key.Prefix), Key: k}, d
}

// TestWalletPresentTerminalSafe (review 16 findings 2 and 6) through
// the binary: a request object whose aud (checked before its signature)
// or enc values hold escape sequences, or megabytes of text, fails with
// one bounded line on stderr, and with --json a problem, holding no
// control character; a response_uri on 0.0.0.0 is refused and nothing
// is posted.
func TestWalletPresentTerminalSafe(t *testing.T) {
	ks := filepath.Join(t.TempDir(), "ks.json")
	node := closedPort(t)
	mustCLI(t, node, ks, "wallet", "keys", "create", "--json")
	query := `{"credentials":[{"id":"age","format":"dc+sd-jwt","meta":{"vct_values":["https://example.com/Person"]},"claims":[{"path":["age_over_18"]}]}]}`
	signer, d := newDIDKeySigner(t)
	esc := "\x1b]0;pwned\x07\x1b[1A\x1b[2K\u202etranscript: verified"
	for _, c := range []struct {
		name string
		set  func(m map[string]any)
	}{
		{"aud", func(m map[string]any) { m["aud"] = esc + strings.Repeat("x", 64<<10) }},
		{"enc", func(m map[string]any) {
			m["response_mode"] = "direct_post.jwt"
			m["client_metadata"] = map[string]any{"jwks": map[string]any{"keys": []any{map[string]any{"kty": "EC", "crv": "P-256", "alg": "ECDH-ES",
				"x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}},
				"encrypted_response_enc_values_supported": []any{esc}}
		}},
		{"response_mode", func(m map[string]any) { m["response_mode"] = esc }},
	} {
		t.Run(c.name, func(t *testing.T) {
			kv := newKeyedVerifier(t, query, signer, d)
			kv.set(func() { c.set(kv.claims) })
			out, errOut, code := cli(t, node, ks, "wallet", "present", kv.uri(), "--yes")
			if code != 1 || out != "" || terminalUnsafe(errOut) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || len(errOut) > 4096 || !strings.Contains(errOut, `\x1b]0;pwned`) {
				t.Fatalf("exit %d: %q %.600q", code, out, errOut)
			}
			out, errOut, code = cli(t, node, ks, "wallet", "present", kv.uri(), "--yes", "--json")
			p := mustProblem(t, out, errOut)
			if code != 1 || terminalUnsafe(out) || terminalUnsafe(p.Detail) || len(p.Detail) > 4096 {
				t.Fatalf("--json: exit %d: %.600q", code, out)
			}
			if len(kv.posts()) != 0 {
				t.Fatal("the wallet posted")
			}
		})
	}
	t.Run("response_uri on 0.0.0.0", func(t *testing.T) {
		kv := newKeyedVerifier(t, query, signer, d)
		_, port, _ := net.SplitHostPort(kv.srv.Listener.Addr().String())
		kv.set(func() { kv.claims["response_uri"] = "http://0.0.0.0:" + port + "/response" })
		if _, errOut, code := cli(t, node, ks, "wallet", "present", kv.uri(), "--yes"); code != 1 || !strings.Contains(errOut, "0.0.0.0") {
			t.Fatalf("exit %d: %q", code, errOut)
		}
		if len(kv.posts()) != 0 {
			t.Fatal("the wallet posted to 0.0.0.0")
		}
	})
}

// TestWalletPresentNodeChecks is `idmesh wallet present` against
// `idmesh dev`:
//
//   - review 16 finding 8: a request signed by a did:idmesh verifier's
//     key is presented to while the key is current, refused as retired
//     once the DID rotated it, and refused as compromised once the DID
//     marked it so;
//   - interop: a query without require_cryptographic_holder_binding,
//     from idmesh's own verifier (POST /verifier/requests), is answered
//     with a key-binding JWT (the wallet holds the bound key), and the
//     transaction is verified.
func TestWalletPresentNodeChecks(t *testing.T) {
	n, uni, ks, vct := ageWallet(t)

	// Interop: no holder binding asked for, idmesh's verifier.
	query := `{"credentials":[{"id":"age","format":"dc+sd-jwt","require_cryptographic_holder_binding":false,"meta":{"vct_values":["` + vct + `"]},"claims":[{"path":["age_over_18"]}]}]}`
	var req map[string]string
	out := mustCLI(t, n.url, ks, "verify", "request", "--api-token", n.token, "--dcql", writeFile(t, "q.json", query), "--json")
	if err := json.Unmarshal([]byte(out), &req); err != nil {
		t.Fatalf("verify request: %q %v", out, err)
	}
	out = mustCLI(t, n.url, ks, "wallet", "present", req["uri"], "--yes", "--json")
	if p := mustOneJSON(t, out).(map[string]any); p["presented"] != true {
		t.Fatalf("wallet present: %s", out)
	}
	js := mustCLI(t, n.url, ks, "verify", "result", "--api-token", n.token, "--json", "--wait", "10s", req["transaction_id"])
	var res struct {
		Status      string `json:"status"`
		Error       string `json:"error"`
		Credentials []struct{ Issuer string }
	}
	if err := json.Unmarshal([]byte(js), &res); err != nil || res.Status != "verified" || len(res.Credentials) != 1 || res.Credentials[0].Issuer != uni {
		t.Fatalf("result without holder binding asked: %s (%v)", js, err)
	}

	// Finding 8: a did:idmesh verifier's key, current, retired,
	// compromised.
	dks := filepath.Join(t.TempDir(), "dids.json")
	var d struct {
		DID string `json:"did"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, n.url, dks, "did", "create", "--json")), &d); err != nil {
		t.Fatal(err)
	}
	k1 := credential.KeySigner{ID: d.DID + "#key-1", Key: keystoreKey(t, dks, d.DID+"#key-1")}
	sdQuery := `{"credentials":[{"id":"age","format":"dc+sd-jwt","meta":{"vct_values":["` + vct + `"]},"claims":[{"path":["age_over_18"]}]}]}`
	kv := newKeyedVerifier(t, sdQuery, k1, d.DID)
	if out, errOut, code := cli(t, n.url, ks, "wallet", "present", kv.uri(), "--yes"); code != 0 || len(kv.posts()) != 1 {
		t.Fatalf("current key: exit %d: %s %s", code, out, errOut)
	}
	mustCLI(t, n.url, dks, "did", "rotate", d.DID)
	if _, errOut, code := cli(t, n.url, ks, "wallet", "present", kv.uri(), "--yes"); code != 1 || !strings.Contains(errOut, "retired") || len(kv.posts()) != 1 {
		t.Fatalf("retired key: exit %d: %q", code, errOut)
	}
	mustCLI(t, n.url, dks, "did", "compromise", d.DID, "#key-1")
	if _, errOut, code := cli(t, n.url, ks, "wallet", "present", kv.uri(), "--yes"); code != 1 || !strings.Contains(errOut, "compromised") || len(kv.posts()) != 1 {
		t.Fatalf("compromised key: exit %d: %q", code, errOut)
	}
}

// TestWalletPresentJSONEscaped (review 16 finding 2): the --json output
// of wallet present writes the control and format characters that
// encoding/json leaves raw (DEL, C1, bidi overrides, tag characters) as
// \u escapes, and decodes to the same value.
func TestWalletPresentJSONEscaped(t *testing.T) {
	in := map[string]any{"shown": map[string]any{"name": "a\u202eb\u0085c\x7fd\U000E0001e\u2028f\x1bg", "ok": "Zoë 日本"}}
	var out strings.Builder
	if err := printJSONEscaped(env{stdout: &out}, in); err != nil {
		t.Fatal(err)
	}
	if terminalUnsafe(out.String()) || !strings.Contains(out.String(), `\u202e`) || !strings.Contains(out.String(), "Zoë 日本") {
		t.Fatalf("output %q", out.String())
	}
	var back map[string]any
	if err := json.Unmarshal([]byte(out.String()), &back); err != nil {
		t.Fatal(err)
	}
	if got, want := back["shown"].(map[string]any)["name"], in["shown"].(map[string]any)["name"]; got != want {
		t.Fatalf("decoded %q, want %q", got, want)
	}
}

// ageWallet starts a dev node verifying as "rp" with an issuer "uni",
// and a wallet holding an SD-JWT VC of uni's (vct the node's
// /vct/person) with given_name Alice and age_over_18, bound to the
// wallet's key.
func ageWallet(t *testing.T) (n devNode, uni, ks, vct string) {
	t.Helper()
	n = startDevNode(t, "--verifier-did", "rp")
	uni = n.createIssuer(t, "uni")
	n.createIssuer(t, "rp")
	ks = filepath.Join(t.TempDir(), "wallet.json")
	created := mustOneJSON(t, mustCLI(t, n.url, ks, "wallet", "keys", "create", "--json")).(map[string]any)
	holderJWK, _ := json.Marshal(holderPublic(t, created["did"].(string)).JWK())
	vct = n.url + "/vct/person"
	claims, _ := json.Marshal(map[string]any{"vct": vct, "given_name": "Alice", "age_over_18": true})
	sd := strings.TrimSpace(mustCLI(t, n.url, ks, "vc", "issue", "--api-token", n.token, "--issuer", "uni", "--format", "dc+sd-jwt",
		"--holder-key", writeFile(t, "holder.jwk", string(holderJWK)), writeFile(t, "claims.json", string(claims))))
	mustCLI(t, n.url, ks, "wallet", "import", writeFile(t, "sd.txt", sd))
	return n, uni, ks, vct
}
