package consensustest

import (
	"math/rand/v2"
	"slices"

	"github.com/idmesh/idmesh/node/consensus"
)

// Gossip models the gossipsub network idmesh's nodes run (node/p2p, on
// go-libp2p-pubsub with its default parameters) in place of a direct
// send to every peer. With it, an honest node's proposals, votes and
// decided blocks to everyone are gossip publications:
//
//   - Flood publishing (pubsub.WithFloodPublish, which node/p2p sets): the
//     publisher sends its own message to every peer.
//   - Mesh forwarding: a node that receives a publication for the first
//     time hands it to its engine and, if the engine accepts it (as the
//     topic validator accepts a message whose signature verifies),
//     forwards it to its mesh peers except the one it came from. The mesh
//     is a random graph of degree D (Dlo to Dhi) fixed for the run.
//     Copies of a publication a node has seen are dropped before its
//     engine (the seen-messages cache; node/p2p names a message by the
//     hash of its envelope, whose sequence number is new per
//     publication).
//   - IDONTWANT (gossipsub 1.2): a node receiving a publication of at
//     least IDontWantBytes first tells its other mesh peers, which then
//     do not forward it that copy if the notice arrived in time.
//   - Lazy gossip: every Heartbeat each node sends IHAVE, the IDs of the
//     publications it saw in the last HistoryGossip heartbeats, to
//     max(Dlazy, GossipFactor x its non-mesh peers) random non-mesh
//     peers; one that lacks some answers IWANT and gets them from the
//     message cache (HistoryLength heartbeats).
//
// A Status and a message with To set go over a direct stream to their
// peers (never gossiped), as in node/p2p. What the model leaves out:
// mesh maintenance (GRAFT, PRUNE, peer exchange: the mesh is fixed),
// peer scoring (all peers are honest), IWANT promises and limits, and
// queue overflows. Gossip supersedes Config.Relay.
type Gossip struct {
	D, Dlo, Dhi         int
	Dlazy               int
	GossipFactor        float64
	Heartbeat           uint64 // ticks
	HistoryGossip       int
	HistoryLength       int
	IDontWantBytes      int
	MaxIHaveLength      int
	TopicBytes          int // the length of the consensus topic's name
	DirectProtocolBytes int // the length of the direct protocol's ID
}

// DefaultGossip returns go-libp2p-pubsub's defaults, which node/p2p
// keeps: D 6 (5 to 12), Dlazy 6, gossip factor 0.25, a heartbeat of one
// second, IHAVE over the last 3 heartbeats from a cache of 5, IDONTWANT
// from 1 KiB, at most 5,000 IDs an IHAVE.
func DefaultGossip() *Gossip {
	return &Gossip{D: 6, Dlo: 5, Dhi: 12, Dlazy: 6, GossipFactor: 0.25, Heartbeat: 1000,
		HistoryGossip: 3, HistoryLength: 5, IDontWantBytes: 1024, MaxIHaveLength: 5000}
}

// control is a gossip control message.
type control struct {
	kind ctlKind
	ids  []uint64 // publications
}

type ctlKind uint8

const (
	ctlIHave ctlKind = iota + 1
	ctlIWant
	ctlIDontWant
)

// cached is a publication in a node's message cache.
type cached struct {
	pub    uint64
	window int // the node's heartbeat count when it was cached
	msg    Message
}

// gossip is the model's state in a run.
type gossip struct {
	Gossip
	rng   *rand.Rand
	mesh  [][]int // mesh[i]: node i's mesh peers, in order
	inMsh [][]bool
	phase []uint64 // heartbeat offset per node
	// Per node: publications seen, the message cache, the heartbeat
	// count, and the IDONTWANTs received (from peer, publication).
	seen     []map[uint64]bool
	cache    [][]cached
	window   []int
	unwanted []map[[2]uint64]bool
	pubs     uint64 // the last publication's number
}

func newGossip(g Gossip, seed uint64, n int) *gossip {
	st := &gossip{Gossip: g, rng: rand.New(rand.NewPCG(seed, 0x6055)), mesh: make([][]int, n), inMsh: make([][]bool, n),
		phase: make([]uint64, n), seen: make([]map[uint64]bool, n), cache: make([][]cached, n), window: make([]int, n),
		unwanted: make([]map[[2]uint64]bool, n)}
	for i := range n {
		st.inMsh[i] = make([]bool, n)
		st.seen[i] = map[uint64]bool{}
		st.unwanted[i] = map[[2]uint64]bool{}
		st.phase[i] = st.rng.Uint64N(max(g.Heartbeat, 1))
	}
	// The mesh: each node in turn grafts random peers until it has D,
	// among those with fewer than Dhi.
	for _, i := range st.rng.Perm(n) {
		for _, j := range st.rng.Perm(n) {
			if len(st.mesh[i]) >= g.D {
				break
			}
			if j == i || st.inMsh[i][j] || len(st.mesh[j]) >= g.Dhi {
				continue
			}
			st.inMsh[i][j], st.inMsh[j][i] = true, true
			st.mesh[i] = append(st.mesh[i], j)
			st.mesh[j] = append(st.mesh[j], i)
		}
	}
	for i := range st.mesh {
		slices.Sort(st.mesh[i])
	}
	return st
}

// MeshPeers returns node i's gossip mesh peers (nil without Config.Gossip).
func (s *Sim) MeshPeers(i int) []int {
	if s.gossip == nil {
		return nil
	}
	return slices.Clone(s.gossip.mesh[i])
}

// publish gossips honest node n's message m to everyone: flood
// publishing to every peer.
func (s *Sim) publish(n *Node, m Message) {
	g := s.gossip
	g.pubs++
	pub := g.pubs
	g.seen[n.Index][pub] = true
	g.put(n.Index, pub, m)
	for _, p := range n.Peers() {
		s.stats.Sent++
		s.post(n.Index, p, m, pub, nil)
	}
}

func (g *gossip) put(i int, pub uint64, m Message) {
	g.cache[i] = append(g.cache[i], cached{pub: pub, window: g.window[i], msg: m})
}

// receive handles a copy of publication ev.pub at its recipient: it
// reports whether it is the first (to be handed to the engine), and
// sends IDONTWANT for a large one.
func (s *Sim) receive(ev event) bool {
	g := s.gossip
	if g.seen[ev.to][ev.pub] {
		s.stats.Duplicates++
		return false
	}
	g.seen[ev.to][ev.pub] = true
	if _, size := s.sizeOf(ev.msg, ev.pub, nil); size >= g.IDontWantBytes {
		for _, p := range g.mesh[ev.to] {
			if p != ev.from {
				s.post(ev.to, p, Message{}, 0, &control{kind: ctlIDontWant, ids: []uint64{ev.pub}})
			}
		}
	}
	return true
}

// forward passes publication ev.pub, accepted at its recipient, to the
// recipient's mesh peers.
func (s *Sim) forward(ev event) {
	g := s.gossip
	i := ev.to
	m := ev.msg
	// Past the first hop a message names no sender: node/p2p binds From
	// to the peer it came from only when that peer is its publisher, so
	// an engine never answers a relayed message.
	m.From = consensus.Address{}
	g.put(i, ev.pub, m)
	for _, p := range g.mesh[i] {
		if p == ev.from || g.unwanted[i][[2]uint64{uint64(p), ev.pub}] {
			continue
		}
		s.stats.Sent++
		s.stats.Forwarded++
		s.post(i, p, m, ev.pub, nil)
	}
}

// control handles a gossip control message at its recipient.
func (s *Sim) control(ev event) {
	g := s.gossip
	i := ev.to
	switch ev.ctl.kind {
	case ctlIDontWant:
		for _, id := range ev.ctl.ids {
			g.unwanted[i][[2]uint64{uint64(ev.from), id}] = true
		}
	case ctlIHave:
		var want []uint64
		for _, id := range ev.ctl.ids {
			if !g.seen[i][id] {
				want = append(want, id)
			}
		}
		if len(want) > 0 {
			s.post(i, ev.from, Message{}, 0, &control{kind: ctlIWant, ids: want})
		}
	case ctlIWant:
		for _, id := range ev.ctl.ids {
			for _, c := range g.cache[i] {
				if c.pub == id {
					s.stats.Sent++
					s.stats.Served++
					s.post(i, ev.from, c.msg, c.pub, nil)
					break
				}
			}
		}
	}
}

// heartbeats runs the heartbeat of every node whose heartbeat falls on
// this tick: IHAVE to random non-mesh peers, then the cache shifts.
func (s *Sim) heartbeats() {
	g := s.gossip
	if g.Heartbeat == 0 {
		return
	}
	for i := range s.nodes {
		if (s.now+g.phase[i])%g.Heartbeat != 0 {
			continue
		}
		var ids []uint64
		for _, c := range g.cache[i] {
			if c.window > g.window[i]-g.HistoryGossip && len(ids) < g.MaxIHaveLength {
				ids = append(ids, c.pub)
			}
		}
		if len(ids) > 0 && s.nodes[i].Honest() {
			var others []int
			for j := range s.nodes {
				if j != i && !g.inMsh[i][j] {
					others = append(others, j)
				}
			}
			target := max(g.Dlazy, int(g.GossipFactor*float64(len(others))))
			g.rng.Shuffle(len(others), func(a, b int) { others[a], others[b] = others[b], others[a] })
			for _, p := range others[:min(target, len(others))] {
				s.post(i, p, Message{}, 0, &control{kind: ctlIHave, ids: ids})
			}
		}
		g.window[i]++
		keep := g.cache[i][:0]
		for _, c := range g.cache[i] {
			if c.window > g.window[i]-g.HistoryLength {
				keep = append(keep, c)
			}
		}
		g.cache[i] = keep
		for k := range g.unwanted[i] {
			// IDONTWANTs are kept three heartbeats; publications are
			// numbered in order, so old ones are below the cache.
			if len(g.cache[i]) == 0 || k[1] < g.cache[i][0].pub {
				delete(g.unwanted[i], k)
			}
		}
	}
}
