package api

import (
	"net/netip"
	"testing"
)

// TestInflightTableBounded: the table of clients verifying holds at most
// maxInflightClients; a client leaves it with its last request.
func TestInflightTableBounded(t *testing.T) {
	l := newVerifyLimits(Config{VerifyConcurrency: 2})
	if !l.perClient {
		t.Fatal("no per-client slot with 2 slots")
	}
	var slots []*clientSlot
	for i := range maxInflightClients {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		cs := l.join(a)
		if cs == nil {
			t.Fatalf("client %d refused", i)
		}
		slots = append(slots, cs)
	}
	if l.join(netip.MustParseAddr("192.0.2.1")) != nil {
		t.Fatal("a client joined a full table")
	}
	again := l.join(netip.AddrFrom4([4]byte{10, 0, 0, 0})) // a client in the table
	if again != slots[0] {
		t.Fatal("a client in the table got another slot")
	}
	l.leave(netip.AddrFrom4([4]byte{10, 0, 0, 0}), again)
	for i, cs := range slots {
		l.leave(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), cs)
	}
	if n := l.inflightClients(); n != 0 {
		t.Fatalf("%d clients left in the table", n)
	}
	if newVerifyLimits(Config{VerifyConcurrency: 1}).perClient {
		t.Fatal("a per-client slot with one slot")
	}
}

// TestClientSlotReuse: a client slot is reused only after its last
// request left, and only empty; the free list is bounded.
func TestClientSlotReuse(t *testing.T) {
	l := newVerifyLimits(Config{VerifyConcurrency: 2, VerifyClientSlots: 3})
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	ca := l.join(a)
	ca.ch <- struct{}{} // a's request holds its slot
	if cb := l.join(b); cb == ca {
		t.Fatal("b got the slot of a, which a still holds")
	} else {
		l.leave(b, cb)
	}
	l.leave(a, ca) // left without giving its slot back: not reused
	for range 3 {
		c := l.join(b)
		if c == ca {
			t.Fatal("a slot left full was reused")
		}
		if len(c.ch) != 0 || cap(c.ch) != 3 {
			t.Fatalf("a reused slot holds %d of %d", len(c.ch), cap(c.ch))
		}
		c.ch <- struct{}{}
		<-c.ch
		l.leave(b, c)
	}
	var many []*clientSlot
	for i := range 2 * maxFreeClientSlots {
		many = append(many, l.join(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})))
	}
	for i, c := range many {
		l.leave(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), c)
	}
	if len(l.free) > maxFreeClientSlots {
		t.Fatalf("%d free slots kept, at most %d", len(l.free), maxFreeClientSlots)
	}
}
