package dataintegrity_test

import (
	"crypto/ed25519"
	"testing"

	"github.com/idmesh/idmesh/credential/dataintegrity"
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
	signer := MustKeyPair(b, MustLoadJSON(b, "keyPair.json"))
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
