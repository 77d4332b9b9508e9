package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/statuslist"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/keystore"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/verifier"
)

// devNode is a running `idmesh dev` with its token.
type devNode struct {
	*proc
	home, token string
}

func startDevNode(t *testing.T, extra ...string) devNode {
	t.Helper()
	home := filepath.Join(t.TempDir(), "home")
	n := startDev(t, home, extra...)
	b, err := os.ReadFile(filepath.Join(home, "api-token"))
	if err != nil {
		t.Fatal(err)
	}
	return devNode{proc: n, home: home, token: strings.TrimSpace(string(b))}
}

func (n devNode) createIssuer(t *testing.T, name string) string {
	t.Helper()
	r := authPost(t, n.url+"/v1/issuers", n.token, map[string]any{"name": name})
	if r.status != http.StatusCreated {
		t.Fatalf("create issuer %s: %d %s", name, r.status, r.body)
	}
	return decode[struct {
		DID string `json:"did"`
	}](t, r).DID
}

func (n devNode) issue(t *testing.T, cred map[string]any, opts map[string]any) map[string]any {
	t.Helper()
	r := authPost(t, n.url+"/credentials/issue", n.token, map[string]any{"credential": cred, "options": opts})
	if r.status != http.StatusCreated {
		t.Fatalf("issue: %d %s", r.status, r.body)
	}
	return decode[struct {
		VC map[string]any `json:"verifiableCredential"`
	}](t, r).VC
}

func (n devNode) verify(t *testing.T, vc any, opts map[string]any) (verifier.Result, int) {
	t.Helper()
	r := authPost(t, n.url+"/credentials/verify", "", map[string]any{"verifiableCredential": vc, "options": opts})
	return decode[verifier.Result](t, r), r.status
}

func (n devNode) setStatus(t *testing.T, id, purpose string, status bool) httpResult {
	t.Helper()
	return authPost(t, n.url+"/credentials/status", n.token, map[string]any{"credentialId": id,
		"credentialStatus": map[string]any{"type": "BitstringStatusListEntry", "statusPurpose": purpose}, "status": status})
}

// wantFailure checks a failed verification's first problem type.
func wantFailure(t *testing.T, res verifier.Result, status int, code credential.Code) {
	t.Helper()
	if status != http.StatusBadRequest || res.Verified || len(res.ProblemDetails) == 0 || res.ProblemDetails[0].Type != code.Type() {
		t.Fatalf("want %s (400), got %d %+v", code, status, res.ProblemDetails)
	}
}

func TestCredentialLifecycle(t *testing.T) {
	n := startDevNode(t, "--require-trust", "ExampleDegreeCredential")
	ks := filepath.Join(t.TempDir(), "keystore.json")
	uni := n.createIssuer(t, "uni")
	mill := n.createIssuer(t, "diploma-mill")

	// Governance: accredit uni for degrees (the dev node's validator signs).
	r := authPost(t, n.url+"/v1/trust", n.token, map[string]any{"action": "add", "issuer": uni, "types": []string{"ExampleDegreeCredential"}})
	if r.status != http.StatusCreated {
		t.Fatalf("trust: %d %s", r.status, r.body)
	}
	if r := get(t, n.url+"/v1/trust/"+uni, ""); r.status != http.StatusOK || !strings.Contains(string(r.body), "ExampleDegreeCredential") {
		t.Fatalf("trust record: %d %s", r.status, r.body)
	}
	if r := authPost(t, n.url+"/v1/trust", "", map[string]any{"action": "add", "issuer": mill, "types": []string{"ExampleDegreeCredential"}}); r.status != http.StatusUnauthorized {
		t.Fatalf("trust without the token: %d", r.status)
	}

	// Issued credentials carry revocation and suspension entries.
	vc := n.issue(t, degree(uni), nil)
	entries, _ := vc["credentialStatus"].([]any)
	id, _ := vc["id"].(string)
	if len(entries) != 2 || !strings.HasPrefix(id, "urn:uuid:") {
		t.Fatalf("status entries %v, id %q", vc["credentialStatus"], id)
	}
	var lists []string
	for _, e := range entries {
		en, err := statuslist.ParseEntry(e.(map[string]any))
		if err != nil {
			t.Fatal(err)
		}
		lists = append(lists, en.ListCredential)
	}
	res, code := n.verify(t, vc, nil)
	if code != http.StatusOK || res.StatusHeight == 0 || !hasCheck(res, "status") || !hasCheck(res, "trust") {
		t.Fatalf("verify: %d %+v", code, res)
	}

	t.Run("untrusted issuer", func(t *testing.T) {
		res, code := n.verify(t, n.issue(t, degree(mill), nil), nil)
		wantFailure(t, res, code, credential.UntrustedIssuerError)
	})

	t.Run("status lists are served", func(t *testing.T) {
		for _, u := range lists {
			listID := u[strings.LastIndex(u, "/")+1:]
			for _, path := range []string{"/status-lists/" + listID, "/1.0/identifiers/" + uni + "/status-lists/" + listID,
				"/1.0/identifiers/" + url.PathEscape(uni+"/status-lists/"+listID)} {
				r := get(t, n.url+path, "")
				if r.status != http.StatusOK || !strings.Contains(string(r.body), "BitstringStatusListCredential") {
					t.Fatalf("GET %s: %d %s", path, r.status, r.body)
				}
			}
			if r := get(t, n.url+"/1.0/identifiers/"+mill+"/status-lists/"+listID, ""); r.status != http.StatusNotFound {
				t.Fatalf("another DID's list: %d", r.status)
			}
		}
	})

	t.Run("revoke", func(t *testing.T) {
		out := mustCLI(t, n.url, ks, "vc", "status", id, "--api-token", n.token, "--purpose", "revocation", "--set", "true")
		if !strings.Contains(out, "revocation=true at height") {
			t.Fatalf("vc status: %s", out)
		}
		res, code := n.verify(t, vc, nil)
		wantFailure(t, res, code, credential.CredentialRevoked)
		// A light client checks the list against a header the validators
		// signed: the proved value is the list the node serves.
		listID := lists[0][strings.LastIndex(lists[0], "/")+1:]
		proved := checkProofAt(t, n.url, "/v1/proofs/status-lists/"+listID, true)
		if served := get(t, n.url+"/status-lists/"+listID, "").body; string(proved) != string(served) {
			t.Fatal("the proved list is not the served one")
		}
		checkProofAt(t, n.url, "/v1/proofs/status-lists/"+registry.StatusListOwner(uni)+"none", false)
		// Un-revoking is refused, and the credential stays revoked.
		r := n.setStatus(t, id, "revocation", false)
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "revocation-final") {
			t.Fatalf("un-revoke: %d %s", r.status, r.body)
		}
		res, code = n.verify(t, vc, nil)
		wantFailure(t, res, code, credential.CredentialRevoked)
		// Without the status check it verifies, with a warning.
		if res, code := n.verify(t, vc, map[string]any{"checks": []any{"proof"}}); code != http.StatusOK || len(res.Warnings) == 0 {
			t.Fatalf("without the status check: %d %+v", code, res)
		}
	})

	t.Run("suspend and unsuspend", func(t *testing.T) {
		vc2 := n.issue(t, degree(uni), map[string]any{"format": "vc+jwt"})
		res, _ := n.verify(t, vc2, nil)
		id2, _ := res.Document["id"].(string)
		if !res.Verified || id2 == "" {
			t.Fatalf("verify: %+v", res)
		}
		if r := n.setStatus(t, id2, "suspension", true); r.status != http.StatusOK {
			t.Fatalf("suspend: %d %s", r.status, r.body)
		}
		res, code := n.verify(t, vc2, nil)
		wantFailure(t, res, code, credential.CredentialSuspended)
		if r := n.setStatus(t, id2, "suspension", false); r.status != http.StatusOK {
			t.Fatalf("unsuspend: %d %s", r.status, r.body)
		}
		if res, code := n.verify(t, vc2, nil); code != http.StatusOK {
			t.Fatalf("after unsuspend: %d %+v", code, res.ProblemDetails)
		}
		if r := n.setStatus(t, "urn:uuid:00000000-0000-4000-8000-000000000000", "suspension", true); r.status != http.StatusNotFound {
			t.Fatalf("unknown credential: %d", r.status)
		}
	})

	t.Run("status list signed by another key", func(t *testing.T) {
		listID := lists[0][strings.LastIndex(lists[0], "/")+1:]
		r := get(t, n.url+"/status-lists/"+listID, "")
		var current map[string]any
		if err := json.Unmarshal(r.body, &current); err != nil {
			t.Fatal(err)
		}
		// The current version again: not newer.
		if r := authPost(t, n.url+"/v1/status-lists", "", current); r.status != http.StatusConflict {
			t.Fatalf("replayed list: %d %s", r.status, r.body)
		}
		l, err := statuslist.ParseListCredential(current, 0)
		if err != nil {
			t.Fatal(err)
		}
		bits := l.Bits.Clone()
		_ = bits.Set(7, true)
		forged, err := statuslist.NewListCredential(l.ID, uni, l.Purposes[0], bits, time.Now().Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		k, _ := keys.Generate(keys.Ed25519, rand.Reader)
		dk := key.New(k.Public())
		signed, err := dataintegrity.Sign(context.Background(), forged, credential.KeySigner{ID: dk + "#" + k.Public().Multibase(), Key: k}, dataintegrity.SignOptions{Created: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if r := authPost(t, n.url+"/v1/status-lists", "", signed); r.status != http.StatusForbidden {
			t.Fatalf("forged list: %d %s", r.status, r.body)
		}
	})

	t.Run("schemas", func(t *testing.T) {
		c := degree(uni)
		c["type"] = []any{"VerifiableCredential", "UniversityDegreeCredential"}
		c["validFrom"] = "2024-06-01T09:00:00Z"
		c["credentialSchema"] = map[string]any{"id": "https://schemas.idmesh.dev/university-degree/v1", "type": "JsonSchema"}
		c["credentialSubject"] = map[string]any{"id": "did:example:alice", "degree": map[string]any{"type": "BachelorDegree", "name": "BSc"}}
		n.issue(t, c, nil) // the bundled schema, matched
		bad := degree(uni)
		bad["type"] = []any{"VerifiableCredential", "UniversityDegreeCredential"}
		bad["credentialSchema"] = c["credentialSchema"]
		bad["credentialSubject"] = map[string]any{"id": "did:example:alice", "degree": map[string]any{"type": "BachelorDegree"}}
		r := authPost(t, n.url+"/credentials/issue", n.token, map[string]any{"credential": bad})
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), string(credential.SchemaValidationError)) {
			t.Fatalf("issue against the schema: %d %s", r.status, r.body)
		}

		// A schema registered on the chain, by hash.
		dir := t.TempDir()
		schemaFile := filepath.Join(dir, "badge.json")
		if err := os.WriteFile(schemaFile, []byte(`{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",
			"required":["credentialSubject"],"properties":{"credentialSubject":{"type":"object","required":["badge"]}}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		var reg struct {
			Hash, ID string
		}
		if err := json.Unmarshal([]byte(mustCLI(t, n.url, ks, "schema", "register", "--api-token", n.token, "--issuer", "uni", "--json", schemaFile)), &reg); err != nil {
			t.Fatal(err)
		}
		if out := mustCLI(t, n.url, ks, "schema", "get", reg.Hash); !strings.Contains(out, "badge") {
			t.Fatalf("schema get: %s", out)
		}
		// Signed elsewhere (so issuance checks do not stop it), broken: the
		// verifier refuses it.
		k, _ := keys.Generate(keys.Ed25519, rand.Reader)
		dk := key.New(k.Public())
		cred := map[string]any{
			"@context":          []any{credential.ContextV2, "https://www.w3.org/ns/credentials/examples/v2"},
			"type":              []any{"VerifiableCredential", "ExampleBadgeCredential"},
			"issuer":            dk,
			"credentialSchema":  map[string]any{"id": reg.ID, "type": "JsonSchema"},
			"credentialSubject": map[string]any{"id": "did:example:alice", "name": "no badge here"},
		}
		vc, err := dataintegrity.Sign(context.Background(), cred, credential.KeySigner{ID: dk + "#" + k.Public().Multibase(), Key: k}, dataintegrity.SignOptions{Created: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		res, code := n.verify(t, vc, nil)
		wantFailure(t, res, code, credential.SchemaValidationError)
		cred["credentialSubject"] = map[string]any{"id": "did:example:alice", "badge": "gold"}
		vc, _ = dataintegrity.Sign(context.Background(), cred, credential.KeySigner{ID: dk + "#" + k.Public().Multibase(), Key: k}, dataintegrity.SignOptions{Created: time.Now()})
		if res, code := n.verify(t, vc, nil); code != http.StatusOK {
			t.Fatalf("matching credential: %d %+v", code, res.ProblemDetails)
		}
	})

	t.Run("rotated and compromised keys", func(t *testing.T) {
		var created struct {
			DID string `json:"did"`
		}
		if err := json.Unmarshal([]byte(mustCLI(t, n.url, ks, "did", "create", "--json")), &created); err != nil {
			t.Fatal(err)
		}
		d := created.DID
		sign := func(keyID string) map[string]any {
			k := keystoreKey(t, ks, keyID)
			c := degree(d)
			c["type"] = []any{"VerifiableCredential", "ExampleAlumniCredential"}
			vc, err := dataintegrity.Sign(context.Background(), c, credential.KeySigner{ID: keyID, Key: k}, dataintegrity.SignOptions{Created: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			return vc
		}
		old := sign(d + "#key-1")
		mustCLI(t, n.url, ks, "did", "rotate", d) // key-1 retired
		if res, code := n.verify(t, old, nil); code != http.StatusOK {
			t.Fatalf("signed by a retired key: %d %+v", code, res.ProblemDetails)
		}
		newer := sign(d + "#key-2")
		mustCLI(t, n.url, ks, "did", "rotate", d, "--compromised") // key-2 compromised
		res, code := n.verify(t, newer, nil)
		wantFailure(t, res, code, credential.KeyCompromisedError)
		if res, code := n.verify(t, old, nil); code != http.StatusOK {
			t.Fatalf("the retired key's credential after a later compromise: %d %+v", code, res.ProblemDetails)
		}
	})
}

func hasCheck(res verifier.Result, check string) bool {
	for _, r := range res.Results {
		if r.Check == check && r.Verified {
			return true
		}
	}
	return false
}

// keystoreKey reads the private key id from the CLI's keystore ks (the
// tests' passphrase).
func keystoreKey(t testing.TB, ks, id string) keys.PrivateKey {
	t.Helper()
	store, err := keystore.Open(ks, []byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	e, err := store.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.UnmarshalPrivateKey(e.Secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
