package consensustest

import (
	"container/heap"
)

// Partition cuts Nodes off from every other node during ticks [From, To):
// messages sent between the two sides in that interval are lost.
type Partition struct {
	From, To uint64
	Nodes    []int
}

func (p Partition) separates(a, b int, tick uint64) bool {
	if tick < p.From || tick >= p.To {
		return false
	}
	in := func(x int) bool {
		for _, n := range p.Nodes {
			if n == x {
				return true
			}
		}
		return false
	}
	return in(a) != in(b)
}

// event is a message in flight, due at tick; seq breaks ties in the order
// the messages were sent, so the queue's order is total and deterministic.
type event struct {
	at, seq  uint64
	from, to int
	msg      Message
}

type queue []event

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(event)) }
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

var _ heap.Interface = (*queue)(nil)

// transmit puts m from node from to node to on the network: it may be
// lost (partition or loss), delayed by a random number of ticks in
// [MinDelay, MaxDelay] (so messages reorder), and duplicated.
func (s *Sim) transmit(from, to int, m Message) {
	s.mon.record(m)
	for _, p := range s.cfg.Partitions {
		if p.separates(from, to, s.now) {
			s.stats.Dropped++
			return
		}
	}
	if s.cfg.Loss > 0 && s.rng.Float64() < s.cfg.Loss {
		s.stats.Dropped++
		return
	}
	copies := 1
	if s.cfg.Dup > 0 && s.rng.Float64() < s.cfg.Dup {
		copies = 2
	}
	for range copies {
		d := s.cfg.MinDelay
		if s.cfg.MaxDelay > s.cfg.MinDelay {
			d += s.rng.Uint64N(s.cfg.MaxDelay - s.cfg.MinDelay + 1)
		}
		s.seq++
		heap.Push(&s.q, event{at: s.now + d, seq: s.seq, from: from, to: to, msg: m})
	}
}
