package consensustest

import (
	"container/heap"
	"math"
	"math/rand/v2"
	"time"
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
	pub      uint64   // gossip publication (Config.Gossip); 0 on a direct stream
	ctl      *control // a gossip control message instead of msg
	checked  bool     // its recipient has spent the CPU to check it (Config.VerifyCost)
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
// [MinDelay, MaxDelay] (so messages reorder), and duplicated. Under a
// WAN model the delay is the model's instead (see WAN).
func (s *Sim) transmit(from, to int, m Message) { s.post(from, to, m, 0, nil) }

// post puts a message on the network: m, which is gossip publication pub
// (0 for a message sent on a direct stream), or the gossip control
// message ctl (then m is empty).
func (s *Sim) post(from, to int, m Message, pub uint64, ctl *control) {
	kind, size := s.sizeOf(m, pub, ctl)
	s.stats.Traffic[kind].Messages++
	s.stats.Traffic[kind].Bytes += int64(size)
	if ctl == nil {
		s.mon.record(m)
	}
	for _, p := range s.cfg.Partitions {
		if p.separates(from, to, s.now) {
			s.stats.Dropped++
			return
		}
	}
	if s.wan != nil {
		s.wan.post(s, event{from: from, to: to, msg: m, pub: pub, ctl: ctl}, size)
		return
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
		heap.Push(&s.q, event{at: s.now + d, seq: s.seq, from: from, to: to, msg: m, pub: pub, ctl: ctl})
	}
}

// WAN is a wide-area latency model in place of Config.MinDelay and
// MaxDelay, deterministic from the run's seed. Each validator sits at a
// random longitude (a seeded geography); the one-way delay of a link is
// a base that grows linearly with the arc between its two ends, from Min
// ticks (same place) to Max-Jitter (opposite sides of the globe), plus a
// jitter drawn per message in [0, Jitter]. Links are FIFO, as TCP and
// QUIC streams are: a message never overtakes an earlier one on its link.
// A tick is a millisecond of simulated time (Sim.Now).
//
// Config.Loss drops a message with that probability and Config.Dup
// delivers it twice, as without the model. (Over TCP a lost packet is
// retransmitted, which shows as delay; a dropped message is the harsher
// case of a full gossip queue or a broken connection.)
//
// Bandwidth, if positive, is each node's upload in bytes per second: a
// message leaves its sender once the messages it sent before have left,
// after size/Bandwidth seconds of its own, so that at 100 validators a
// proposer's block to every peer takes its time. Download is not limited.
type WAN struct {
	Min, Max, Jitter uint64
	Bandwidth        int64
}

// DefaultWAN is 20 to 150 ms one way: 20 to 140 ms by distance plus up
// to 10 ms of jitter, unlimited bandwidth.
var DefaultWAN = WAN{Min: 20, Max: 150, Jitter: 10}

// wan is a WAN model's state in a run.
type wan struct {
	WAN
	rng  *rand.Rand
	n    int
	base []uint64 // base[from*n+to]: the link's delay in ticks before jitter
	last []uint64 // last[from*n+to]: the latest arrival on the link (FIFO)
	up   []uint64 // up[from]: when the node's upload is free, in nanoseconds
}

// newWAN places n nodes with a random source of their own, drawn from
// seed, so that the model never draws from the simulation's.
func newWAN(m WAN, seed uint64, n int) *wan {
	if m.Min == 0 {
		m.Min = 1
	}
	if m.Max < m.Min+m.Jitter {
		m.Max = m.Min + m.Jitter
	}
	w := &wan{WAN: m, rng: rand.New(rand.NewPCG(seed, 0x3a11)), n: n,
		base: make([]uint64, n*n), last: make([]uint64, n*n), up: make([]uint64, n)}
	lon := make([]float64, n)
	for i := range lon {
		lon[i] = w.rng.Float64() * 2 * math.Pi
	}
	span := float64(m.Max - m.Jitter - m.Min)
	for i := range n {
		for j := range n {
			arc := math.Abs(lon[i] - lon[j])
			if arc > math.Pi {
				arc = 2*math.Pi - arc
			}
			w.base[i*n+j] = m.Min + uint64(math.Round(span*arc/math.Pi))
		}
	}
	return w
}

// Delay returns the base one-way delay in ticks from node a to node b
// under the run's WAN model (0 without one).
func (s *Sim) Delay(a, b int) uint64 {
	if s.wan == nil {
		return 0
	}
	return s.wan.base[a*s.wan.n+b]
}

// post queues ev, of size bytes, for delivery after its link's delay.
func (w *wan) post(s *Sim, ev event, size int) {
	if s.cfg.Loss > 0 && w.rng.Float64() < s.cfg.Loss {
		s.stats.Dropped++
		return
	}
	copies := 1
	if s.cfg.Dup > 0 && w.rng.Float64() < s.cfg.Dup {
		copies = 2
	}
	link := ev.from*w.n + ev.to
	for range copies {
		leave := s.now * uint64(time.Millisecond)
		if w.Bandwidth > 0 {
			leave = max(leave, w.up[ev.from]) + uint64(size)*uint64(time.Second)/uint64(w.Bandwidth)
			w.up[ev.from] = leave
		}
		d := w.base[link]
		if w.Jitter > 0 {
			d += w.rng.Uint64N(w.Jitter + 1)
		}
		at := (leave + uint64(time.Millisecond) - 1) / uint64(time.Millisecond) // the tick it has left by
		at = max(at+d, w.last[link], s.now+1)
		w.last[link] = at
		s.seq++
		ev.at, ev.seq = at, s.seq
		heap.Push(&s.q, ev)
	}
}
