package zip215_test

import (
	"bytes"
	"crypto/ed25519"
	"testing"

	"github.com/idmesh/idmesh/did/zip215"
)

// FuzzSingleEqualsBatch: for any key, message and signature (random, or
// an honest signature mangled by the fuzzer), Verify, a batch of one, and
// a batch with valid signatures around it give the same answer (also
// with the signature parsed first, ParseSignature and AddParsed), and
// crypto/ed25519 never accepts what ZIP-215 rejects.
func FuzzSingleEqualsBatch(f *testing.F) {
	for _, c := range honest(3) {
		f.Add(c.pub, c.msg, c.sig, uint8(0), uint8(0))
		f.Add(c.pub, c.msg, c.sig, uint8(1), uint8(33))
	}
	f.Add(make([]byte, 32), []byte("Zcash"), make([]byte, 64), uint8(0), uint8(0))
	others := honest(4)
	f.Fuzz(func(t *testing.T, pub, msg, sig []byte, xor, at uint8) {
		if len(msg) > 4096 {
			return
		}
		sig = bytes.Clone(sig)
		if len(sig) > 0 {
			sig[int(at)%len(sig)] ^= xor
		}
		single := zip215.Verify(pub, msg, sig)
		if len(pub) == 32 && len(sig) == 64 && ed25519.Verify(pub, msg, sig) && !single {
			t.Fatal("crypto/ed25519 accepts a signature ZIP-215 rejects")
		}
		one := zip215.Batch{Rand: newSeeded(at)}
		one.Add(pub, msg, sig)
		if got := one.Verify(); got != single {
			t.Fatalf("batch of one %v, single %v", got, single)
		}
		b := zip215.Batch{Rand: newSeeded(xor)}
		for i, c := range others {
			if i == 2 {
				b.Add(pub, msg, sig)
			}
			b.Add(c.pub, c.msg, c.sig)
		}
		if got := b.Verify(); got != single {
			t.Fatalf("batch with others %v, single %v", got, single)
		}
		each := b.VerifyEach()
		if each[2] != single || !each[0] || !each[1] || !each[3] || !each[4] {
			t.Fatalf("VerifyEach %v, single %v", each, single)
		}
		// The parsed path, by key and by key bytes, answers as Verify.
		checkParsed(t, pub, msg, sig, single)
	})
}
