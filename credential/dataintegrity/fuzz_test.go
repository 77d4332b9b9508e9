package dataintegrity_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/ld/ldtest"
)

// FuzzVerify feeds arbitrary documents to Verify: it must never panic,
// and its error and Result must agree.
func FuzzVerify(f *testing.F) {
	for _, name := range []string{
		"eddsa-rdfc-2022/signedDataInt.json",
		"eddsa-jcs-2022/signedJCS.json",
		"proof-set-chain/signedProofSet2.json",
		"proof-set-chain/signedProofChain2.json",
		"unsigned.json",
	} {
		f.Add(MustReadFile(f, name))
	}
	for _, s := range []string{
		`{}`, `{"proof":null}`, `{"proof":[]}`, `{"proof":[1]}`, `{"proof":"z"}`,
		`{"proof":{"type":"DataIntegrityProof","cryptosuite":"eddsa-jcs-2022","verificationMethod":"x","proofPurpose":"assertionMethod","proofValue":"z"}}`,
		`{"@context":"x","proof":{"type":"DataIntegrityProof","cryptosuite":"eddsa-jcs-2022","@context":["x","y"],"verificationMethod":"x","proofPurpose":"assertionMethod","proofValue":"z2"}}`,
		`{"proof":[{"id":"a","previousProof":"b"},{"id":"b","previousProof":["a","a"]}]}`,
	} {
		f.Add([]byte(s))
	}
	// The hostile shapes of issue 10 (item 4), with their key below.
	for _, sh := range ldtest.Shapes() {
		f.Add(ldtest.Credential(sh.Subject))
	}
	pairs := MustLoadJSON(f, "proof-set-chain/multiKeyPairs.json")
	r := Resolver(
		MustKeyPair(f, MustLoadJSON(f, "keyPair.json")),
		MustKeyPair(f, pairs["keyPair1"]), MustKeyPair(f, pairs["keyPair2"]),
		MustKeyPair(f, pairs["keyPair3"]), MustKeyPair(f, pairs["keyPair4"]),
		ldtest.Signer(),
	)
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		var doc map[string]any
		if json.Unmarshal(data, &doc) != nil {
			return
		}
		res, err := dataintegrity.Verify(t.Context(), doc, r, dataintegrity.VerifyOptions{Now: now})
		if (err == nil) != res.Verified() {
			t.Fatalf("error %v but Verified() = %v", err, res.Verified())
		}
		if len(res.Proofs) > dataintegrity.MaxProofs {
			t.Fatalf("%d results", len(res.Proofs))
		}
	})
}
