package dataintegrity_test

// Review R7, finding 1, reachability: a credential whose @context repeats
// a bundled context gets its proof configuration canonicalized (CanonicalizeConfig, which keeps the key)
// without any valid signature, only a resolvable Ed25519 key for
// assertionMethod (any did:key), which is why the cache of proof
// configuration templates must bound what such keys can hold.

import (
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/ld"
	"github.com/idmesh/idmesh/did/keys"
)

func TestJunkContextReachesProofConfiguration(t *testing.T) {
	signer := MustGenerate(t, keys.Ed25519, 7)
	ctxs := []any{"https://www.w3.org/ns/credentials/v2"}
	for range 3 {
		ctxs = append(ctxs, "https://www.w3.org/ns/credentials/examples/v2")
	}
	doc := map[string]any{
		"@context": ctxs, "type": []any{"VerifiableCredential"}, "issuer": "did:example:issuer",
		"credentialSubject": map[string]any{"id": "did:example:subject"},
		"proof": map[string]any{
			"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2024-01-01T00:00:00Z",
			"verificationMethod": signer.ID, "proofPurpose": "assertionMethod",
			"proofValue": "z" + strings.Repeat("1", 64), // not a signature of anything
		},
	}
	// What the verifier checks first (verifier.VerifyCredential): the model
	// and the term check, on the document with its proof.
	if _, err := credential.CredentialFrom(doc); err != nil {
		t.Fatalf("CredentialFrom: %v", err)
	}
	if err := ld.CheckTerms(t.Context(), doc, ld.Options{}); err != nil {
		t.Fatalf("CheckTerms refused the repeated contexts: %v", err)
	}
	_, err := dataintegrity.Verify(t.Context(), doc, Resolver(signer), dataintegrity.VerifyOptions{Now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err == nil || !strings.Contains(err.Error(), "canonicalize proof configuration") {
		t.Fatalf("Verify = %v, want the proof configuration's canonicalization to have run (and failed)", err)
	}
	t.Logf("reached: %v", err)
}
