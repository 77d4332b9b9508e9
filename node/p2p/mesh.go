package p2p

import (
	"fmt"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
)

// Mesh degrees: how many peers a node relays each gossip message to.
const (
	// DefaultMeshDegree is go-libp2p-pubsub's mesh degree D (a mesh of
	// 5 to 12 peers), made for networks of hundreds of peers.
	DefaultMeshDegree = 6
	// MinMeshDegree is the smallest mesh degree a Host takes: with one
	// mesh peer a node's relays form pairs, not a connected graph.
	MinMeshDegree = 2
)

// MeshDegreeFor returns the mesh degree for a chain of n validators:
// half of them, rounded up, from MinMeshDegree to DefaultMeshDegree (2
// for up to 4 validators, 6 from 11).
//
// A node publishes its own messages to every peer it is connected to
// (flood publishing), so a relay only helps a peer that the publisher
// is not connected to, or that it left out. Among a few validators,
// which are all connected to one another, a mesh of every peer makes
// each node receive each message once from its publisher and once from
// every other peer: 3 copies with 4 validators, of which 2 are dropped
// as duplicates after they cost their transport, decoding and hashing
// (docs/benchmarks.md, stop 30: 9% of a validator's CPU under load).
// Relaying to half of the validators still reaches, from any node that
// has a message, every other one in a few hops; gossipsub's lazy gossip
// (IHAVE and IWANT every second) and the engine's Status answers fill
// what relays miss. From 11 validators on it is gossipsub's default, as
// docs/scale.md measures it.
func MeshDegreeFor(validators int) int {
	return min(DefaultMeshDegree, max(MinMeshDegree, (validators+1)/2))
}

// gossipParams returns the gossipsub parameters of mesh degree d (from
// MinMeshDegree to DefaultMeshDegree): go-libp2p-pubsub's defaults for
// DefaultMeshDegree. Below it the mesh is kept at d peers, pruned at
// the next heartbeat when grafts from others go beyond (Dhi = d; the
// default lets a mesh grow to twice D, every peer of a small network),
// and grafted up when it falls under d-1 (at least MinMeshDegree).
// Dscore and Dout, the peers kept by score and the outbound ones kept
// on pruning, shrink with it as gossipsub requires (Dscore <= Dhi, Dout
// < Dlo and Dout < D/2).
func gossipParams(d int) (pubsub.GossipSubParams, error) {
	p := pubsub.DefaultGossipSubParams()
	if d < MinMeshDegree || d > DefaultMeshDegree {
		return p, fmt.Errorf("p2p: mesh degree %d: want %d to %d", d, MinMeshDegree, DefaultMeshDegree)
	}
	if d == p.D {
		return p, nil
	}
	p.D, p.Dlo, p.Dhi = d, max(MinMeshDegree, d-1), d
	p.Dscore = min(p.Dscore, d)
	p.Dout = max(0, d/2-1)
	return p, nil
}
