package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/api/openapitest"
)

// TestOpenAPIDev drives `idmesh dev` through a client whose every
// response is checked against api/openapi.yaml (openapitest.Transport):
// the served document is the file byte for byte, and health, readiness,
// status, blocks, metrics, issuers, resolution, proofs, issuance,
// verification (verified and not), challenges, status lists, type
// metadata and the 401, 404 and 405 problems all answer as documented.
func TestOpenAPIDev(t *testing.T) {
	n := startDevNode(t)
	c := &http.Client{Transport: openapitest.MustNew(t).Transport(t, nil)}
	call := func(method, path, token string, body any, want int, header ...string) []byte {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
		u := path
		if strings.HasPrefix(path, "/") {
			u = n.url + path
		}
		req, err := http.NewRequestWithContext(t.Context(), method, u, rd)
		if err != nil {
			t.Fatal(err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %.300s", method, path, res.StatusCode, want, b)
		}
		return b
	}

	file, err := os.ReadFile(filepath.Join("..", "..", "api", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if served := call(http.MethodGet, "/openapi.yaml", "", nil, http.StatusOK); !bytes.Equal(served, file) {
		t.Fatalf("the node serves %d bytes at /openapi.yaml that differ from api/openapi.yaml's %d", len(served), len(file))
	}
	call(http.MethodHead, "/openapi.yaml", "", nil, http.StatusOK)
	for _, p := range []string{"/healthz", "/readyz", "/v1/status", "/metrics", "/vct/university-degree"} {
		call(http.MethodGet, p, "", nil, http.StatusOK)
	}
	call(http.MethodGet, "/v1/issuers", "", nil, http.StatusUnauthorized)
	call(http.MethodGet, "/no/such/endpoint", "", nil, http.StatusNotFound)
	call(http.MethodDelete, "/healthz", "", nil, http.StatusMethodNotAllowed)
	call(http.MethodGet, "/v1/blocks/99999", "", nil, http.StatusNotFound)

	iss := n.createIssuer(t, "uni")
	call(http.MethodGet, "/v1/issuers", n.token, nil, http.StatusOK)
	call(http.MethodGet, "/v1/blocks/latest", "", nil, http.StatusOK)
	call(http.MethodGet, "/v1/blocks/1", "", nil, http.StatusOK)
	call(http.MethodGet, "/v1/status", "", nil, http.StatusOK)
	call(http.MethodGet, "/1.0/identifiers/"+iss, "", nil, http.StatusOK)
	call(http.MethodGet, "/1.0/identifiers/"+iss, "", nil, http.StatusOK, "Accept", "application/did+ld+json")
	call(http.MethodGet, "/1.0/identifiers/"+url.PathEscape(iss+"#no-such-key"), "", nil, http.StatusNotFound)
	call(http.MethodGet, "/1.0/identifiers/did:idmesh:11111111111111111111111111111111", "", nil, http.StatusNotFound)
	call(http.MethodGet, "/v1/proofs/dids/"+iss, "", nil, http.StatusOK)

	var issued struct {
		VC map[string]any `json:"verifiableCredential"`
	}
	if err := json.Unmarshal(call(http.MethodPost, "/credentials/issue", n.token, map[string]any{"credential": degree(iss)}, http.StatusCreated), &issued); err != nil {
		t.Fatal(err)
	}
	call(http.MethodPost, "/credentials/verify", "", map[string]any{"verifiableCredential": issued.VC}, http.StatusOK)
	tampered := map[string]any{}
	for k, v := range issued.VC {
		tampered[k] = v
	}
	tampered["issuer"] = "did:example:someone-else"
	call(http.MethodPost, "/credentials/verify", "", map[string]any{"verifiableCredential": tampered}, http.StatusBadRequest)
	call(http.MethodPost, "/credentials/verify", "", map[string]any{}, http.StatusBadRequest)
	call(http.MethodPost, "/challenges", "", map[string]any{"domain": "example.com"}, http.StatusCreated)
	entries, _ := issued.VC["credentialStatus"].([]any)
	if len(entries) == 0 {
		t.Fatalf("issued without status: %v", issued.VC)
	}
	u, _ := entries[0].(map[string]any)["statusListCredential"].(string)
	i := strings.Index(u, "/status-lists/")
	if i < 0 {
		t.Fatalf("status list URL %q", u)
	}
	call(http.MethodGet, u[i:], "", nil, http.StatusOK)
	call(http.MethodGet, "/v1/proofs"+u[i:], "", nil, http.StatusOK)
}
