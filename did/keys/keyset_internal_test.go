package keys

import "testing"

// TestKeySetBounded: the set of checked keys forgets its oldest beyond
// its bound and answers only for keys it was given.
func TestKeySetBounded(t *testing.T) {
	s := &keySet{max: 3, items: make(map[[32]byte]struct{})}
	for i := range 5 {
		s.add([32]byte{byte(i)})
		s.add([32]byte{byte(i)})
	}
	for i := range 5 {
		if got, want := s.has([32]byte{byte(i)}), i >= 2; got != want {
			t.Errorf("key %d: has %v, want %v", i, got, want)
		}
	}
	if len(s.items) != 3 || len(s.order) != 3 {
		t.Errorf("%d items, %d in order; want 3", len(s.items), len(s.order))
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
