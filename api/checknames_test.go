package api_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/didkeys"
	"github.com/idmesh/idmesh/credential/statuslist"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/verifier"
)

const checkNamesSchemaID = "https://schemas.example/degree/v1"

// memSchemas serves schemas from memory.
type memSchemas map[string][]byte

func (m memSchemas) Schema(id string) ([]byte, error) {
	if b, ok := m[id]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("schema %s is not known", id)
}

// didKeySigner is a did:key signer from seed.
func didKeySigner(t *testing.T, seed byte) credential.KeySigner {
	t.Helper()
	k, err := keys.Generate(keys.Ed25519, rand.NewChaCha8([32]byte{seed}))
	if err != nil {
		t.Fatal(err)
	}
	return credential.KeySigner{ID: key.New(k.Public()) + "#" + k.Public().Multibase(), Key: k}
}

// checkNamesServer serves the API on loopback with a verifier that has a
// status list (entry 4242 clear) and a schema, and a credential with a
// status entry and that schema, signed by a did:key issuer.
func checkNamesServer(t *testing.T) (ts string, c *http.Client, vc map[string]any, holder credential.KeySigner) {
	t.Helper()
	signer := didKeySigner(t, 7)
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	bits, err := statuslist.New(statuslist.MinLength)
	if err != nil {
		t.Fatal(err)
	}
	url := "https://node.example/status-lists/names-1"
	lc, err := statuslist.NewListCredential(url, key.New(signer.Public()), statuslist.PurposeRevocation, bits, at)
	if err != nil {
		t.Fatal(err)
	}
	list, err := dataintegrity.Sign(t.Context(), lc, signer, dataintegrity.SignOptions{Created: at})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(list)
	schema := []byte(`{"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "` + checkNamesSchemaID + `",
		"type": "object", "required": ["credentialSubject"]}`)
	srv, _, _ := limitServer(t, func(c *api.Config) {
		c.VerifyRate = -1
		c.Verifier = &verifier.Verifier{Keys: &didkeys.CachedKeys{Next: didkeys.DIDKeys{Resolver: did.Methods{"key": key.Resolver{}}}},
			Now: c.Now, Lists: memLists{url: url, list: raw}, Schemas: memSchemas{checkNamesSchemaID: schema}}
	})
	cred := benchCredential(key.New(signer.Public()))
	cred["credentialStatus"] = map[string]any{"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
		"statusListIndex": "4242", "statusListCredential": url}
	cred["credentialSchema"] = map[string]any{"id": checkNamesSchemaID, "type": "JsonSchema"}
	vc, err = issuer.Issue(t.Context(), cred, signer, issuer.Options{Format: issuer.FormatRDFC, Now: at})
	if err != nil {
		t.Fatal(err)
	}
	return srv.URL, srv.Client(), vc, didKeySigner(t, 8)
}

// reported lists the checks of a result's results, in order.
func reported(res verifier.Result) []string {
	out := make([]string, 0, len(res.Results))
	for _, r := range res.Results {
		out = append(out, r.Check)
	}
	return out
}

// TestVerifyCheckNames: through the HTTP server, options.checks in the
// VC-API's spellings run the mapped checks, each reported once under
// idmesh's name, for credentials and for the credentials of a
// presentation; a check named twice runs once; an unknown name gets the
// verification result it always did, its detail listing the aliases.
func TestVerifyCheckNames(t *testing.T) {
	u, c, vc, holder := checkNamesServer(t)
	vp := map[string]any{"@context": []any{credential.ContextV2}, "type": []any{credential.TypePresentation},
		"holder": key.New(holder.Public()), "verifiableCredential": []any{vc}}
	vp, err := dataintegrity.Sign(t.Context(), vp, holder, dataintegrity.SignOptions{
		Cryptosuite: dataintegrity.CryptosuiteJCS, ProofPurpose: credential.PurposeAuthentication, Created: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	mapped := []string{verifier.CheckParse, verifier.CheckProof, verifier.CheckValidity, verifier.CheckSchema, verifier.CheckStatus}
	// A presentation's credentials run the credential checks that apply.
	inVP := []string{verifier.CheckParse, verifier.CheckContext, verifier.CheckProof, verifier.CheckValidity, verifier.CheckSchema, verifier.CheckStatus}
	cases := []struct {
		name, path, member string
		doc                any
		checks             []any
		status             int
		want, wantVC       []string // reported checks; of the first credential
		detail             []string // in the first problem's detail
	}{
		{name: "credential, VC-API names", path: "/credentials/verify", member: "verifiableCredential", doc: vc,
			checks: []any{"credentialStatus", "issuanceDate", "credentialSchema", "proof"}, status: http.StatusOK, want: mapped},
		{name: "credential, both spellings", path: "/credentials/verify", member: "verifiableCredential", doc: vc,
			checks: []any{"status", "credentialStatus", "proof", "validity", "issuanceDate", "expiration", "schema", "credentialSchema", "status"}, status: http.StatusOK, want: mapped},
		{name: "credential, status twice", path: "/credentials/verify", member: "verifiableCredential", doc: vc,
			checks: []any{"status", "credentialStatus"}, status: http.StatusOK, want: []string{verifier.CheckParse, verifier.CheckProof, verifier.CheckStatus}},
		{name: "credential, unknown", path: "/credentials/verify", member: "verifiableCredential", doc: vc,
			checks: []any{"credentialStatus", "revocation"}, status: http.StatusBadRequest, want: []string{verifier.CheckParse},
			detail: []string{`unknown check "revocation"`, "status", "credentialStatus (status)", "issuanceDate (validity)", "credentialSchema (schema)", "expiration (validity)"}},
		{name: "presentation, aliases", path: "/presentations/verify", member: "verifiablePresentation", doc: vp,
			checks: []any{"issuanceDate", "proof", "credentials", "validFrom", "credentials"}, status: http.StatusOK,
			want: []string{verifier.CheckParse, verifier.CheckProof, verifier.CheckCredentials}, wantVC: inVP},
		{name: "presentation, credentialStatus", path: "/presentations/verify", member: "verifiablePresentation", doc: vp,
			checks: []any{"credentialStatus", "issuanceDate", "credentialSchema", "proof"}, status: http.StatusOK,
			want: []string{verifier.CheckParse, verifier.CheckProof, verifier.CheckCredentials}, wantVC: inVP},
		{name: "presentation, unknown", path: "/presentations/verify", member: "verifiablePresentation", doc: vp,
			checks: []any{"credentialStatus", "revocation"}, status: http.StatusBadRequest, want: []string{verifier.CheckParse},
			detail: []string{`unknown check "revocation"`, "holderBinding", "credentialStatus (status)", "credentialSchema (schema)", "issuanceDate (validity)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{tc.member: tc.doc, "options": map[string]any{"checks": tc.checks}})
			a := post(t, c, u+tc.path, body)
			var res verifier.Result
			if err := json.Unmarshal(a.body, &res); err != nil || a.status != tc.status {
				t.Fatalf("%d %.600s", a.status, a.body)
			}
			if !slices.Equal(res.Checks, tc.want) || !slices.Equal(reported(res), tc.want) {
				t.Errorf("checks %v, results %v, want %v (%+v)", res.Checks, reported(res), tc.want, res.ProblemDetails)
			}
			if tc.wantVC != nil {
				if len(res.Credentials) != 1 || !slices.Equal(res.Credentials[0].Checks, tc.wantVC) || !slices.Equal(reported(res.Credentials[0]), tc.wantVC) {
					t.Errorf("credential results %+v, want checks %v", res.Credentials, tc.wantVC)
				}
			}
			if tc.detail == nil {
				return
			}
			if len(res.ProblemDetails) != 1 || res.ProblemDetails[0].Type != credential.MalformedValueError.Type() {
				t.Fatalf("problems %+v", res.ProblemDetails)
			}
			for _, d := range tc.detail {
				if !strings.Contains(res.ProblemDetails[0].Detail, d) {
					t.Errorf("detail %q lacks %q", res.ProblemDetails[0].Detail, d)
				}
			}
		})
	}
}
