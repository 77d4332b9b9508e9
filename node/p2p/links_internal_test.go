package p2p

import (
	"slices"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestLinkWatch: a judged peer on none of the topics is cut at the
// second check in a row that finds it so, and at no other: not at its
// first miss, not when it shows up in between, not when it was not
// judged (disconnected, or its connection too young) in between, not
// when it is on one topic; a cut peer starts over.
func TestLinkWatch(t *testing.T) {
	a, b, c := peer.ID("a"), peer.ID("b"), peer.ID("c")
	set := func(ps ...peer.ID) map[peer.ID]bool {
		m := map[peer.ID]bool{}
		for _, p := range ps {
			m[p] = true
		}
		return m
	}
	type check struct {
		connected []peer.ID
		topics    []map[peer.ID]bool
		cut       []peer.ID
	}
	both := func(ps ...peer.ID) []map[peer.ID]bool { return []map[peer.ID]bool{set(ps...), set(ps...)} }
	tests := map[string][]check{
		"subscribed to both": {
			{[]peer.ID{a, b}, both(a, b), nil},
			{[]peer.ID{a, b}, both(a, b), nil},
			{[]peer.ID{a, b}, both(a, b), nil},
		},
		"missing twice": {
			{[]peer.ID{a, b}, both(a), nil},
			{[]peer.ID{a, b}, both(a), []peer.ID{b}},
		},
		"on one topic only": { // not what gossipsub's loss leaves
			{[]peer.ID{a, b}, []map[peer.ID]bool{set(a, b), set(a)}, nil},
			{[]peer.ID{a, b}, []map[peer.ID]bool{set(a), set(a, b)}, nil},
			{[]peer.ID{a, b}, []map[peer.ID]bool{set(a), set(a, b)}, nil},
		},
		"back in between": {
			{[]peer.ID{a}, both(), nil},
			{[]peer.ID{a}, both(a), nil},
			{[]peer.ID{a}, both(), nil},
			{[]peer.ID{a}, both(a), nil},
		},
		"disconnected in between": {
			{[]peer.ID{a}, both(), nil},
			{nil, both(), nil},
			{[]peer.ID{a}, both(), nil},
			{[]peer.ID{a}, both(), []peer.ID{a}},
		},
		"a cut peer starts over": {
			{[]peer.ID{a, c}, both(), nil},
			{[]peer.ID{a, c}, both(), []peer.ID{a, c}},
			{[]peer.ID{a, c}, both(c), nil},
			{[]peer.ID{a, c}, both(c), []peer.ID{a}},
		},
		"subscribed but not connected": {
			{nil, both(a, b), nil},
			{nil, both(a, b), nil},
		},
	}
	for name, checks := range tests {
		t.Run(name, func(t *testing.T) {
			var w linkWatch
			for i, c := range checks {
				got := w.check(c.connected, c.topics...)
				slices.Sort(got)
				if !slices.Equal(got, c.cut) {
					t.Fatalf("check %d: cut %v, want %v", i, got, c.cut)
				}
				if len(w.misses) > len(c.connected) {
					t.Fatalf("check %d: %d peers remembered, %d connected", i, len(w.misses), len(c.connected))
				}
			}
		})
	}
}
