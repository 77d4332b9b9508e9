package p2p

import (
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/idmesh/idmesh/registry"
)

// maxRoutes bounds the routes sendLoop keeps (address → peer).
const maxRoutes = 16_384

// routeTable maps the addresses that answers go to onto the peers to
// send them to. It is owned by sendLoop.
//
// Every route is authenticated: it is learned only for the node address
// of the peer it leads to (bindSender), so one peer has at most one
// route, and no peer can draw another's answers. A route leaves with its
// peer (gone), when a send over it fails (drop), or, when the table is
// full and a new one must be learned, first every route whose peer is no
// longer connected (a disconnection whose notice was lost), then the
// least recently used one.
type routeTable struct {
	max    int
	seq    uint64 // counts uses, for least-recent-use order
	byAddr map[registry.Address]*routeEntry
	byPeer map[peer.ID]registry.Address
	// connected reports whether a peer is still connected.
	connected func(peer.ID) bool
}

type routeEntry struct {
	p    peer.ID
	used uint64 // seq of the last learn or lookup
}

func newRouteTable(max int, connected func(peer.ID) bool) *routeTable {
	return &routeTable{
		max:       max,
		byAddr:    make(map[registry.Address]*routeEntry),
		byPeer:    make(map[peer.ID]registry.Address),
		connected: connected,
	}
}

// len returns the number of routes.
func (t *routeTable) len() int { return len(t.byAddr) }

// learn records that answers to addr go to p, evicting a route if the
// table is full; it reports how many routes it evicted.
func (t *routeTable) learn(addr registry.Address, p peer.ID) (evicted int) {
	t.seq++
	if e, ok := t.byAddr[addr]; ok {
		if e.p != p {
			delete(t.byPeer, e.p)
		}
		t.unlinkPeer(p, addr)
		e.p, e.used = p, t.seq
		t.byPeer[p] = addr
		return 0
	}
	t.unlinkPeer(p, addr)
	if len(t.byAddr) >= t.max {
		evicted = t.evict()
	}
	t.byAddr[addr] = &routeEntry{p: p, used: t.seq}
	t.byPeer[p] = addr
	return evicted
}

// unlinkPeer removes p's route to an address other than addr: a peer has
// one route.
func (t *routeTable) unlinkPeer(p peer.ID, addr registry.Address) {
	if old, ok := t.byPeer[p]; ok && old != addr {
		delete(t.byAddr, old)
		delete(t.byPeer, p)
	}
}

// evict makes room for one route: it removes every route whose peer is
// no longer connected, or, if all are, the least recently used one.
func (t *routeTable) evict() int {
	n := 0
	for a, e := range t.byAddr {
		if t.connected != nil && !t.connected(e.p) {
			t.remove(a, e.p)
			n++
		}
	}
	if n > 0 {
		return n
	}
	var lru registry.Address
	var lruUsed uint64
	found := false
	for a, e := range t.byAddr {
		if !found || e.used < lruUsed {
			lru, lruUsed, found = a, e.used, true
		}
	}
	if found {
		t.remove(lru, t.byAddr[lru].p)
		n++
	}
	return n
}

func (t *routeTable) remove(addr registry.Address, p peer.ID) {
	delete(t.byAddr, addr)
	if t.byPeer[p] == addr {
		delete(t.byPeer, p)
	}
}

// lookup returns the peer that answers to addr go to, counting the use.
func (t *routeTable) lookup(addr registry.Address) (peer.ID, bool) {
	e, ok := t.byAddr[addr]
	if !ok {
		return "", false
	}
	t.seq++
	e.used = t.seq
	return e.p, true
}

// drop removes the route of addr if it still leads to p.
func (t *routeTable) drop(addr registry.Address, p peer.ID) {
	if e, ok := t.byAddr[addr]; ok && e.p == p {
		t.remove(addr, p)
	}
}

// gone removes the route of a peer that disconnected.
func (t *routeTable) gone(p peer.ID) {
	if a, ok := t.byPeer[p]; ok {
		t.remove(a, p)
	}
}
