package keys

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"testing"

	"filippo.io/edwards25519"
)

// BenchmarkCheckEd25519 measures the curve check of an Ed25519 key the
// node has not seen (every create's new key, on every node), against raw
// ed25519.Verify in the same run (bytes-round-trip is the check before
// 2026-12-05, which compared the encoding with Bytes' canonical one):
//
//	go test -run '^$' -bench CheckEd25519 ./did/keys/
func BenchmarkCheckEd25519(b *testing.B) {
	const n = 1024
	pubs := make([][]byte, n)
	for i := range pubs {
		var seed [32]byte
		binary.LittleEndian.PutUint64(seed[:], uint64(i))
		pubs[i] = ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey)
	}
	b.Run("decodeEd25519", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := decodeEd25519(pubs[i%n]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("bytes-round-trip", func(b *testing.B) { // the check before 2026-12-05
		i := 0
		for b.Loop() {
			p, err := new(edwards25519.Point).SetBytes(pubs[i%n])
			if err != nil || !bytes.Equal(p.Bytes(), pubs[i%n]) || new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1 {
				b.Fatal("rejected")
			}
			i++
		}
	})
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	msg := []byte("baseline")
	sig := ed25519.Sign(priv, msg)
	b.Run("crypto-ed25519-verify", func(b *testing.B) {
		for b.Loop() {
			ed25519.Verify(priv.Public().(ed25519.PublicKey), msg, sig)
		}
	})
}
