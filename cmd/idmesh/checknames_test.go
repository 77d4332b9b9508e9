package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/verifier"
)

// TestVerifyCheckNamesCLI: vc verify and vp verify --checks take the
// VC-API's names as the node does (spaces around a name dropped): each
// mapped check runs and is reported once, under idmesh's name; an
// unknown name exits 1 with one line listing the accepted names and
// aliases.
func TestVerifyCheckNamesCLI(t *testing.T) {
	n := startDevNode(t)
	ks := filepath.Join(t.TempDir(), "keystore.json")
	uni := n.createIssuer(t, "uni")
	// Issued on the dev node: status entries, and the bundled schema.
	c := degree(uni)
	c["type"] = []any{"VerifiableCredential", "UniversityDegreeCredential"}
	c["validFrom"] = "2024-06-01T09:00:00Z"
	c["credentialSchema"] = map[string]any{"id": "https://schemas.idmesh.dev/university-degree/v1", "type": "JsonSchema"}
	c["credentialSubject"] = map[string]any{"id": "did:example:alice", "degree": map[string]any{"type": "BachelorDegree", "name": "BSc"}}
	b, _ := json.Marshal(n.issue(t, c, nil))
	vcFile := writeFile(t, "vc.json", string(b))

	mapped := []string{verifier.CheckParse, verifier.CheckProof, verifier.CheckValidity, verifier.CheckSchema, verifier.CheckStatus}
	for _, checks := range []string{
		"credentialStatus,issuanceDate,credentialSchema,proof",
		"status, credentialStatus,proof,validity,issuanceDate,schema,credentialSchema",
	} {
		var res verifier.Result
		if err := json.Unmarshal([]byte(mustCLI(t, n.url, ks, "vc", "verify", "--json", "--checks", checks, vcFile)), &res); err != nil {
			t.Fatal(err)
		}
		var reported []string
		for _, r := range res.Results {
			reported = append(reported, r.Check)
		}
		if !res.Verified || !slices.Equal(res.Checks, mapped) || !slices.Equal(reported, mapped) {
			t.Errorf("--checks %s: verified %v, checks %v, results %v, want %v", checks, res.Verified, res.Checks, reported, mapped)
		}
	}
	// The text output: one line per check.
	out := mustCLI(t, n.url, ks, "vc", "verify", "--checks", "credentialStatus,status", vcFile)
	if strings.Count(out, "ok   status") != 1 || strings.Contains(out, "credentialStatus") {
		t.Errorf("vc verify --checks credentialStatus,status:\n%s", out)
	}

	out, errOut, code := cli(t, n.url, ks, "vc", "verify", "--checks", "proof,bogus", vcFile)
	if code != 1 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, `unknown check "bogus"`) ||
		!strings.Contains(errOut, "credentialStatus (status)") || !strings.Contains(errOut, "issuanceDate (validity)") || !strings.Contains(errOut, "credentialSchema (schema)") {
		t.Errorf("vc verify --checks proof,bogus: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	// A presentation: its own checks by their aliases.
	var holder struct {
		DID string `json:"did"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, n.url, ks, "did", "create", "--json")), &holder); err != nil {
		t.Fatal(err)
	}
	vp, errOut, code := cli(t, n.url, ks, "vp", "sign", "--holder", holder.DID+"#key-1", vcFile)
	_, after, ok := strings.Cut(errOut, "idmesh: challenge ")
	if code != 0 || !ok {
		t.Fatalf("vp sign: exit %d: %s", code, errOut)
	}
	challenge := strings.Fields(after)[0]
	vpFile := writeFile(t, "vp.json", vp)
	out, errOut, code = cli(t, n.url, ks, "vp", "verify", "--challenge", challenge, "--checks", "revocation,proof", vpFile)
	if code != 1 || !strings.Contains(errOut, `unknown check "revocation"`) || !strings.Contains(errOut, "issuanceDate (validity)") || !strings.Contains(errOut, "credentialStatus (status)") {
		t.Errorf("vp verify --checks revocation,proof: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	var res verifier.Result
	if err := json.Unmarshal([]byte(mustCLI(t, n.url, ks, "vp", "verify", "--json", "--challenge", challenge,
		"--checks", "issuanceDate,proof,challenge,credentials,validFrom,credentials", vpFile)), &res); err != nil {
		t.Fatal(err)
	}
	want := []string{verifier.CheckParse, verifier.CheckProof, verifier.CheckChallenge, verifier.CheckCredentials}
	if !res.Verified || !slices.Equal(res.Checks, want) || len(res.Results) != len(want) {
		t.Errorf("vp verify: verified %v, checks %v, want %v (%+v)", res.Verified, res.Checks, want, res.ProblemDetails)
	}
	// Status and schema named for a presentation are passed down to its
	// credential (a new presentation: the challenge above is spent).
	vp, errOut, code = cli(t, n.url, ks, "vp", "sign", "--holder", holder.DID+"#key-1", vcFile)
	if _, after, ok = strings.Cut(errOut, "idmesh: challenge "); code != 0 || !ok {
		t.Fatalf("vp sign: exit %d: %s", code, errOut)
	}
	challenge, vpFile = strings.Fields(after)[0], writeFile(t, "vp2.json", vp)
	var passed verifier.Result
	if err := json.Unmarshal([]byte(mustCLI(t, n.url, ks, "vp", "verify", "--json", "--challenge", challenge,
		"--checks", "credentialStatus,credentialSchema,proof", vpFile)), &passed); err != nil {
		t.Fatal(err)
	}
	if !passed.Verified || len(passed.Credentials) != 1 || !slices.Contains(passed.Credentials[0].Checks, verifier.CheckStatus) || !slices.Contains(passed.Credentials[0].Checks, verifier.CheckSchema) {
		t.Errorf("vp verify --checks credentialStatus,credentialSchema,proof: %+v", passed)
	}
}
