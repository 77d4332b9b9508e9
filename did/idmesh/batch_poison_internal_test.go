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

	"github.com/idmesh/idmesh/did/keys"
)

func honestChecks(t *testing.T, n int) []SignatureCheck {
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
	if n, _ := c.ok.size(); n != 63 {
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
