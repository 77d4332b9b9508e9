package consensustest

import (
	"cmp"
	"slices"
	"testing"

	"github.com/idmesh/idmesh/node/consensus"
)

// TestWANDelays: every message of a WAN run arrives within [Min, Max]
// ticks of being sent when the bandwidth is unlimited, no link delivers
// out of order, and base delays are symmetric and spread over the range.
func TestWANDelays(t *testing.T) {
	m := WAN{Min: 20, Max: 150, Jitter: 10}
	const n = 30
	w := newWAN(m, 7, n)
	lo, hi := m.Max, uint64(0)
	for a := range n {
		for b := range n {
			d := w.base[a*n+b]
			if d != w.base[b*n+a] {
				t.Fatalf("delay %d→%d is %d, back %d", a, b, d, w.base[b*n+a])
			}
			if d < m.Min || d > m.Max-m.Jitter {
				t.Fatalf("base delay %d→%d is %d, outside [%d, %d]", a, b, d, m.Min, m.Max-m.Jitter)
			}
			if a != b {
				lo, hi = min(lo, d), max(hi, d)
			}
		}
	}
	if hi-lo < (m.Max-m.Min)/2 {
		t.Fatalf("base delays span only [%d, %d]", lo, hi)
	}
	s := New(Config{Seed: 3, Powers: Powers(7, false), TargetHeight: 2, WAN: &m})
	s.q = nil
	sentAt := map[uint64]uint64{} // by sequence number
	for now := uint64(1); now < 3000; now += 37 {
		s.now = now
		for a := range 7 {
			for b := range 7 {
				if a != b {
					s.transmit(a, b, Message{Status: &consensus.Status{Height: 1}})
					sentAt[s.seq] = now
				}
			}
		}
	}
	evs := slices.Clone(s.q)
	slices.SortFunc(evs, func(x, y event) int { return cmp.Compare(x.seq, y.seq) })
	last := map[[2]int]uint64{}
	for _, ev := range evs {
		if d := ev.at - sentAt[ev.seq]; d < m.Min || d > m.Max {
			t.Fatalf("a message %d→%d sent at %d arrives at %d: %d ticks", ev.from, ev.to, sentAt[ev.seq], ev.at, d)
		}
		k := [2]int{ev.from, ev.to}
		if ev.at < last[k] {
			t.Fatalf("link %d→%d delivers at %d after %d: out of order", ev.from, ev.to, ev.at, last[k])
		}
		last[k] = ev.at
	}
	if len(evs) < 40*80 {
		t.Fatalf("%d messages queued", len(evs))
	}
}

// TestWANBandwidth: with an upload limit, messages leave their sender one
// after another at size/bandwidth each.
func TestWANBandwidth(t *testing.T) {
	m := WAN{Min: 20, Max: 20, Bandwidth: 100_000} // 100 bytes a millisecond
	s := New(Config{Seed: 1, Powers: Powers(4, false), TargetHeight: 1, WAN: &m, BlockBytes: 10_000})
	s.q, s.wan.up = nil, make([]uint64, 4)
	s.now = 5
	p := Message{Proposal: &Proposal{Height: 1, Signature: make([]byte, 64), Block: &Block{}}}
	_, size := s.sizeOf(p, 0, nil)
	if size < 10_000 {
		t.Fatalf("a proposal of 10,000 block bytes counts %d", size)
	}
	for _, to := range []int{1, 2, 3} {
		s.transmit(0, to, p)
	}
	if len(s.q) != 3 {
		t.Fatalf("%d copies queued", len(s.q))
	}
	for _, ev := range s.q {
		// the copy to node i has left after i*size/100 ms
		leave := 5 + (uint64(ev.to)*uint64(size)+99)/100
		if ev.at != leave+20 {
			t.Fatalf("copy to %d of %d bytes arrives at %d, want %d", ev.to, size, ev.at, leave+20)
		}
	}
}

// TestWireSizes pins the sizes the simulation counts to node/p2p's wire
// layout (EncodeMessage): a vote is 175 bytes.
func TestWireSizes(t *testing.T) {
	s := New(Config{Seed: 1, Powers: Powers(4, false)})
	v := Message{Vote: &consensus.Vote{Type: consensus.Prevote, Height: 1, Signature: make([]byte, 64)}}
	if k, n := s.wireSize(v); k != TrafficVote || n != 175 {
		t.Fatalf("vote: %v %d bytes, want 175", k, n)
	}
	st := Message{Status: &consensus.Status{Height: 1, Has: [2]consensus.RoundHas{{Prevotes: []byte{1}, Precommits: []byte{1}}, {}}}}
	if k, n := s.wireSize(st); k != TrafficStatus || n != wireHeaderBytes+13+4*4+2 {
		t.Fatalf("status: %v %d bytes", k, n)
	}
	if _, g := s.sizeOf(v, 1, nil); g <= 175+envelopeBytes {
		t.Fatalf("a gossiped vote counts %d bytes, less than its envelope", g)
	}
}

// TestGossipIDontWantSkips: a node does not forward a publication to a
// mesh peer that said it does not want it, and forwards it to the
// others but the sender.
func TestGossipIDontWantSkips(t *testing.T) {
	s := New(Config{Seed: 1, Powers: Powers(8, false), Gossip: DefaultGossip()})
	s.q = nil
	g := s.gossip
	mesh := g.mesh[0]
	if len(mesh) < 3 {
		t.Fatalf("node 0 has %d mesh peers", len(mesh))
	}
	g.unwanted[0][[2]uint64{uint64(mesh[1]), 99}] = true
	ev := event{from: mesh[0], to: 0, pub: 99, msg: Message{Vote: &consensus.Vote{Height: 1, Signature: make([]byte, 64)}}}
	s.forward(ev)
	got := map[int]bool{}
	for _, e := range s.q {
		if e.pub != 99 || e.from != 0 || e.msg.From != (consensus.Address{}) {
			t.Fatalf("forwarded %+v", e)
		}
		got[e.to] = true
	}
	for _, p := range mesh {
		if want := p != mesh[0] && p != mesh[1]; got[p] != want {
			t.Fatalf("mesh peer %d: forwarded %v, want %v (sender %d, unwanted %d)", p, got[p], want, mesh[0], mesh[1])
		}
	}
	if len(got) != len(mesh)-2 {
		t.Fatalf("forwarded to %d peers, mesh has %d", len(got), len(mesh))
	}
}
