package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/verifier"
)

// vpVerifyJSON runs vp verify --json with challenge and returns the exit
// code and what was printed: the result, or the problem carrying it.
func vpVerifyJSON(t *testing.T, n devNode, ks, challenge, vpFile string) (int, verifier.Result, string) {
	t.Helper()
	out, errOut, code := cli(t, n.url, ks, "vp", "verify", "--json", "--challenge", challenge, vpFile)
	var res verifier.Result
	if code == 0 {
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("vp verify: %v: %s", err, out)
		}
		return code, res, errOut
	}
	var p struct {
		Result *verifier.Result `json:"result"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil || p.Result == nil {
		t.Fatalf("vp verify: exit %d: %s %s", code, out, errOut)
	}
	return code, *p.Result, errOut
}

// TestChallengesE2E is issue 12 item 4 through the binary: on idmesh dev
// a presentation answering the relying party's own challenge verifies,
// and says challengeIssuedByNode false; one answering a node challenge
// says true, once; a forged node challenge is refused. With
// --require-node-challenges the relying party's own is refused (exit 1,
// one line) and node challenges pass.
func TestChallengesE2E(t *testing.T) {
	for _, strict := range []bool{false, true} {
		var extra []string
		name := "default"
		if strict {
			extra, name = []string{"--require-node-challenges"}, "require-node-challenges"
		}
		t.Run(name, func(t *testing.T) {
			n := startDevNode(t, extra...)
			ks := filepath.Join(t.TempDir(), "keystore.json")
			uni := n.createIssuer(t, "uni")
			b, _ := json.Marshal(n.issue(t, degree(uni), nil))
			credFile := writeFile(t, "vc.json", string(b))
			var holder struct {
				DID string `json:"did"`
			}
			if err := json.Unmarshal([]byte(mustCLI(t, n.url, ks, "did", "create", "--json")), &holder); err != nil {
				t.Fatal(err)
			}
			sign := func(challenge string) string {
				args := []string{"vp", "sign", "--holder", holder.DID + "#key-1"}
				if challenge != "" {
					args = append(args, "--challenge", challenge)
				}
				return writeFile(t, "vp.json", mustCLI(t, n.url, ks, append(args, credFile)...))
			}

			// The relying party's own challenge.
			own := "rp-7f3a9c01"
			code, res, errOut := vpVerifyJSON(t, n, ks, own, sign(own))
			switch {
			case !strict && (code != 0 || !res.Verified || res.ChallengeIssuedByNode == nil || *res.ChallengeIssuedByNode):
				t.Fatalf("own challenge: exit %d, %+v, challengeIssuedByNode %v", code, res.ProblemDetails, res.ChallengeIssuedByNode)
			case strict && (code != 1 || res.Verified || res.ChallengeIssuedByNode == nil || *res.ChallengeIssuedByNode):
				t.Fatalf("own challenge, strict: exit %d, %+v", code, res.ProblemDetails)
			}
			if strict {
				out, errOut, code := cli(t, n.url, ks, "vp", "verify", "--challenge", own, sign(own))
				if code != 1 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "accepts only the challenges it issues") ||
					!strings.Contains(out, "FAIL challenge") {
					t.Fatalf("vp verify, strict: exit %d\n%s%s", code, out, errOut)
				}
			}
			_ = errOut

			// A node challenge: vp sign asks the node for one.
			vp, note, code := cli(t, n.url, ks, "vp", "sign", "--holder", holder.DID+"#key-1", credFile)
			_, after, ok := strings.Cut(note, "idmesh: challenge ")
			if code != 0 || !ok {
				t.Fatalf("vp sign: exit %d: %s", code, note)
			}
			ch := strings.Fields(after)[0]
			vpFile := writeFile(t, "vp-node.json", vp)
			code, res, _ = vpVerifyJSON(t, n, ks, ch, vpFile)
			if code != 0 || !res.Verified || res.ChallengeIssuedByNode == nil || !*res.ChallengeIssuedByNode {
				t.Fatalf("node challenge: exit %d, %+v, challengeIssuedByNode %v", code, res.ProblemDetails, res.ChallengeIssuedByNode)
			}
			if code, res, _ = vpVerifyJSON(t, n, ks, ch, vpFile); code != 1 || !strings.Contains(res.ProblemDetails[0].Detail, "already used") {
				t.Fatalf("node challenge again: exit %d, %+v", code, res.ProblemDetails)
			}

			// A forged node challenge.
			forged := ch[:len(ch)-1] + map[bool]string{true: "A", false: "B"}[ch[len(ch)-1] != 'A']
			code, res, _ = vpVerifyJSON(t, n, ks, forged, sign(forged))
			if code != 1 || res.ChallengeIssuedByNode == nil || *res.ChallengeIssuedByNode || !strings.Contains(res.ProblemDetails[0].Detail, "tag does not verify") {
				t.Fatalf("forged: exit %d, %+v", code, res.ProblemDetails)
			}
		})
	}
}

// TestIssueNeverLooserE2E is issue 12 item 3 through the binary: a
// credential whose relatedResource digest does not match the bundled
// context it names is refused at issuance, over HTTP (400 problem+json,
// RESOURCE_INTEGRITY_ERROR, the verifier's type) and by vc issue (exit 1,
// one line); a credentialSchema the node does not hold is issued, and
// verification warns SCHEMA_NOT_CHECKED, failing only when asked for the
// schema check (as credentialSchema).
func TestIssueNeverLooserE2E(t *testing.T) {
	n := startDevNode(t)
	ks := filepath.Join(t.TempDir(), "keystore.json")
	uni := n.createIssuer(t, "uni")

	c := degree(uni)
	sum := sha256.Sum256([]byte("not the context"))
	c["relatedResource"] = []any{map[string]any{"id": "https://www.w3.org/ns/credentials/examples/v2", "digestSRI": "sha256-" + base64.StdEncoding.EncodeToString(sum[:])}}
	r := authPost(t, n.url+"/credentials/issue", n.token, map[string]any{"credential": c})
	var p api.Problem
	if err := json.Unmarshal(r.body, &p); err != nil || r.status != http.StatusBadRequest || r.contentType != "application/problem+json" ||
		p.Type != credential.ResourceIntegrityError.Type() || !strings.Contains(p.Detail, "digestSRI") {
		t.Fatalf("issue: %d %s %s", r.status, r.contentType, r.body)
	}
	b, _ := json.Marshal(c)
	credFile := writeFile(t, "degree.json", string(b))
	out, errOut, code := cli(t, n.url, ks, "vc", "issue", "--api-token", n.token, "--issuer", "uni", credFile)
	if code != 1 || out != "" || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "does not match digestSRI") {
		t.Fatalf("vc issue: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, _, code = cli(t, n.url, ks, "vc", "issue", "--json", "--api-token", n.token, "--issuer", "uni", credFile)
	if err := json.Unmarshal([]byte(out), &p); err != nil || code != 1 || p.Type != credential.ResourceIntegrityError.Type() {
		t.Fatalf("vc issue --json: exit %d, %s", code, out)
	}

	// A schema the node does not hold, and one of another type.
	c = degree(uni)
	c["credentialSchema"] = []any{
		map[string]any{"id": "https://schemas.example/elsewhere/v1", "type": "JsonSchema"},
		map[string]any{"id": "https://schemas.example/credential/v1", "type": "JsonSchemaCredential"},
	}
	vc := n.issue(t, c, nil)
	res, status := n.verify(t, vc, nil)
	warned := 0
	for _, w := range res.Warnings {
		if w.Type == credential.SchemaNotChecked.Type() {
			warned++
		}
	}
	if status != http.StatusOK || !res.Verified || warned != 2 || hasCheck(res, verifier.CheckSchema) {
		t.Fatalf("verify: %d %+v warnings %+v", status, res.Results, res.Warnings)
	}
	res, status = n.verify(t, vc, map[string]any{"checks": []any{"proof", "credentialSchema"}})
	wantFailure(t, res, status, credential.SchemaNotChecked)
	b, _ = json.Marshal(vc)
	vcFile := writeFile(t, "vc.json", string(b))
	out, errOut, code = cli(t, n.url, ks, "vc", "verify", vcFile)
	if code != 0 || strings.Count(out, "warn credentialSchema https://schemas.example/") != 2 {
		t.Fatalf("vc verify: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code = cli(t, n.url, ks, "vc", "verify", "--checks", "schema", vcFile); code != 1 || !strings.Contains(errOut, "schemas.example/elsewhere") {
		t.Fatalf("vc verify --checks schema: exit %d, %s", code, errOut)
	}
}
