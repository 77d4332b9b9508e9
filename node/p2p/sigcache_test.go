package p2p_test

import (
	"crypto/ed25519"
	"fmt"
	"sync"
	"testing"

	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
)

func sigKey(i int) ed25519.PrivateKey {
	seed := make([]byte, 32)
	seed[0], seed[1] = byte(i), byte(i>>8)
	return ed25519.NewKeyFromSeed(seed)
}

// TestSigCache: the cache answers as registry.VerifySignature for valid,
// forged, re-targeted and malformed triples; it remembers only valid
// ones (a forged one is checked every time it comes back); and it holds
// at most its size, forgetting the oldest first.
func TestSigCache(t *testing.T) {
	k, other := sigKey(1), sigKey(2)
	pub := k.Public().(ed25519.PublicKey)
	msg := []byte("idmesh/prevote/v1 c 1 0 block")
	sig := ed25519.Sign(k, msg)
	forged := append([]byte(nil), sig...)
	forged[10] ^= 1
	cases := []struct {
		name     string
		pub      ed25519.PublicKey
		msg, sig []byte
	}{
		{"valid", pub, msg, sig},
		{"forged signature", pub, msg, forged},
		{"other message", pub, []byte("idmesh/prevote/v1 c 1 0 other"), sig},
		{"other key", other.Public().(ed25519.PublicKey), msg, sig},
		{"short key", pub[:31], msg, sig},
		{"short signature", pub, msg, sig[:63]},
		{"long signature", pub, msg, append(append([]byte(nil), sig...), 0)},
		{"empty", nil, nil, nil},
	}
	c := p2p.NewSigCache(8)
	for _, tc := range cases {
		want := registry.VerifySignature(tc.pub, tc.msg, tc.sig)
		for i := range 3 { // the first answer, then the remembered one
			if got := c.Verify(tc.pub, tc.msg, tc.sig); got != want {
				t.Fatalf("%s, call %d: %v, want %v", tc.name, i, got, want)
			}
		}
	}
	if hits, misses := c.Stats(); hits != 2 || c.Len() != 1 {
		t.Fatalf("hits %d misses %d, %d remembered; want the valid one alone answered from memory twice", hits, misses, c.Len())
	}

	// Many distinct valid signatures: the cache stays within its size,
	// and a forgotten one is checked again, still valid.
	c = p2p.NewSigCache(16)
	msgs := make([][]byte, 100)
	for i := range msgs {
		msgs[i] = fmt.Appendf(nil, "vote %d", i)
		if !c.Verify(pub, msgs[i], ed25519.Sign(k, msgs[i])) {
			t.Fatalf("vote %d refused", i)
		}
	}
	if c.Len() != 16 {
		t.Fatalf("%d remembered, bound 16", c.Len())
	}
	_, before := c.Stats()
	if !c.Verify(pub, msgs[0], ed25519.Sign(k, msgs[0])) || !c.Verify(pub, msgs[99], ed25519.Sign(k, msgs[99])) {
		t.Fatal("a valid signature refused")
	}
	if _, after := c.Stats(); after != before+1 {
		t.Fatalf("misses %d -> %d: the oldest should be checked again, the newest answered from memory", before, after)
	}
}

// TestSigCacheConcurrent: many goroutines verifying the same and
// different signatures, valid and forged, get the right answers (run
// with -race).
func TestSigCacheConcurrent(t *testing.T) {
	c := p2p.NewSigCache(32)
	k := sigKey(3)
	pub := k.Public().(ed25519.PublicKey)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				msg := fmt.Appendf(nil, "m %d", (g*7+i)%40)
				sig := ed25519.Sign(k, msg)
				if !c.Verify(pub, msg, sig) {
					t.Errorf("valid %s refused", msg)
				}
				sig[0] ^= 0x80
				if c.Verify(pub, msg, sig) {
					t.Errorf("forged %s accepted", msg)
				}
			}
		})
	}
	wg.Wait()
	if c.Len() > 32 {
		t.Fatalf("%d remembered, bound 32", c.Len())
	}
}

// TestSigCacheSharedWithHost: a host given a SigCache's Verify checks a
// gossiped vote's signature through it, so the engine, asking the same
// cache, finds it verified; a forged vote is still rejected and never
// remembered.
func TestSigCacheSharedWithHost(t *testing.T) {
	chain := newTestChain(t, validatorKeys...)
	caches := make([]*p2p.SigCache, 2)
	nodes := MustHosts(t, chain, 2, func(i int, c *p2p.Config) {
		validatorIdentity(t, 0)(i, c)
		caches[i] = p2p.NewSigCache(64)
		c.Verify = caches[i].Verify
	})
	a, b := nodes[0], nodes[1]
	vote := signedVote(a.key, 5, 0)
	a.Send(vote)
	got := mustReceive(t, b.Receive())
	if got.Vote == nil || caches[1].Len() != 1 {
		t.Fatalf("received %+v, %d remembered", got, caches[1].Len())
	}
	hits, _ := caches[1].Stats()
	val, _ := chain.Validators(5)
	if err := got.Vote.VerifyWith(caches[1].Verify, testChainID, mustValidator(t, val, got.Vote.Validator)); err != nil {
		t.Fatal(err)
	}
	if h, _ := caches[1].Stats(); h != hits+1 {
		t.Fatalf("the engine's check of a vote the host verified was not answered from the cache (hits %d -> %d)", hits, h)
	}
	forged := signedVote(a.key, 5, 1)
	forged.Vote.Signature[0] ^= 1
	a.Send(forged)
	if v := b.verdicts.nextRefusal(t); v.Outcome != p2p.Rejected {
		t.Fatalf("forged vote: %v (%v)", v.Outcome, v.Err)
	}
	if caches[1].Len() != 1 {
		t.Fatalf("%d remembered after a forged vote", caches[1].Len())
	}
}

func mustValidator(tb testing.TB, vs *registry.ValidatorSet, a registry.Address) registry.Validator {
	tb.Helper()
	v, ok := vs.ByAddress(a)
	if !ok {
		tb.Fatalf("%s is not a validator", a)
	}
	return v
}
