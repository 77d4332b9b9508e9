package dataintegrity_test

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/mr-tron/base58"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/did/keys"
)

// ed2020Key is the did:key of the reference-v1.json vector (seed 00…01,
// see testdata/README.md).
const ed2020Key = "z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"

// ed2020Resolver authorizes a did:key method whose public key is mb for
// purpose.
func ed2020Resolver(tb testing.TB, mb, purpose string) *credential.StaticKeys {
	tb.Helper()
	return ed2020TypedResolver(tb, mb, purpose, "")
}

// ed2020TypedResolver is ed2020Resolver for a method of the given type.
func ed2020TypedResolver(tb testing.TB, mb, purpose, methodType string) *credential.StaticKeys {
	tb.Helper()
	pub, err := keys.ParseMultibase(mb)
	if err != nil {
		tb.Fatal(err)
	}
	var r credential.StaticKeys
	r.Add(credential.VerificationKey{ID: "did:key:" + mb + "#" + mb, Controller: "did:key:" + mb, Public: pub, MethodType: methodType}, purpose)
	return &r
}

// TestEd25519Signature2020Vector reproduces every intermediate step of the
// specification's Ed25519Signature2020 vector (vc-di-eddsa TestVectors):
// URDNA2015 of the proof options (with the document's @context) and of the
// document, both SHA-256 hashes, the signature; then verifies the signed
// vector and the VC 1.1 credential the reference implementation
// (@digitalbazaar/ed25519-signature-2020) signed, reference-v1.json.
func TestEd25519Signature2020Vector(t *testing.T) {
	const dir = "Ed25519Signature2020/"
	signer := MustKeyPair(t, MustLoadJSON(t, "keyPair.json"))
	unsigned := MustLoadJSON(t, "unsigned.json")
	unsigned["@context"] = append(unsigned["@context"].([]any), dataintegrity.Ed25519Signature2020Context)
	options := MustLoadJSON(t, dir+"proofConfigEdSig.json")
	delete(options, "@context") // the suite adds the document's
	cfg, transformed, err := dataintegrity.SigningInputOf(t.Context(), dataintegrity.ProofTypeEd25519Signature2020, "", unsigned, options)
	if err != nil {
		t.Fatal(err)
	}
	if want := string(MustReadFile(t, dir+"proofCanonEdSig.txt")); string(cfg) != want {
		t.Errorf("canonical proof options:\n%s\nwant:\n%s", cfg, want)
	}
	if want := string(MustReadFile(t, dir+"canonDocEdSig.txt")); string(transformed) != want {
		t.Errorf("canonical document:\n%s\nwant:\n%s", transformed, want)
	}
	proofHash, docHash := sha256.Sum256(cfg), sha256.Sum256(transformed)
	if got, want := hex.EncodeToString(proofHash[:]), MustReadText(t, dir+"proofHashEdSig.txt"); got != want {
		t.Errorf("proof hash %s, want %s", got, want)
	}
	if got, want := hex.EncodeToString(docHash[:]), MustReadText(t, dir+"docHashEdSig.txt"); got != want {
		t.Errorf("document hash %s, want %s", got, want)
	}
	sig, err := signer.Sign(append(proofHash[:], docHash[:]...))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(sig), MustReadText(t, dir+"sigHexEdSig.txt"); got != want {
		t.Errorf("signature %s, want %s", got, want)
	}

	for _, tc := range []struct {
		file string
		keys *credential.StaticKeys
		now  time.Time
	}{
		{"signedEdSig.json", Resolver(signer), vectorTime.Add(time.Hour)},
		{"reference-v1.json", ed2020Resolver(t, ed2020Key, credential.PurposeAssertion), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.file, func(t *testing.T) {
			doc := MustLoadJSON(t, dir+tc.file)
			res, err := dataintegrity.Verify(t.Context(), doc, tc.keys, dataintegrity.VerifyOptions{Now: tc.now})
			if err != nil || !res.Verified() {
				t.Fatalf("verify: %v", err)
			}
			if p := res.Proofs[0].Proof; p.Type != dataintegrity.ProofTypeEd25519Signature2020 || p.Name() != p.Type {
				t.Errorf("proof %+v", p)
			}
		})
	}
}

// TestEd25519Signature2020Refused: every change to a signed
// Ed25519Signature2020 credential, its proof or its key fails, with the
// code that says why; and Sign never makes such a proof.
func TestEd25519Signature2020Refused(t *testing.T) {
	const file = "Ed25519Signature2020/reference-v1.json"
	good := ed2020Resolver(t, ed2020Key, credential.PurposeAssertion)
	other := MustGenerate(t, keys.Ed25519, 9)
	proof := func(doc map[string]any) map[string]any { return doc["proof"].(map[string]any) }
	for _, tc := range []struct {
		name   string
		change func(doc map[string]any)
		keys   credential.KeyResolver
		opts   dataintegrity.VerifyOptions
		code   credential.Code
	}{
		{name: "subject tampered", change: func(d map[string]any) {
			d["credentialSubject"].(map[string]any)["alumniOf"] = "Another School"
		}, code: credential.ProofVerificationError},
		{name: "expirationDate moved", change: func(d map[string]any) { d["expirationDate"] = "2046-01-01T00:00:00Z" }, code: credential.ProofVerificationError},
		{name: "created changed", change: func(d map[string]any) { proof(d)["created"] = "2026-01-02T03:04:06Z" }, code: credential.ProofVerificationError},
		{name: "signature of another key", keys: ed2020Resolver(t, other.Public().Multibase(), credential.PurposeAssertion), change: func(d map[string]any) {
			mb := other.Public().Multibase()
			proof(d)["verificationMethod"] = "did:key:" + mb + "#" + mb
		}, code: credential.ProofVerificationError},
		{name: "key not authorized for assertionMethod", keys: ed2020Resolver(t, ed2020Key, credential.PurposeAuthentication), code: credential.ProofVerificationError},
		{name: "a JsonWebKey method", keys: ed2020TypedResolver(t, ed2020Key, credential.PurposeAssertion, "JsonWebKey"), code: credential.ProofVerificationError},
		{name: "authentication purpose expected", opts: dataintegrity.VerifyOptions{ExpectedProofPurpose: credential.PurposeAuthentication}, code: credential.MismatchedProofPurposeError},
		{name: "cryptosuite added", change: func(d map[string]any) { proof(d)["cryptosuite"] = "eddsa-rdfc-2022" }, code: credential.ProofVerificationError},
		{name: "typed as DataIntegrityProof", change: func(d map[string]any) { proof(d)["type"] = dataintegrity.ProofType }, code: credential.ProofVerificationError},
		{name: "suite context missing", change: func(d map[string]any) {
			d["@context"] = []any{credential.ContextV1, "https://www.w3.org/ns/credentials/examples/v2"}
		}, code: credential.ProofVerificationError},
		{name: "previousProof", change: func(d map[string]any) {
			proof(d)["previousProof"] = "urn:uuid:x"
			d["proof"] = []any{proof(d), map[string]any{"id": "urn:uuid:x", "type": "Ed25519Signature2020"}}
		}, code: credential.ProofVerificationError},
		{name: "proofValue not base58btc", change: func(d map[string]any) { proof(d)["proofValue"] = "u" + proof(d)["proofValue"].(string)[1:] }, code: credential.MalformedProofError},
		{name: "proofValue too long", change: func(d map[string]any) { proof(d)["proofValue"] = proof(d)["proofValue"].(string) + "zzzzzzzzzz" }, code: credential.MalformedProofError},
		{name: "created in the future", opts: dataintegrity.VerifyOptions{Now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}, code: credential.InvalidProofDatetime},
		{name: "created not a dateTime", change: func(d map[string]any) { proof(d)["created"] = "yesterday" }, code: credential.InvalidProofDatetime},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := MustLoadJSON(t, file)
			if tc.change != nil {
				tc.change(doc)
			}
			r := tc.keys
			if r == nil {
				r = good
			}
			_, err := dataintegrity.Verify(t.Context(), doc, r, tc.opts)
			wantCode(t, err, tc.code)
		})
	}
	for _, typ := range []string{"Ed25519VerificationKey2020", "Multikey"} {
		t.Run("an "+typ+" method", func(t *testing.T) {
			if _, err := dataintegrity.Verify(t.Context(), MustLoadJSON(t, file), ed2020TypedResolver(t, ed2020Key, credential.PurposeAssertion, typ), dataintegrity.VerifyOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("never signed", func(t *testing.T) {
		_, err := dataintegrity.Sign(t.Context(), MustLoadJSON(t, "unsigned.json"), other, dataintegrity.SignOptions{Cryptosuite: dataintegrity.ProofTypeEd25519Signature2020})
		wantCode(t, err, credential.ProofGenerationError)
	})
}

// TestEd25519Signature2020Presentation: a presentation's
// Ed25519Signature2020 proof (authentication, with the verifier's
// challenge and domain) verifies for that purpose, challenge and domain
// only. The proof is made here from the suite's signing input, as the
// reference implementation makes it.
func TestEd25519Signature2020Presentation(t *testing.T) {
	holder := MustGenerate(t, keys.Ed25519, 7)
	vp := map[string]any{
		"@context": []any{credential.ContextV1, dataintegrity.Ed25519Signature2020Context},
		"type":     []any{credential.TypePresentation},
		"holder":   credential.ControllerOf(holder.ID),
	}
	options := map[string]any{"type": dataintegrity.ProofTypeEd25519Signature2020, "created": "2026-01-02T03:04:05Z",
		"verificationMethod": holder.ID, "proofPurpose": credential.PurposeAuthentication, "challenge": "c-123", "domain": "verifier.example"}
	cfg, transformed, err := dataintegrity.SigningInputOf(t.Context(), dataintegrity.ProofTypeEd25519Signature2020, "", vp, options)
	if err != nil {
		t.Fatal(err)
	}
	proofHash, docHash := sha256.Sum256(cfg), sha256.Sum256(transformed)
	sig, err := holder.Sign(append(proofHash[:], docHash[:]...))
	if err != nil {
		t.Fatal(err)
	}
	options["proofValue"] = "z" + base58.Encode(sig)
	vp["proof"] = options
	var r credential.StaticKeys
	r.Add(credential.VerificationKey{ID: holder.ID, Controller: credential.ControllerOf(holder.ID), Public: holder.Public(), MethodType: "Ed25519VerificationKey2020"}, credential.PurposeAuthentication)
	good := dataintegrity.VerifyOptions{ExpectedProofPurpose: credential.PurposeAuthentication, Challenge: "c-123", Domain: "verifier.example"}
	if _, err := dataintegrity.Verify(t.Context(), vp, &r, good); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts dataintegrity.VerifyOptions
		code credential.Code
	}{
		{"another challenge", dataintegrity.VerifyOptions{ExpectedProofPurpose: credential.PurposeAuthentication, Challenge: "c-456"}, credential.InvalidChallengeError},
		{"another domain", dataintegrity.VerifyOptions{ExpectedProofPurpose: credential.PurposeAuthentication, Domain: "other.example"}, credential.InvalidDomainError},
		{"as an assertion", dataintegrity.VerifyOptions{}, credential.MismatchedProofPurposeError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dataintegrity.Verify(t.Context(), vp, &r, tc.opts)
			wantCode(t, err, tc.code)
		})
	}
}
