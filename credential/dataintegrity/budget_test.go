package dataintegrity_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/ld"
)

// chainJCS signs doc with n chained eddsa-jcs-2022 proofs: each names the
// one before, so verifying each canonicalizes the document again.
func chainJCS(t *testing.T, doc map[string]any, signer credential.KeySigner, n int) map[string]any {
	t.Helper()
	out := doc
	for i := range n {
		o := dataintegrity.SignOptions{Cryptosuite: dataintegrity.CryptosuiteJCS, ID: fmt.Sprintf("urn:p%d", i)}
		if i > 0 {
			o.PreviousProof = []string{fmt.Sprintf("urn:p%d", i-1)}
		}
		s, err := dataintegrity.Sign(t.Context(), out, signer, o)
		if err != nil {
			t.Fatal(err)
		}
		out = s
	}
	return out
}

// TestProofChainWorkBounded: a 100 KB document with MaxProofs chained
// eddsa-jcs-2022 proofs would canonicalize 1.6 MB; the document's budget
// stops it past DefaultMaxCanonicalBytes with LIMIT_EXCEEDED_ERROR, and a
// shared budget counts every byte (a second review found 240 KB
// presentations of such credentials taking 130 to 155 ms).
func TestProofChainWorkBounded(t *testing.T) {
	signer := MustKeyPair(t, MustLoadJSON(t, "keyPair.json"))
	doc := map[string]any{"@context": []any{credential.ContextV2}, "type": []any{"VerifiableCredential"}, "issuer": credential.ControllerOf(signer.ID),
		"credentialSubject": map[string]any{"id": "did:example:x", "n": strings.Repeat("a", 100_000)}}
	signed := chainJCS(t, doc, signer, dataintegrity.MaxProofs)

	budget := ld.NewBudget(ld.Options{})
	_, err := dataintegrity.Verify(t.Context(), signed, Resolver(signer), dataintegrity.VerifyOptions{Budget: budget})
	if credential.CodeOf(err, "") != credential.LimitExceededError {
		t.Fatalf("a 16-proof chain over 100 KB: %v", err)
	}
	if got := budget.Spent().Bytes; got > ld.DefaultMaxCanonicalBytes+110_000 {
		t.Fatalf("canonicalized %d bytes, bound %d", got, ld.DefaultMaxCanonicalBytes)
	}
	// Without a budget of the caller's, the document gets its own.
	if _, err := dataintegrity.Verify(t.Context(), signed, Resolver(signer), dataintegrity.VerifyOptions{}); credential.CodeOf(err, "") != credential.LimitExceededError {
		t.Fatalf("without a shared budget: %v", err)
	}
	// Two chained proofs over the same document verify.
	if _, err := dataintegrity.Verify(t.Context(), chainJCS(t, doc, signer, 2), Resolver(signer), dataintegrity.VerifyOptions{}); err != nil {
		t.Fatalf("a two-proof chain: %v", err)
	}
}
