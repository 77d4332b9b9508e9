package p2p

import (
	"fmt"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/idmesh/idmesh/registry"
)

// TestRouteTable: a route leads to the peer last heard as its address, a
// peer has one route, a drop removes a route only if it still leads to
// that peer, a peer that leaves takes its route; a full table makes room
// by removing every route to a peer no longer connected, or, if all are
// connected, the least recently used route.
func TestRouteTable(t *testing.T) {
	addr := func(i int) registry.Address { return registry.AddressOf([]byte(fmt.Sprint("addr", i))) }
	id := func(i int) peer.ID { return peer.ID(fmt.Sprint("peer", i)) }
	down := map[peer.ID]bool{}
	rt := newRouteTable(4, func(p peer.ID) bool { return !down[p] })

	rt.learn(addr(1), id(1))
	rt.learn(addr(1), id(2)) // the same address heard from another peer
	if p, ok := rt.lookup(addr(1)); !ok || p != id(2) || rt.len() != 1 {
		t.Fatalf("lookup: %v %v, %d routes", p, ok, rt.len())
	}
	rt.learn(addr(3), id(2)) // a peer has one route
	if _, ok := rt.lookup(addr(1)); ok || rt.len() != 1 {
		t.Fatalf("peer 2 kept two routes (%d)", rt.len())
	}
	rt.drop(addr(3), id(1)) // not its peer: kept
	if _, ok := rt.lookup(addr(3)); !ok {
		t.Fatal("a drop for another peer removed the route")
	}
	rt.drop(addr(3), id(2))
	if rt.len() != 0 {
		t.Fatal("drop kept the route")
	}

	for i := range 4 {
		rt.learn(addr(i), id(i))
	}
	rt.gone(id(3))
	if _, ok := rt.lookup(addr(3)); ok || rt.len() != 3 {
		t.Fatal("a peer that left kept its route")
	}
	rt.learn(addr(3), id(3))
	rt.lookup(addr(0)) // route 1 is now the least recently used
	if n := rt.learn(addr(4), id(4)); n != 1 {
		t.Fatalf("evicted %d routes, want 1", n)
	}
	if _, ok := rt.lookup(addr(1)); ok {
		t.Fatal("the least recently used route was kept")
	}
	for _, i := range []int{0, 2, 3, 4} {
		if p, ok := rt.lookup(addr(i)); !ok || p != id(i) {
			t.Fatalf("route %d lost", i)
		}
	}
	// Two peers disconnected without notice: both routes go at once,
	// however recently used.
	down[id(4)], down[id(0)] = true, true
	if n := rt.learn(addr(5), id(5)); n != 2 || rt.len() != 3 {
		t.Fatalf("evicted %d routes (%d left), want the 2 to peers gone", n, rt.len())
	}
	for i := range 20_000 { // a flood stays within the bound
		rt.learn(addr(100+i), id(100+i))
	}
	if rt.len() != 4 || len(rt.byPeer) != 4 {
		t.Fatalf("%d routes, %d peers, want 4", rt.len(), len(rt.byPeer))
	}
}
