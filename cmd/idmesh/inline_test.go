package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/verifier"
)

// inlineDegree is a degree whose @context has an inline object among the
// URLs, and whose subject has a context of its own.
func inlineDegree(iss string) map[string]any {
	c := degree(iss)
	c["@context"] = []any{"https://www.w3.org/ns/credentials/v2", map[string]any{"favoriteColor": "https://example.org/vocab#favoriteColor"},
		"https://www.w3.org/ns/credentials/examples/v2"}
	s := c["credentialSubject"].(map[string]any)
	s["favoriteColor"] = "blue"
	s["@context"] = map[string]any{"alumniOf": "https://schema.org/alumniOf"}
	s["alumniOf"] = "Example University"
	return c
}

// aliasUntil renames validUntil to "until", an inline alias of its IRI
// with its type: the RDF graph, and so an eddsa-rdfc-2022 proof, is
// unchanged.
func aliasUntil(m map[string]any) {
	m["@context"] = append(slices.Clone(m["@context"].([]any)), map[string]any{"until": map[string]any{
		"@id": "https://www.w3.org/2018/credentials#validUntil", "@type": "http://www.w3.org/2001/XMLSchema#dateTime"}})
	m["until"] = m["validUntil"]
	delete(m, "validUntil")
}

// TestInlineContextsE2E (issue 12, item 1) through the binary: `idmesh
// vc issue` issues a credential with inline contexts in every mechanism,
// `idmesh vc verify` and POST /credentials/verify verify it, and `idmesh
// vp sign`/`vp verify` present it. An expired credential whose
// validUntil the holder aliased (its proof intact) is refused at parse
// with MALFORMED_VALUE_ERROR, alone and presented; issuing an aliased
// credential is refused with the same problem type.
func TestInlineContextsE2E(t *testing.T) {
	n := startDevNode(t)
	ks := filepath.Join(t.TempDir(), "keystore.json")
	uni := n.createIssuer(t, "uni")
	var holder struct {
		DID string `json:"did"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, n.url, ks, "did", "create", "--json")), &holder); err != nil {
		t.Fatal(err)
	}
	verify := func(vc any) (verifier.Result, int) {
		r := authPost(t, n.url+"/credentials/verify", "", map[string]any{"verifiableCredential": vc})
		return decode[verifier.Result](t, r), r.status
	}
	b, _ := json.Marshal(inlineDegree(uni))
	credFile := writeFile(t, "inline.json", string(b))
	for _, format := range []string{"eddsa-rdfc-2022", "eddsa-jcs-2022", "vc+jwt"} {
		t.Run(format, func(t *testing.T) {
			out := mustCLI(t, n.url, ks, "vc", "issue", "--json", "--api-token", n.token, "--issuer", "uni", "--format", format, credFile)
			vc, _ := mustOneJSON(t, out).(map[string]any)
			vcFile := writeFile(t, "vc.json", out)
			if res, code := verify(vc); code != http.StatusOK || !res.Verified {
				t.Fatalf("verify: %d %+v", code, res.ProblemDetails)
			}
			if v, _ := mustOneJSON(t, mustCLI(t, n.url, ks, "vc", "verify", "--json", vcFile)).(map[string]any); v["verified"] != true {
				t.Fatalf("vc verify: %v", v)
			}
			vpFormat := "eddsa-rdfc-2022"
			if format == "vc+jwt" {
				vpFormat = "vp+jwt"
			}
			vp, errOut, code := cli(t, n.url, ks, "vp", "sign", "--holder", holder.DID+"#key-1", "--format", vpFormat, vcFile)
			_, after, ok := strings.Cut(errOut, "idmesh: challenge ")
			if code != 0 || !ok {
				t.Fatalf("vp sign: exit %d: %s", code, errOut)
			}
			vpFile := writeFile(t, "vp.json", vp)
			if out := mustCLI(t, n.url, ks, "vp", "verify", "--challenge", strings.Fields(after)[0], vpFile); !strings.Contains(out, "verified") {
				t.Fatalf("vp verify:\n%s", out)
			}
			// Issuing an aliased credential is refused.
			aliased := inlineDegree(uni)
			aliased["validUntil"] = "2099-01-01T00:00:00Z"
			aliasUntil(aliased)
			r := authPost(t, n.url+"/credentials/issue", n.token, map[string]any{"credential": aliased, "options": map[string]any{"format": format}})
			if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), credential.MalformedValueError.Type()) || !strings.Contains(string(r.body), `\"until\"`) {
				t.Fatalf("issue aliased: %d %s", r.status, r.body)
			}
		})
	}
	t.Run("holder aliases an expired credential", func(t *testing.T) {
		c := inlineDegree(uni)
		c["validFrom"], c["validUntil"] = "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z"
		vc := n.issue(t, c, nil)
		if res, code := verify(vc); code != http.StatusBadRequest || res.ProblemDetails[0].Type != credential.ValidityPeriodError.Type() {
			t.Fatalf("expired: %d %+v", code, res.ProblemDetails)
		}
		aliasUntil(vc)
		res, code := verify(vc)
		if code != http.StatusBadRequest || res.Verified || res.Results[0].Check != verifier.CheckParse ||
			res.ProblemDetails[0].Type != credential.MalformedValueError.Type() || !strings.Contains(res.ProblemDetails[0].Detail, "validUntil") {
			t.Fatalf("aliased: %d %+v", code, res.ProblemDetails)
		}
		b, _ := json.Marshal(vc)
		vcFile := writeFile(t, "aliased.json", string(b))
		if out, _, code := cli(t, n.url, ks, "vc", "verify", vcFile); code != 1 || !strings.Contains(out, "MALFORMED_VALUE_ERROR") {
			t.Fatalf("vc verify aliased: exit %d\n%s", code, out)
		}
		vp, errOut, code := cli(t, n.url, ks, "vp", "sign", "--holder", holder.DID+"#key-1", vcFile)
		_, after, ok := strings.Cut(errOut, "idmesh: challenge ")
		if code != 0 || !ok {
			t.Fatalf("vp sign: exit %d: %s", code, errOut)
		}
		vpFile := writeFile(t, "vp-aliased.json", vp)
		if out, _, code := cli(t, n.url, ks, "vp", "verify", "--json", "--challenge", strings.Fields(after)[0], vpFile); code != 1 || !strings.Contains(out, "MALFORMED_VALUE_ERROR") {
			t.Fatalf("vp verify aliased: exit %d\n%s", code, out)
		}
	})
}
