package idmesh

import (
	"crypto/ed25519"
	"reflect"
	"testing"

	"github.com/idmesh/idmesh/did/keys"
)

// TestSigCacheKeepsFailuresApart checks the cache of failed signatures:
// a failure is remembered and answered as a failure again, it never
// shadows the good signature of the same key and message, failures are
// bounded at max/8 and cannot push successes out.
func TestSigCacheKeepsFailuresApart(t *testing.T) {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	pub, err := keys.FromRaw(keys.Ed25519, priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("operation")
	sig := ed25519.Sign(priv, msg)
	bad := append([]byte(nil), sig...)
	bad[0] ^= 1
	c := NewSigCache(64)
	for range 2 {
		if c.Verify(pub, msg, bad) {
			t.Fatal("bad signature accepted")
		}
	}
	if n, _ := c.bad.size(); n != 1 {
		t.Fatalf("%d failures kept, want 1", n)
	}
	if !c.Verify(pub, msg, sig) {
		t.Fatal("a kept failure refused the good signature of the same key and message")
	}
	for i := range 20 {
		b := append([]byte(nil), bad...)
		b[1] = byte(i)
		if c.Verify(pub, msg, b) {
			t.Fatal("bad signature accepted")
		}
	}
	if n, _ := c.bad.size(); n != 64/8 {
		t.Fatalf("%d failures kept, want at most %d", n, 64/8)
	}
	if n, _ := c.ok.size(); n != 1 {
		t.Fatalf("%d successes kept after the failures, want 1", n)
	}
}

// TestFIFORebuild: a fifo whose map is rebuilt after every few deletions
// holds exactly the newest max entries, with their values and costs,
// whatever the rebuilds; and it does rebuild.
func TestFIFORebuild(t *testing.T) {
	for _, c := range []struct{ max, minRebuild, puts int }{{1, 1, 50}, {5, 1, 200}, {5, 3, 200}, {64, 2, 1000}} {
		f := newFIFO[int](c.max)
		f.minRebuild = c.minRebuild
		key := func(i int) (k [32]byte) { k[0], k[1] = byte(i), byte(i>>8); return }
		rebuilds := 0
		for i := range c.puts {
			before := reflect.ValueOf(f.items).UnsafePointer()
			f.put(key(i), i, 1)
			if reflect.ValueOf(f.items).UnsafePointer() != before {
				rebuilds++
			}
			for j := max(0, i-c.max-2); j <= i; j++ {
				v, ok := f.get(key(j))
				if want := j > i-c.max; ok != want || ok && v != j {
					t.Fatalf("max %d, after %d puts: get(%d) = %d, %v; want held %v", c.max, i+1, j, v, ok, want)
				}
			}
			if n, cost := f.size(); n != min(i+1, c.max) || cost != n {
				t.Fatalf("max %d, after %d puts: size %d, cost %d", c.max, i+1, n, cost)
			}
		}
		if rebuilds == 0 {
			t.Errorf("max %d, min rebuild %d: %d puts and no rebuild", c.max, c.minRebuild, c.puts)
		}
	}
}
