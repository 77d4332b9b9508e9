package dataintegrity_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/mr-tron/base58"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
)

// TestManifest checks that the copied vectors are the published ones.
func TestManifest(t *testing.T) {
	var entries []struct {
		File, Path, SHA256 string
	}
	if err := json.Unmarshal(MustReadFile(t, "MANIFEST.json"), &entries); err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("empty manifest")
	}
	for _, e := range entries {
		sum := sha256.Sum256(MustReadFile(t, e.File))
		if got := hex.EncodeToString(sum[:]); got != e.SHA256 {
			t.Errorf("%s: sha256 %s, want %s (source %s)", e.File, got, e.SHA256, e.Path)
		}
	}
}

// TestVectors reproduces every intermediate step of the cryptosuites'
// test vectors (vc-di-eddsa, TestVectors/): the canonical proof
// configuration and document, both hashes, the combined hash, the
// signature in hex and base58btc, and the signed document; then verifies
// the published signed document.
func TestVectors(t *testing.T) {
	for _, tc := range []struct {
		suite, dir, suffix string
	}{
		{dataintegrity.CryptosuiteRDFC, "eddsa-rdfc-2022/", "DataInt"},
		{dataintegrity.CryptosuiteJCS, "eddsa-jcs-2022/", "JCS"},
	} {
		t.Run(tc.suite, func(t *testing.T) {
			file := func(name, ext string) string { return tc.dir + name + tc.suffix + ext }
			signer := MustKeyPair(t, MustLoadJSON(t, "keyPair.json"))
			unsigned := MustLoadJSON(t, "unsigned.json")
			options := MustLoadJSON(t, file("proofConfig", ".json"))

			cfg, transformed, err := dataintegrity.SigningInput(t.Context(), tc.suite, unsigned, options)
			if err != nil {
				t.Fatal(err)
			}
			if want := string(MustReadFile(t, file("proofCanon", ".txt"))); string(cfg) != want {
				t.Errorf("canonical proof configuration:\n%s\nwant:\n%s", cfg, want)
			}
			if want := string(MustReadFile(t, file("canonDoc", ".txt"))); string(transformed) != want {
				t.Errorf("canonical document:\n%s\nwant:\n%s", transformed, want)
			}
			proofHash := sha256.Sum256(cfg)
			docHash := sha256.Sum256(transformed)
			if got, want := hex.EncodeToString(proofHash[:]), MustReadText(t, file("proofHash", ".txt")); got != want {
				t.Errorf("proof hash %s, want %s", got, want)
			}
			if got, want := hex.EncodeToString(docHash[:]), MustReadText(t, file("docHash", ".txt")); got != want {
				t.Errorf("document hash %s, want %s", got, want)
			}
			combined := append(proofHash[:], docHash[:]...)
			if got, want := hex.EncodeToString(combined), MustReadText(t, file("combinedHash", ".txt")); got != want {
				t.Errorf("combined hash %s, want %s", got, want)
			}
			sig, err := signer.Sign(combined)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := hex.EncodeToString(sig), MustReadText(t, file("sigHex", ".txt")); got != want {
				t.Errorf("signature %s, want %s", got, want)
			}
			if got, want := "z"+base58.Encode(sig), MustReadText(t, file("sigBTC58", ".txt")); got != want {
				t.Errorf("proofValue %s, want %s", got, want)
			}

			// Sign from scratch: Ed25519 is deterministic, so the signed
			// vector comes back byte for byte (as JSON values).
			before := MustClone(t, unsigned)
			signed, err := dataintegrity.Sign(t.Context(), unsigned, signer, dataintegrity.SignOptions{
				Cryptosuite: tc.suite, Created: vectorTime,
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(unsigned, before) {
				t.Error("Sign modified its input")
			}
			want := MustLoadJSON(t, file("signed", ".json"))
			if !reflect.DeepEqual(MustClone(t, signed), want) {
				t.Errorf("signed document:\n%s\nwant:\n%s", MustJSON(t, signed), MustJSON(t, want))
			}

			res, err := dataintegrity.Verify(t.Context(), want, Resolver(signer), dataintegrity.VerifyOptions{
				Now: vectorTime.Add(time.Hour),
			})
			if err != nil || !res.Verified() {
				t.Fatalf("verify vector: %v", err)
			}
			if len(res.Proofs) != 1 || res.Proofs[0].Key.ID != signer.ID || res.Proofs[0].Proof.Cryptosuite != tc.suite {
				t.Errorf("result %+v", res)
			}
		})
	}
}

// TestProofSetChainVectors rebuilds the proof set and proof chain
// vectors one proof at a time, and verifies each published stage.
func TestProofSetChainVectors(t *testing.T) {
	pairs := MustLoadJSON(t, "proof-set-chain/multiKeyPairs.json")
	k1, k2 := MustKeyPair(t, pairs["keyPair1"]), MustKeyPair(t, pairs["keyPair2"])
	k3, k4 := MustKeyPair(t, pairs["keyPair3"]), MustKeyPair(t, pairs["keyPair4"])
	r := Resolver(k1, k2, k3, k4)
	const (
		id1 = "urn:uuid:26329423-bec9-4b2e-88cb-a7c7d9dc4544"
		id2 = "urn:uuid:8cc9022b-6b14-4cf3-8571-74972c5feb54"
		id3 = "urn:uuid:d94f792a-c546-4d06-b38a-da070ab56c23"
	)
	chainTime := time.Date(2023, 2, 26, 22, 6, 38, 0, time.UTC)
	steps := []struct {
		want   string
		signer dataintegrity.SignOptions
		key    int
	}{
		{"signedProofSet1.json", dataintegrity.SignOptions{ID: id1, Created: vectorTime}, 0},
		{"signedProofSet2.json", dataintegrity.SignOptions{ID: id2, Created: vectorTime}, 1},
		{"signedProofChain1.json", dataintegrity.SignOptions{ID: id3, Created: chainTime, PreviousProof: []string{id1, id2}}, 2},
		{"signedProofChain2.json", dataintegrity.SignOptions{Created: chainTime.Add(10 * time.Minute), PreviousProof: []string{id3}}, 3},
	}
	signers := []credential.KeySigner{k1, k2, k3, k4}
	doc := MustLoadJSON(t, "proof-set-chain/unsigned.json")
	for _, st := range steps {
		signed, err := dataintegrity.Sign(t.Context(), doc, signers[st.key], st.signer)
		if err != nil {
			t.Fatalf("%s: %v", st.want, err)
		}
		want := MustLoadJSON(t, "proof-set-chain/"+st.want)
		if !reflect.DeepEqual(MustClone(t, signed), want) {
			t.Errorf("%s:\n%s\nwant:\n%s", st.want, MustJSON(t, signed), MustJSON(t, want))
		}
		res, err := dataintegrity.Verify(t.Context(), want, r, dataintegrity.VerifyOptions{})
		if err != nil || !res.Verified() {
			t.Fatalf("verify %s: %v", st.want, err)
		}
		doc = want
	}
}
