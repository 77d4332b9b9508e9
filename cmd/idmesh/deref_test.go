package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// TestDereferenceThroughBinary is issue 12 item 6 through the real binary
// against idmesh dev: create a DID with a service, dereference its key
// fragment and its service over HTTP (result, bare object, 303) and with
// `idmesh did resolve DID-URL`, and a fragment at an older version.
func TestDereferenceThroughBinary(t *testing.T) {
	n := startDev(t, filepath.Join(t.TempDir(), "home"))
	ks := filepath.Join(t.TempDir(), "ks.json")
	var c struct {
		DID       string `json:"did"`
		VersionID string `json:"versionId"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, n.url, ks, "did", "create", "--json", "--service", "LinkedDomains=https://files.example/base/")), &c); err != nil {
		t.Fatal(err)
	}
	d, v1 := c.DID, c.VersionID
	base := n.url + "/1.0/identifiers/"

	// The key fragment: the whole result, and the bare method.
	r := get(t, base+d+"%23key-1", "")
	var res struct {
		Metadata struct {
			ContentType string `json:"contentType"`
		} `json:"dereferencingMetadata"`
		Content  map[string]any `json:"contentStream"`
		Document map[string]any `json:"contentMetadata"`
	}
	if err := json.Unmarshal(r.body, &res); err != nil || r.status != 200 || r.contentType != "application/did-url-dereferencing" {
		t.Fatalf("key fragment: %d %q %s", r.status, r.contentType, r.body)
	}
	if res.Content["id"] != d+"#key-1" || res.Content["publicKeyMultibase"] == nil || res.Content["@context"] == nil || res.Document["versionId"] != v1 {
		t.Fatalf("key fragment result: %s", r.body)
	}
	for accept, withContext := range map[string]bool{"application/did+ld+json": true, "application/did+json": false} {
		r := get(t, base+d+"%23key-1", accept)
		var vm map[string]any
		if err := json.Unmarshal(r.body, &vm); err != nil || r.status != 200 || r.contentType != accept || vm["id"] != d+"#key-1" || (vm["@context"] != nil) != withContext {
			t.Fatalf("%s: %d %q %s", accept, r.status, r.contentType, r.body)
		}
	}
	// The service fragment, and the service's endpoint: a 303.
	r = get(t, base+d+"%23service-1", "application/did+json")
	if !strings.Contains(string(r.body), `"serviceEndpoint":"https://files.example/base/"`) {
		t.Fatalf("service fragment: %d %s", r.status, r.body)
	}
	req, _ := http.NewRequest(http.MethodGet, base+d+"?service=service-1&relativeRef=%2Fdocs%2Fa.pdf", nil)
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "https://files.example/docs/a.pdf" {
		t.Fatalf("service: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// The CLI prints the dereferenced object, or the URL.
	out := mustCLI(t, n.url, ks, "did", "resolve", d+"#key-1")
	var vm map[string]any
	if err := json.Unmarshal([]byte(out), &vm); err != nil || vm["id"] != d+"#key-1" || vm["type"] != "Multikey" {
		t.Fatalf("did resolve %s#key-1 prints:\n%s", d, out)
	}
	if out := mustCLI(t, n.url, ks, "did", "resolve", d+"?service=service-1&relativeRef=%2Fdoc#intro"); out != "https://files.example/doc#intro\n" {
		t.Fatalf("did resolve of the service prints %q", out)
	}
	var whole map[string]any
	if err := json.Unmarshal([]byte(mustCLI(t, n.url, ks, "did", "resolve", "--json", d+"#service-1")), &whole); err != nil || whole["contentStream"] == nil || whole["dereferencingMetadata"] == nil {
		t.Fatalf("did resolve --json: %v %v", whole, err)
	}
	// Resolution output of the DID itself is unchanged: the text summary.
	if out := mustCLI(t, n.url, ks, "did", "resolve", d); !strings.HasPrefix(out, d+"\n") || !strings.Contains(out, "service-1") {
		t.Fatalf("did resolve %s prints:\n%s", d, out)
	}

	// A service added by an update is not in version 1.
	mustCLI(t, n.url, ks, "did", "update", d, "--add-service", "LinkedDomains=https://two.example/")
	if out := mustCLI(t, n.url, ks, "did", "resolve", d+"#service-2"); !strings.Contains(out, "https://two.example/") {
		t.Fatalf("service-2: %s", out)
	}
	if r := get(t, base+d+"%23service-2?versionId="+url.QueryEscape(v1), ""); r.status != http.StatusNotFound || !strings.Contains(string(r.body), "#NOT_FOUND") {
		t.Fatalf("service-2 at version 1: %d %s", r.status, r.body)
	}
	_, errOut, code := cli(t, n.url, ks, "did", "resolve", d+"#service-2", "--version-id", v1)
	if code != exitFailure || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "service-2") {
		t.Fatalf("did resolve of a missing fragment: exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = cli(t, n.url, ks, "did", "resolve", d+"?service=service-1&relativeRef=%2F%2Fevil.example")
	if code != exitFailure || !strings.Contains(errOut, "network-path") {
		t.Fatalf("did resolve of a relativeRef to another host: exit %d, stderr %q", code, errOut)
	}
	// A malformed DID URL is a usage error, said in one line, before any request.
	_, errOut, code = cli(t, n.url, ks, "did", "resolve", "foo#key-1")
	if code != exitUsage || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "invalid DID URL") {
		t.Fatalf("did resolve foo#key-1: exit %d, stderr %q", code, errOut)
	}
	n.stop()
}
