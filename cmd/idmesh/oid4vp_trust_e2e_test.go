package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenID4VPTrustedIssuersEndToEnd: against `idmesh dev`, a relying
// party's request with trusted_issuers that leave out the credential's
// issuer fails when the wallet presents (the wallet CLI exits 1, `verify
// result` names the untrusted issuer); listing the issuer verifies; a
// malformed trusted_issuers is a 400 invalid-parameter. With
// `--require-trust '*'` an issuer not accredited on the chain fails the
// transaction as /credentials/verify does.
func TestOpenID4VPTrustedIssuersEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
	}{{"trusted_issuers", nil}, {"require-trust", []string{"--require-trust", "*"}}} {
		t.Run(tc.name, func(t *testing.T) {
			n := startDevNode(t, tc.flags...)
			uni := n.createIssuer(t, "uni")
			ks := filepath.Join(t.TempDir(), "wallet.json")
			created := mustOneJSON(t, mustCLI(t, n.url, ks, "wallet", "keys", "create", "--json")).(map[string]any)
			holderJWK, _ := json.Marshal(holderPublic(t, created["did"].(string)).JWK())
			vct := n.url + "/vct/person"
			claims, _ := json.Marshal(map[string]any{"vct": vct, "age_over_18": true})
			sd := strings.TrimSpace(mustCLI(t, n.url, ks, "vc", "issue", "--api-token", n.token, "--issuer", "uni", "--format", "dc+sd-jwt",
				"--holder-key", writeFile(t, "holder.jwk", string(holderJWK)), writeFile(t, "claims.json", string(claims))))
			mustCLI(t, n.url, ks, "wallet", "import", writeFile(t, "sd.txt", sd))
			query := map[string]any{"credentials": []any{map[string]any{"id": "age", "format": "dc+sd-jwt",
				"meta": map[string]any{"vct_values": []any{vct}}, "claims": []any{map[string]any{"path": []any{"age_over_18"}}}}}}
			request := func(trusted []any) (tx, uri string) {
				t.Helper()
				body := map[string]any{"dcql_query": query}
				if trusted != nil {
					body["trusted_issuers"] = trusted
				}
				r := authPost(t, n.url+"/verifier/requests", n.token, body)
				var out struct {
					TransactionID string `json:"transaction_id"`
					URI           string `json:"uri"`
				}
				if r.status != http.StatusCreated || json.Unmarshal(r.body, &out) != nil {
					t.Fatalf("POST /verifier/requests: %d %s", r.status, r.body)
				}
				return out.TransactionID, out.URI
			}
			refused := func(tx, uri, want string) {
				t.Helper()
				if _, errOut, code := cli(t, n.url, ks, "wallet", "present", uri, "--yes"); code != 1 || !strings.Contains(errOut, "verifier") {
					t.Fatalf("present: exit %d, %q", code, errOut)
				}
				js, _, code := cli(t, n.url, ks, "verify", "result", "--api-token", n.token, "--json", tx)
				if p := mustProblem(t, js, ""); code != 1 || !strings.HasSuffix(p.Type, "/not-verified") || !strings.Contains(p.Detail, want) {
					t.Fatalf("verify result: exit %d, %s", code, js)
				}
			}
			verified := func(tx, uri string) {
				t.Helper()
				mustCLI(t, n.url, ks, "wallet", "present", uri, "--yes", "--json")
				js := mustCLI(t, n.url, ks, "verify", "result", "--api-token", n.token, "--json", "--wait", "10s", tx)
				if !strings.Contains(js, `"status": "verified"`) && !strings.Contains(js, `"status":"verified"`) || !strings.Contains(js, uni) {
					t.Fatalf("verify result: %s", js)
				}
			}
			if tc.flags != nil {
				tx, uri := request(nil)
				refused(tx, uri, "not accredited")
				return
			}
			tx, uri := request([]any{"did:example:someone-else"})
			refused(tx, uri, "untrusted issuer")
			verified(request([]any{"did:example:someone-else", uni}))
			verified(request(nil))
			r := authPost(t, n.url+"/verifier/requests", n.token, map[string]any{"dcql_query": query, "trusted_issuers": []any{"not a DID"}})
			if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "invalid-parameter") || !strings.Contains(string(r.body), "trusted_issuers") {
				t.Fatalf("bad trusted_issuers: %d %s", r.status, r.body)
			}
		})
	}
}
