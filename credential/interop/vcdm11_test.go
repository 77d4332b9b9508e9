package interop_test

import (
	"encoding/hex"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/verifier"
)

// These tests go beyond credential/: they issue with the issuer package
// and verify with the verifier's whole pipeline, which is what "idmesh
// issues" and "idmesh verifies" mean to a user. (Test files of credential/
// are not held to its import rule.)

// verifiedAt is the verifiers' clock: after every credential's issuance
// and the proofs' created, before their expiry.
var verifiedAt = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// credentialsV1 returns VC Data Model 1.1 credentials of issuer, dated,
// with only bundled URL contexts: one plain, one with a Bitstring Status
// List entry (and the status context the issuer adds for it).
func credentialsV1(tb testing.TB, iss string) map[string]map[string]any {
	tb.Helper()
	docs := map[string]string{
		"alumni": `{
			"@context": ["https://www.w3.org/2018/credentials/v1", "https://www.w3.org/ns/credentials/examples/v2"],
			"id": "urn:uuid:0f1e2d3c-4b5a-4697-8877-665544332211",
			"type": ["VerifiableCredential", "ExampleAlumniCredential"],
			"issuer": "ISSUER",
			"issuanceDate": "2026-01-01T00:00:00Z",
			"expirationDate": "2036-01-01T00:00:00Z",
			"credentialSubject": {"id": "did:example:ebfeb1f712ebc6f1c276e12ec21", "alumniOf": "The School of Examples"}
		}`,
		"status": `{
			"@context": ["https://www.w3.org/2018/credentials/v1", "https://www.w3.org/ns/credentials/examples/v2", "https://www.w3.org/ns/credentials/status/v1"],
			"id": "urn:uuid:0f1e2d3c-4b5a-4697-8877-665544332212",
			"type": ["VerifiableCredential", "ExampleAlumniCredential"],
			"issuer": {"id": "ISSUER", "name": "Example University"},
			"issuanceDate": "2026-01-01T00:00:00Z",
			"credentialStatus": {"id": "https://example.com/status/1#5", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
				"statusListIndex": "5", "statusListCredential": "https://example.com/status/1"},
			"credentialSubject": {"id": "did:example:ebfeb1f712ebc6f1c276e12ec21", "alumniOf": "The School of Examples"}
		}`,
	}
	out := map[string]map[string]any{}
	for name, doc := range docs {
		out[name] = MustDecode[map[string]any](tb, []byte(strings.ReplaceAll(doc, "ISSUER", iss)))
	}
	return out
}

// goVerifyFull runs idmesh's verification pipeline (parse, contexts,
// proof, validity) on a credential and returns its result.
func goVerifyFull(tb testing.TB, doc any, k testKey) verifier.Result {
	tb.Helper()
	v := &verifier.Verifier{Keys: k.resolver(), Now: func() time.Time { return verifiedAt }}
	return v.VerifyCredential(tb.Context(), doc, verifier.Options{})
}

// TestVCDM11: VC Data Model 1.1 credentials with eddsa-rdfc-2022 both
// ways. What idmesh's issuer issues the reference verifies (its proof
// check and its whole verifyCredential); what the reference issues
// idmesh's verifier verifies; tampered ones fail on both sides; and both
// issuers, given the same credential, key and time, produce the same
// document and proof (the data integrity context appended, as the
// reference does).
func TestVCDM11(t *testing.T) {
	requireInterop(t)
	k := MustKey(t, "issuer")
	for name, cred := range credentialsV1(t, k.did) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			goIssued, err := issuer.Issue(t.Context(), clone(t, cred), k.signer(), issuer.Options{Now: created})
			if err != nil {
				t.Fatalf("issuer.Issue: %v", err)
			}
			if ctx := goIssued["@context"].([]any); ctx[len(ctx)-1] != dataintegrity.DataIntegrityContext {
				t.Errorf("@context %v does not end with %s", ctx, dataintegrity.DataIntegrityContext)
			}
			t.Run("idmesh-issues-reference-verifies", func(t *testing.T) {
				tampered := clone(t, goIssued)
				tampers["subject"](tampered)
				vs := jsVerifyDIBatch(t, []map[string]any{goIssued, tampered})
				if !vs[0].Verified {
					t.Fatalf("reference rejects the idmesh proof: %s\n%s", vs[0].Error, MustJSON(t, goIssued))
				}
				_, hasStatus := cred["credentialStatus"]
				switch {
				case vs[0].Credential.Verified:
				case hasStatus && strings.Contains(vs[0].Credential.Error, "checkStatus"):
					// verifyCredential wants a status checker for a
					// credential with status; the proof verified above.
					t.Logf("reference verifyCredential without a status checker: %s", vs[0].Credential.Error)
				default:
					t.Errorf("reference verifyCredential rejects the idmesh credential: %s", vs[0].Credential.Error)
				}
				if vs[1].Verified {
					t.Error("reference accepts the idmesh credential tampered")
				}
			})
			t.Run("reference-issues-idmesh-verifies", func(t *testing.T) {
				jsIssued := jsSignDI(t, cred, k, dataintegrity.CryptosuiteRDFC)
				res := goVerifyFull(t, jsIssued, k)
				if !res.Verified || res.Format != dataintegrity.CryptosuiteRDFC || res.Issuer != k.did {
					t.Fatalf("idmesh rejects the reference credential: %+v\n%s", res.ProblemDetails, MustJSON(t, jsIssued))
				}
				for tn, tamper := range tampers {
					doc := clone(t, jsIssued)
					tamper(doc)
					if res := goVerifyFull(t, doc, k); res.Verified {
						t.Errorf("idmesh accepts the reference credential tampered (%s)", tn)
					}
				}
				if !reflect.DeepEqual(clone(t, goIssued), clone(t, jsIssued)) {
					t.Errorf("the issuers differ\nidmesh:    %s\nreference: %s", MustJSON(t, goIssued), MustJSON(t, jsIssued))
				}
			})
		})
	}
}

// jsSignEd2020 signs a credential with the reference Ed25519Signature2020 suite.
func jsSignEd2020(tb testing.TB, doc map[string]any, k testKey) map[string]any {
	tb.Helper()
	in := map[string]any{"credential": doc, "seed": hex.EncodeToString(k.seed), "created": dataintegrity.FormatDateTime(created)}
	return MustDecode[map[string]any](tb, MustNode(tb, "ed2020-sign.mjs", MustJSON(tb, in)))
}

// TestEd25519Signature2020: credentials signed with the reference
// implementation's Ed25519Signature2020 suite (@digitalbazaar/ed25519-signature-2020),
// 1.1 and 2.0, verify in idmesh's verifier; tampered ones do not.
func TestEd25519Signature2020(t *testing.T) {
	requireInterop(t)
	k := MustKey(t, "issuer")
	docs := credentialsV1(t, k.did)
	alumni := credentials(t, k.did)["alumni"]
	docs["alumni-v2"] = alumni
	for name, cred := range docs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := clone(t, cred)
			c["@context"] = append(c["@context"].([]any), dataintegrity.Ed25519Signature2020Context)
			signed := jsSignEd2020(t, c, k)
			if p, _ := signed["proof"].(map[string]any); p["type"] != dataintegrity.ProofTypeEd25519Signature2020 {
				t.Fatalf("reference proof %v", signed["proof"])
			}
			res := goVerifyFull(t, signed, k)
			if !res.Verified || res.Format != dataintegrity.ProofTypeEd25519Signature2020 {
				t.Fatalf("idmesh rejects the reference credential: %+v\n%s", res.ProblemDetails, MustJSON(t, signed))
			}
			names := slices.Sorted(func(yield func(string) bool) {
				for n := range tampers {
					if !yield(n) {
						return
					}
				}
			})
			for _, tn := range names {
				doc := clone(t, signed)
				tampers[tn](doc)
				if res := goVerifyFull(t, doc, k); res.Verified {
					t.Errorf("idmesh accepts the reference credential tampered (%s)", tn)
				}
			}
			// Without the suite's context the proof's terms mean nothing
			// the signer meant: refused.
			doc := clone(t, signed)
			doc["@context"] = slices.DeleteFunc(doc["@context"].([]any), func(c any) bool { return c == dataintegrity.Ed25519Signature2020Context })
			if res := goVerifyFull(t, doc, k); res.Verified {
				t.Error("idmesh accepts it without the suite context")
			}
			if _, err := credential.CredentialFrom(signed); err != nil {
				t.Error(err)
			}
		})
	}
}
