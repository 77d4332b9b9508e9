package dataintegrity_test

import (
	"crypto/ed25519"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/ld/ldtest"
)

func benchVerify(b *testing.B, name string) {
	signer := MustKeyPair(b, MustLoadJSON(b, "keyPair.json"))
	r := Resolver(signer)
	doc := MustLoadJSON(b, name)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dataintegrity.Verify(b.Context(), doc, r, dataintegrity.VerifyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyRDFC verifies the eddsa-rdfc-2022 vector credential.
func BenchmarkVerifyRDFC(b *testing.B) {
	benchVerify(b, "eddsa-rdfc-2022/signedDataInt.json")
}

// BenchmarkVerifyJCS verifies the eddsa-jcs-2022 vector credential.
func BenchmarkVerifyJCS(b *testing.B) { benchVerify(b, "eddsa-jcs-2022/signedJCS.json") }

// BenchmarkEd25519Verify is the floor: the raw signature check alone.
func BenchmarkEd25519Verify(b *testing.B) {
	benchEd25519(b, MustKeyPair(b, MustLoadJSON(b, "keyPair.json")))
}

// benchEd25519 measures raw ed25519.Verify with signer's key.
func benchEd25519(b *testing.B, signer credential.KeySigner) {
	msg := make([]byte, 64)
	sig, err := signer.Sign(msg)
	if err != nil {
		b.Fatal(err)
	}
	pub := ed25519.PublicKey(signer.Public().Bytes())
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("no")
		}
	}
}

func benchSign(b *testing.B, suite string) {
	signer := MustKeyPair(b, MustLoadJSON(b, "keyPair.json"))
	doc := MustLoadJSON(b, "unsigned.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dataintegrity.Sign(b.Context(), doc, signer, dataintegrity.SignOptions{Cryptosuite: suite, Created: vectorTime}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignRDFC signs the vector credential with eddsa-rdfc-2022.
func BenchmarkSignRDFC(b *testing.B) {
	benchSign(b, dataintegrity.CryptosuiteRDFC)
}

// BenchmarkSignJCS signs the vector credential with eddsa-jcs-2022.
func BenchmarkSignJCS(b *testing.B) { benchSign(b, dataintegrity.CryptosuiteJCS) }

// BenchmarkWorstCase verifies the hostile eddsa-rdfc-2022 credentials of
// ldtest (issue 10, item 4): each is refused or verified (its signature
// is wrong) within credential/ld's bounds. The first sub-benchmark is the
// raw ed25519.Verify baseline of the same run.
//
//	go test -run '^$' -bench WorstCase -benchtime 20x ./credential/dataintegrity/
func BenchmarkWorstCase(b *testing.B) {
	signer := ldtest.Signer()
	b.Run("ed25519-baseline", func(b *testing.B) { benchEd25519(b, signer) })
	r := Resolver(signer)
	// Warm the context cache, as a running verifier has it.
	_, _ = dataintegrity.Verify(b.Context(), ldtest.Document(`{"a":"b"}`), r, dataintegrity.VerifyOptions{})
	for _, sh := range ldtest.Shapes() {
		doc := ldtest.Document(sh.Subject)
		b.Run(sh.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := dataintegrity.Verify(b.Context(), doc, r, dataintegrity.VerifyOptions{}); err == nil {
					b.Fatal("verified")
				}
			}
		})
	}
}
