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
