package keys

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"sync"
	"testing"

	"filippo.io/edwards25519"
	"github.com/mr-tron/base58"

	"github.com/idmesh/idmesh/did/internal/fifo"
	"github.com/idmesh/idmesh/did/zip215"
)

// TestKeySetBounded: the set of checked keys forgets its oldest beyond
// its bound and answers only for keys it was given.
func TestKeySetBounded(t *testing.T) {
	s := &keySet{fifo.New[[32]byte, *zip215.Key](3)}
	for i := range 5 {
		s.add([32]byte{byte(i)}, nil)
		s.add([32]byte{byte(i)}, nil)
	}
	for i := range 5 {
		if got, want := s.has([32]byte{byte(i)}), i >= 2; got != want {
			t.Errorf("key %d: has %v, want %v", i, got, want)
		}
	}
	if n, _ := s.m.Len(); n != 3 {
		t.Errorf("%d items; want 3", n)
	}
}

// TestCheckedKeyRemembered: a rejected key is never remembered, so it is
// rejected again; an accepted one is.
func TestCheckedKeyRemembered(t *testing.T) {
	small := make([]byte, 32) // y = 0: a point of order 4
	for range 2 {
		if checkEd25519(small) == nil {
			t.Fatal("small-order key accepted")
		}
	}
	if validEd25519.has([32]byte(small)) {
		t.Fatal("rejected key remembered")
	}
}

// TestKeyCacheBounded: the cache of parsed keys forgets its oldest
// beyond its bound, keeps nothing longer than its maxLen and answers
// only for strings it was given.
func TestKeyCacheBounded(t *testing.T) {
	c := &keyCache{m: fifo.New[string, PublicKey](3), maxLen: 4}
	k := PublicKey{t: Ed25519, b: "k"}
	for _, s := range []string{"a", "b", "a", "c", "d", "e", "toolong"} {
		c.add(s, k)
	}
	for _, s := range []string{"a", "b", "c", "d", "e", "toolong"} {
		_, got := c.get(s)
		if want := s == "c" || s == "d" || s == "e"; got != want {
			t.Errorf("%q: cached %v, want %v", s, got, want)
		}
	}
	if n, _ := c.m.Len(); n != 3 {
		t.Errorf("%d items; want 3", n)
	}
}

// TestParseMultibaseCachedSameAnswer: a parse answered by the cache is
// the parse without it, for good keys of every type (also a P-256 key
// written uncompressed, kept compressed), and a string that fails is
// never cached, so it fails again with the same error.
func TestParseMultibaseCachedSameAnswer(t *testing.T) {
	good := []string{
		"z6Mkn7x4bDadndy2bU6X3yyUYGkzRx5NxFXzVzCFFJ5U3EQZ",
	}
	for _, typ := range []Type{Ed25519, P256} {
		priv, err := Generate(typ, nil)
		if err != nil {
			t.Fatal(err)
		}
		good = append(good, priv.Public().Multibase())
		if typ == P256 {
			pub, err := priv.Public().ecdsa()
			if err != nil {
				t.Fatal(err)
			}
			raw, err := pub.Bytes() // uncompressed SEC1
			if err != nil {
				t.Fatal(err)
			}
			good = append(good, "z"+base58.Encode(append(binary.AppendUvarint(nil, codecP256), raw...)))
		}
		if typ == Ed25519 {
			u, err := edwardsToMontgomery(priv.Public().Bytes())
			if err != nil {
				t.Fatal(err)
			}
			x, err := FromRaw(X25519, u)
			if err != nil {
				t.Fatal(err)
			}
			good = append(good, x.Multibase())
		}
	}
	bad := []string{"", "z", "f00", "z6Mkn7x4bDadndy2bU6X3yyUYGkzRx5NxFXzVzCFFJ5U3EQ", "z11111111111111111111111111111111111"}
	for _, s := range good {
		want, err := parseMultibase(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		for range 2 {
			got, err := ParseMultibase(s)
			if err != nil || !got.Equal(want) {
				t.Fatalf("%s: got %v, %v; want %v", s, got, err, want)
			}
		}
		if _, ok := parsedMultibase.get(s); !ok {
			t.Errorf("%s: not cached", s)
		}
	}
	for _, s := range bad {
		_, want := parseMultibase(s)
		for range 2 {
			if _, err := ParseMultibase(s); err == nil || err.Error() != want.Error() {
				t.Fatalf("%q: error %v, want %v", s, err, want)
			}
		}
		if _, ok := parsedMultibase.get(s); ok {
			t.Errorf("%q: a failure cached", s)
		}
	}
}

// TestKeyCacheConcurrent: goroutines adding and reading past the bound
// (run with -race) always get a key back for the string it was added
// under, or nothing.
func TestKeyCacheConcurrent(t *testing.T) {
	c := &keyCache{m: fifo.New[string, PublicKey](4), maxLen: 8}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				s := string(rune('a' + (g+i)%16))
				c.add(s, PublicKey{t: Ed25519, b: s})
				if k, ok := c.get(s); ok && k.b != s {
					t.Errorf("%q: got the key of %q", s, k.b)
				}
			}
		})
	}
	wg.Wait()
	if n, _ := c.m.Len(); n > 4 {
		t.Errorf("%d items; bound 4", n)
	}
}

// TestEd25519Key (PublicKey.ZIP215Key): a key that passed the check gives back its parsed form,
// whose encoding is the key's and whose point is the one SetBytes decodes
// from it, for each of many keys (a FIFO that paired a key with another's
// form fails it); a key never checked, or rejected, gives none.
func TestEd25519Key(t *testing.T) {
	var pubs [][]byte
	for i := range 64 {
		var seed [32]byte
		binary.LittleEndian.PutUint64(seed[:], 0x5eed+uint64(i))
		pubs = append(pubs, []byte(ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey)))
	}
	if _, ok := checkedKey(string(pubs[0])); ok {
		t.Fatal("a key never checked has a parsed form")
	}
	for _, pub := range pubs {
		if err := checkEd25519(pub); err != nil {
			t.Fatal(err)
		}
	}
	for i, pub := range pubs {
		k, ok := checkedKey(string(pub))
		if !ok {
			t.Fatalf("key %d: no parsed form after the check", i)
		}
		want, err := new(edwards25519.Point).SetBytes(pub)
		if p := k.Point(); err != nil || p.Equal(want) != 1 || !bytes.Equal(k.Bytes(), pub) {
			t.Fatalf("key %d: the parsed form is not the key's", i)
		}
	}
	small := make([]byte, 32)
	_ = checkEd25519(small)
	if _, ok := checkedKey(string(small)); ok {
		t.Fatal("a rejected key has a parsed form")
	}
	if _, ok := checkedKey(string(pubs[0][:31])); ok {
		t.Fatal("a short key has a parsed form")
	}
}
