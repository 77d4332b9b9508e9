package idmesh

// Security review R5, finding 2: with PrepareChecks, the chunks of
// SigCache.VerifyBatchUntrusted are composed by whoever gossips, not by a
// proposer. One bad signature per chunk of 64 (here the cheapest: a
// 1-byte signature, which fails the chunk at decoding) makes every honest
// signature of that chunk miss the cache, so each is verified alone by
// its check; a well-formed bad signature (R a point, S < L) makes the
// node pay the chunk's multi-scalar multiplication as well.
//
//	go test -count=1 -run TestVerifyBatchUntrusted ./did/idmesh/

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"filippo.io/edwards25519"

	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/zip215"
)

func honestChecks(t testing.TB, n int) []SignatureCheck {
	t.Helper()
	var out []SignatureCheck
	for i := range n {
		var s [32]byte
		s[0], s[1] = byte(i), 0x55
		k, err := keys.Generate(keys.Ed25519, rand.NewChaCha8(s))
		if err != nil {
			t.Fatal(err)
		}
		msg := []byte(fmt.Sprintf("operation %d", i))
		sig, err := k.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, SignatureCheck{Pub: k.Public(), Msg: msg, Sig: sig})
	}
	return out
}

// TestVerifyBatchUntrustedShortSignatureSpoilsNoChunk: 63 honest signatures and
// one that cannot verify at all (1 byte: its encoding is refused before
// any arithmetic) in a burst. Such a check must be left out of the batch
// (or the chunk decoded entry by entry), so that one gossiped transaction
// cannot cancel the batch of 63 others for free. Before the fix (review R5) none
// of the 63 was cached: Batch.Verify failed the chunk at decoding.
func TestVerifyBatchUntrustedShortSignatureSpoilsNoChunk(t *testing.T) {
	checks := honestChecks(t, 64)
	checks[17].Sig = []byte{1}
	c := NewSigCache(1000)
	c.VerifyBatchUntrusted(checks, rand.NewChaCha8([32]byte{7}))
	if n, _ := c.ok.Len(); n != 63 {
		t.Fatalf("%d of 63 honest signatures cached after one 1-byte signature in their chunk", n)
	}
}

// coefCountingReader counts the coefficient bytes batches draw (16 per
// signature in a multi-scalar multiplication).
type coefCountingReader struct {
	r interface{ Read([]byte) (int, error) }
	n int
}

func (c *coefCountingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestVerifyBatchUntrustedPoisonedChunksBounded: a burst of four chunks, each
// holding one well-formed bad signature (a flipped bit of S), as four
// gossiped transactions placed at every 64th position make it. Each
// failed chunk costs its multi-scalar multiplication (about half a
// verification a signature) on top of the single checks of its 63
// honest signatures: +50% for the whole burst. A breaker (after a chunk
// fails, verify no further chunk of the call in a batch) bounds the waste
// to one chunk per burst. Before the fix (review R5) all four multiplications
// ran (4,096 coefficient bytes).
func TestVerifyBatchUntrustedPoisonedChunksBounded(t *testing.T) {
	checks := honestChecks(t, 4*batchChunk)
	for i := 17; i < len(checks); i += batchChunk {
		s := append([]byte(nil), checks[i].Sig...)
		s[40] ^= 1
		checks[i].Sig = s
	}
	rnd := &coefCountingReader{r: rand.NewChaCha8([32]byte{8})}
	NewSigCache(10_000).VerifyBatchUntrusted(checks, rnd)
	if rnd.n > 16*batchChunk {
		t.Fatalf("%d failed multi-scalar multiplications of %d signatures each for 4 poisoned signatures", rnd.n/(16*batchChunk), batchChunk)
	}
}

// notAPoint returns 32 bytes that encode no point of the curve (a y
// without an x).
func notAPoint(t *testing.T) []byte {
	t.Helper()
	var p edwards25519.Point
	for i := range 256 {
		b := make([]byte, 32)
		b[0] = byte(i)
		if _, err := p.SetBytes(b); err != nil {
			return b
		}
	}
	t.Fatal("every candidate is a point")
	return nil
}

// TestVerifyBatchUntrustedEncodingFilter: each signature whose encoding
// cannot verify (length, R not a point, S >= L) is left out before the
// chunks are made, so that the 63 honest signatures of its burst are
// cached in one multiplication, and decodable says so; a well-formed bad
// signature is decodable (it fails the multiplication, not the filter).
func TestVerifyBatchUntrustedEncodingFilter(t *testing.T) {
	bad := notAPoint(t)
	for _, tc := range []struct {
		name      string
		mutate    func(sig []byte) []byte
		decodable bool
	}{
		{"empty", func([]byte) []byte { return nil }, false},
		{"63 bytes", func(s []byte) []byte { return s[:63] }, false},
		{"65 bytes", func(s []byte) []byte { return append(s, 0) }, false},
		{"R not a point", func(s []byte) []byte { copy(s, bad); return s }, false},
		{"S >= L", func(s []byte) []byte { s[63] |= 0x10; return s }, false},
		{"S = L", func(s []byte) []byte {
			copy(s[32:], []byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
				0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10})
			return s
		}, false},
		{"a flipped bit of S", func(s []byte) []byte { s[40] ^= 1; return s }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checks := honestChecks(t, 64)
			checks[17].Sig = tc.mutate(append([]byte(nil), checks[17].Sig...))
			if got := zip215.SignatureDecodes(checks[17].Sig); got != tc.decodable {
				t.Fatalf("decodable %v, want %v", got, tc.decodable)
			}
			if tc.decodable {
				return
			}
			rnd := &coefCountingReader{r: rand.NewChaCha8([32]byte{9})}
			c := NewSigCache(1000)
			c.VerifyBatchUntrusted(checks, rnd)
			if n, _ := c.ok.Len(); n != 63 || rnd.n != 16*63 {
				t.Fatalf("%d of 63 honest signatures cached, %d in the multiplication", n, rnd.n/16)
			}
		})
	}
}

// TestVerifyBatchUntrustedBreakerKeepsEarlierChunks: a bad signature in
// the third of four chunks leaves the two chunks before it cached and
// batches none after it; VerifyBatch (a block's checks, which a proposer
// chose) still verifies every chunk.
func TestVerifyBatchUntrustedBreakerKeepsEarlierChunks(t *testing.T) {
	checks := honestChecks(t, 4*batchChunk)
	s := append([]byte(nil), checks[2*batchChunk+3].Sig...)
	s[40] ^= 1
	checks[2*batchChunk+3].Sig = s
	c := NewSigCache(10_000)
	c.VerifyBatchUntrusted(checks, rand.NewChaCha8([32]byte{10}))
	if n, _ := c.ok.Len(); n != 2*batchChunk {
		t.Fatalf("untrusted: %d cached, want %d", n, 2*batchChunk)
	}
	c = NewSigCache(10_000)
	c.VerifyBatch(checks, rand.NewChaCha8([32]byte{10}))
	if n, _ := c.ok.Len(); n != 3*batchChunk {
		t.Fatalf("trusted: %d cached, want %d", n, 3*batchChunk)
	}
}

// FuzzDecodable: the encoding filter of VerifyBatchUntrusted never
// drops a signature ZIP-215 accepts, so leaving one out changes no
// verdict (the check refuses what the filter drops).
func FuzzDecodable(f *testing.F) {
	checks := honestChecks(f, 1)
	pub, msg := checks[0].Pub.Bytes(), checks[0].Msg
	f.Add(checks[0].Sig)
	f.Add([]byte{1})
	f.Add(append(append([]byte(nil), checks[0].Sig[:63]...), 0xff))
	f.Fuzz(func(t *testing.T, sig []byte) {
		if zip215.Verify(pub, msg, sig) && !zip215.SignatureDecodes(sig) {
			t.Fatalf("a valid signature %x is dropped", sig)
		}
		if len(sig) == 64 && !zip215.SignatureDecodes(sig) {
			var b zip215.Batch
			b.Add(pub, msg, sig)
			b.Add(pub, msg, checks[0].Sig)
			if b.Verify() {
				t.Fatalf("a batch accepts %x, which the filter drops", sig)
			}
		}
	})
}
